import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { Reconciler, twinObjectKey } from '@brine/jobs';
import { MemorySource } from '@brine/bytes';
import { SCANNER_VERSION } from '@brine/scanner';
import { prepareTwin } from '@brine/twin';
import { FIXTURES } from '../helpers/paths';
import { eventually, put, scanned, startStack, type Stack, type VersionRecord } from '../helpers/stack';

/** The safetensors twin end to end: written by the worker into S3, scanned, served, re-made by the reconciler. */
let s: Stack;
before(async () => {
  s = await startStack();
});
after(async () => {
  await s?.close();
});

const twinFile = (f: string) => readFileSync(join(FIXTURES, 'twin', f));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Twin {
  status: string;
  sha256: string | null;
  size: number | null;
  tensors: number | null;
  aliases: Record<string, string>;
  leftOut: Array<{ key: string; reason: string }>;
  verdict: string | null;
  error: string | null;
  file: string | null;
}

async function twinOf(name: string, version: string, timeoutMs = 30_000): Promise<Twin> {
  return eventually(
    async () => {
      const v = (await (await s.api(`/checkpoints/${name}/${version}`)).json()) as VersionRecord & {
        twin: Twin | null;
      };
      return v.twin && !['pending', 'converting'].includes(v.twin.status) ? v.twin : undefined;
    },
    timeoutMs,
    `the safetensors twin of ${name}:${version}`,
  );
}

async function download(name: string, version: string, headers: Record<string, string> = {}) {
  const r = await s.api(`/checkpoints/${name}/${version}/file?format=safetensors`, { headers });
  return { r, body: Buffer.from(await r.arrayBuffer()) };
}

describe('safetensors twin', () => {
  it('is written for a safe state dict, scanned safe and served with its own SHA-256', async () => {
    const bytes = twinFile('sd_views.pt');
    assert.equal((await put(s, 'tw', 'v1', bytes, { 'x-brine-filename': 'views.pt' })).status, 201);
    assert.equal((await scanned(s, 'tw', 'v1')).scan.verdict, 'safe');
    const t = await twinOf('tw', 'v1');
    assert.equal(t.status, 'done', t.error ?? '');
    assert.equal(t.verdict, 'safe');
    assert.deepEqual(t.aliases, { 'head.weight': 'embed.weight' });
    assert.equal(t.tensors, 10);
    assert.ok(t.file?.endsWith('/checkpoints/tw/v1/file?format=safetensors'));
    const { r, body } = await download('tw', 'v1');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-checksum-sha256'), t.sha256);
    assert.equal(sha(body), t.sha256);
    assert.equal(body.length, t.size);
    assert.match(r.headers.get('content-disposition') ?? '', /views\.safetensors/);
    // exactly the bytes the same conversion makes locally (the worker reads the original by range from S3)
    const local = await prepareTwin(
      new MemorySource(bytes),
      { path: 'tw:v1' },
      {
        'brine.source': 'tw:v1',
        'brine.source_sha256': sha(bytes),
        'brine.converter': `brine scanner ${SCANNER_VERSION}`,
      },
    );
    assert.ok(local.plan);
    const chunks: Buffer[] = [];
    for await (const c of local.bytes()) chunks.push(Buffer.from(c));
    assert.equal(sha(Buffer.concat(chunks)), t.sha256);
    // ranges work on the twin too
    const part = await download('tw', 'v1', { range: 'bytes=0-7' });
    assert.equal(part.r.status, 206);
    assert.equal(part.body.readBigUInt64LE(0) + 8n <= BigInt(body.length), true);
  });

  it('holds a training checkpoint’s model state dict and lists what a state dict leaves out', async () => {
    await put(s, 'tw', 'ckpt', twinFile('ckpt_training.pt'));
    await put(s, 'tw', 'left', twinFile('sd_left_out.pt'));
    const ckpt = await twinOf('tw', 'ckpt');
    assert.equal(ckpt.status, 'done', ckpt.error ?? '');
    assert.equal(ckpt.tensors, 9, 'two linear layers (2 + 2) and a batch norm (5)');
    const left = await twinOf('tw', 'left');
    assert.equal(left.status, 'done', left.error ?? '');
    assert.deepEqual(left.leftOut.map((x) => x.key).sort(), ['q', 'sparse']);
    assert.match(left.leftOut.find((x) => x.key === 'sparse')?.reason ?? '', /sparse/);
  });

  it('is not offered for what is not safe or not a torch zip state dict, and says why', async () => {
    await put(s, 'tw', 'evil', readFileSync(join(FIXTURES, 'files', 'h_os_system_zip.pt')));
    await put(s, 'tw', 'legacy', readFileSync(join(FIXTURES, 'files', 'b_legacy_state_dict.pt')));
    for (const [v, why] of [
      ['evil', /only safe versions/],
      ['legacy', /gets no safetensors twin/],
    ] as const) {
      const rec = (await scanned(s, 'tw', v)) as VersionRecord & { twin: unknown };
      assert.equal(rec.twin, null);
      const { r, body } = await download('tw', v);
      assert.equal(r.status, 404);
      assert.match(body.toString(), why);
    }
  });

  it('is made again by the reconciler when its job is lost, and goes with its version', async () => {
    const db = new Client({ connectionString: s.directDatabaseUrl });
    await db.connect();
    try {
      const [{ id }] = (
        await db.query(
          `SELECT v.id FROM versions v JOIN checkpoints c ON c.id = v.checkpoint_id WHERE c.name = 'tw' AND v.version = 'v1'`,
        )
      ).rows as Array<{ id: string }>;
      const before = await twinOf('tw', 'v1');
      // the twin is gone from S3 and its row is pending again, with no job: the reconciler must notice
      await s.rt.store.delete(twinObjectKey(id));
      await db.query(
        `UPDATE twins SET status = 'pending', object_key = NULL, sha256 = NULL WHERE version_id = $1`,
        [id],
      );
      assert.equal((await download('tw', 'v1')).r.status, 404);
      await s.app.get(Reconciler).tick();
      const again = await twinOf('tw', 'v1');
      assert.equal(again.status, 'done');
      assert.equal(again.sha256, before.sha256, 'the conversion is deterministic');
      assert.equal((await download('tw', 'v1')).r.status, 200);
      // deleting the version deletes both objects
      assert.equal((await s.api('/checkpoints/tw/v1', { method: 'DELETE' })).status, 204);
      await eventually(async () => ((await s.rt.store.size(twinObjectKey(id))) === null ? true : undefined));
      assert.equal((await db.query('SELECT 1 FROM twins WHERE version_id = $1', [id])).rows.length, 0);
    } finally {
      await db.end();
    }
  });
});
