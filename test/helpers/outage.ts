import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { FIXTURES } from './paths';
import type { Stack } from './stack';

/** Shared checks for the fault-injection suite: what every outage must leave behind (nothing) and end with. */

interface Expected {
  verdict: string;
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
  string,
  Expected
>;

/** `n` fixtures cycling through safe and dangerous ones, with the verdict each must end with */
export function fixtureMix(n: number): Array<{ file: string; bytes: Buffer; verdict: string }> {
  const safe = Object.keys(expected).filter((f) => expected[f].verdict === 'safe');
  const dangerous = Object.keys(expected).filter((f) => expected[f].verdict === 'dangerous');
  const out = [];
  for (let i = 0; i < n; i++) {
    const pool = i % 4 === 3 ? dangerous : safe;
    const file = pool[Math.floor(i / (i % 4 === 3 ? 4 : 1)) % pool.length];
    out.push({ file, bytes: readFileSync(join(FIXTURES, 'files', file)), verdict: expected[file].verdict });
  }
  return out;
}

/** a request that must get an answer (any) within `ms`: returns it and how long it took */
export async function answeredWithin(
  ms: number,
  request: (signal: AbortSignal) => Promise<Response>,
): Promise<{ response: Response; elapsedMs: number; body: string }> {
  const started = Date.now();
  const response = await request(AbortSignal.timeout(ms));
  const body = await response.text();
  const elapsedMs = Date.now() - started;
  assert.ok(elapsedMs <= ms, `answered after ${elapsedMs} ms`);
  return { response, elapsedMs, body };
}

/** asserts a 503 for a dependency outage: JSON, names the dependency, says when to retry */
export function assertOutage(r: { response: Response; body: string }, dependency: RegExp): void {
  assert.equal(r.response.status, 503, r.body);
  assert.ok(Number(r.response.headers.get('retry-after')) > 0, 'Retry-After');
  const { message } = JSON.parse(r.body) as { message: string };
  assert.match(message, dependency);
}

/**
 * Nothing orphaned: every stored object belongs to a version, no upload row is left, and the S3 server holds no
 * multipart parts. Polls (the sweeper may still be at work) until true or `timeoutMs`.
 */
export async function assertNothingOrphaned(s: Stack, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const db = new Client({ connectionString: s.directDatabaseUrl });
    await db.connect();
    try {
      const keys = new Set(
        ((await db.query('SELECT object_key FROM versions')).rows as Array<{ object_key: string }>).map(
          (r) => r.object_key,
        ),
      );
      const uploads = (await db.query('SELECT id FROM uploads')).rows.length;
      const orphans = (await s.rt.store.keys('objects/')).filter((k) => !keys.has(k));
      const partsDir = join(s.config.dataDir, 's3', s.config.s3.bucket, '._S3rver_uploads');
      const parts = existsSync(partsDir) ? readdirSync(partsDir) : [];
      last = `uploads rows ${uploads}, orphan objects ${orphans.length}, multipart uploads with parts ${parts.length}`;
      if (uploads === 0 && orphans.length === 0 && parts.length === 0) return;
    } finally {
      await db.end();
    }
    if (Date.now() > deadline) assert.fail(`orphans remain: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** the scan state of every version of a checkpoint */
export async function scanStates(
  s: Stack,
  name: string,
): Promise<Array<{ version: string; status: string; verdict: string | null; error: string | null }>> {
  const db = new Client({ connectionString: s.directDatabaseUrl });
  await db.connect();
  try {
    return (
      await db.query(
        `SELECT v.version, v.scan_status AS status, v.verdict, v.scan_error AS error FROM versions v
          JOIN checkpoints c ON c.id = v.checkpoint_id WHERE c.name = $1 ORDER BY v.version`,
        [name],
      )
    ).rows as Array<{ version: string; status: string; verdict: string | null; error: string | null }>;
  } finally {
    await db.end();
  }
}
