import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { loadConfig, type Config } from '@brine/config';
import { startRuntime, stopRuntime, type Runtime } from '@brine/registry';
import { createApiServer } from '../../apps/api/src/server';

/**
 * A complete registry for one test file: its own database, queue prefix, data folder and embedded S3 server, on
 * the machine's real PostgreSQL and Redis. close() removes all of it.
 */
export interface Stack {
  url: string;
  adminToken: string;
  config: Config;
  rt: Runtime;
  app: INestApplication;
  /** fetch with the admin token (or another) and JSON handling */
  api(path: string, init?: RequestInit & { token?: string | null; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

const PG_BASE = process.env.BRINE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS = process.env.BRINE_TEST_REDIS ?? 'redis://127.0.0.1:6379';

export function testId(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

let swept = false;

/** drops test databases an interrupted run left behind (their names carry a base-36 timestamp) */
async function sweepOldTestDatabases(): Promise<void> {
  if (swept) return;
  swept = true;
  const admin = new Client({ connectionString: `${PG_BASE}/postgres` });
  await admin.connect();
  try {
    const rows = (await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE 'brine_test_%'`))
      .rows as Array<{ datname: string }>;
    for (const { datname } of rows) {
      const born = parseInt(datname.slice('brine_test_'.length, 'brine_test_'.length + 8), 36);
      if (Number.isFinite(born) && Date.now() - born > 6 * 3600_000)
        await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

export async function startStack(
  opts: { withWorker?: boolean; env?: Record<string, string> } = {},
): Promise<Stack> {
  await sweepOldTestDatabases();
  const id = testId();
  const dataDir = mkdtempSync(join(tmpdir(), `brine-test-${id}-`));
  const adminToken = `brine_test_${randomBytes(24).toString('base64url')}`;
  const config = loadConfig({
    DATABASE_URL: `${PG_BASE}/brine_test_${id}`,
    REDIS_URL: REDIS,
    BRINE_QUEUE_PREFIX: `brine-test-${id}`,
    BRINE_DATA_DIR: dataDir,
    BRINE_ADMIN_TOKEN: adminToken,
    PORT: '0',
    BRINE_RECONCILE_INTERVAL: '1',
    BRINE_JOB_LOCK_MS: '3000',
    BRINE_WEBHOOK_ALLOW_PRIVATE: 'true',
    ...opts.env,
  });
  const rt = await startRuntime(config);
  const { app } = await createApiServer(rt, {
    withWorker: opts.withWorker ?? true,
    logger: process.env.BRINE_TEST_LOGS ? undefined : false,
  });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  config.publicUrl = url;
  const api: Stack['api'] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    const token = init.token === undefined ? adminToken : init.token;
    if (token) headers.set('authorization', `Bearer ${token}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    return fetch(`${url}${path}`, { ...init, headers, body });
  };
  return {
    url,
    adminToken,
    config,
    rt,
    app,
    api,
    async close() {
      await app.close();
      await stopRuntime(rt);
      await dropEverything(config, dataDir);
    },
  };
}

/** removes a test run's database, Redis keys and data folder */
export async function dropEverything(config: Config, dataDir: string): Promise<void> {
  await dropDatabaseAndQueues(config.databaseUrl, config.redisUrl, config.queuePrefix);
  rmSync(dataDir, { recursive: true, force: true });
}

/** drops a throw-away database and every Redis key under a queue prefix (tests and benchmarks) */
export async function dropDatabaseAndQueues(
  databaseUrl: string,
  redisUrl: string,
  prefix: string,
): Promise<void> {
  const url = new URL(databaseUrl);
  const db = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  const redis = new IORedis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** polls until fn returns a value (not undefined), or fails after timeoutMs */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** PUT a file as a version; returns the response */
export function put(
  s: Stack,
  name: string,
  version: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
  token?: string | null,
): Promise<Response> {
  return s.api(`/checkpoints/${name}/${version}`, {
    method: 'PUT',
    token,
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body,
  });
}

export type VersionRecord = Record<string, unknown> & {
  version: string;
  sha256: string;
  tags: string[];
  scan: Record<string, unknown> & { status: string; verdict: string | null };
};

/** waits until the version's scan finished and returns the version record */
export async function scanned(
  s: Stack,
  name: string,
  version: string,
  timeoutMs = 30_000,
): Promise<VersionRecord> {
  return eventually<VersionRecord>(
    async () => {
      const r = await s.api(`/checkpoints/${name}/${version}`);
      const v = (await r.json()) as VersionRecord;
      return v.scan.status === 'done' || v.scan.status === 'failed' ? v : undefined;
    },
    timeoutMs,
    `the scan of ${name}:${version}`,
  );
}
