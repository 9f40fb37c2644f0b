import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { loadConfig, type Config } from '@brine/config';
import { startRuntime, stopRuntime, type Runtime } from '@brine/runtime';
import { startEmbeddedS3, type EmbeddedS3 } from '@brine/storage';
import { createApiServer } from '../../apps/api/src/server';
import { FaultProxy } from './fault-proxy';

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
  /** the fault proxies the registry reaches its dependencies through (those asked for in startStack's `faults`) */
  proxies: { postgres?: FaultProxy; redis?: FaultProxy; s3?: FaultProxy };
  /** the S3 server the stack uses (embedded in the runtime, or started here to sit behind a proxy) */
  s3: { endpoint: string; server: EmbeddedS3 };
  /** the database's and Redis's URLs without any proxy, for a test's own checks */
  directDatabaseUrl: string;
  directRedisUrl: string;
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

export interface StackOptions {
  withWorker?: boolean;
  env?: Record<string, string>;
  /** put a fault proxy in front of these dependencies (S3 then runs as its own server, not embedded) */
  faults?: Array<'postgres' | 'redis' | 's3'>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  await sweepOldTestDatabases();
  const id = testId();
  const dataDir = mkdtempSync(join(tmpdir(), `brine-test-${id}-`));
  const adminToken = `brine_test_${randomBytes(24).toString('base64url')}`;
  const faults = new Set(opts.faults ?? []);
  const proxies: Stack['proxies'] = {};
  const directDatabaseUrl = `${PG_BASE}/brine_test_${id}`;
  let databaseUrl = directDatabaseUrl;
  let redisUrl = REDIS;
  const env: Record<string, string> = {};
  let s3Server: EmbeddedS3 | null = null;
  if (faults.has('postgres')) {
    proxies.postgres = await FaultProxy.start({ port: Number(new URL(PG_BASE).port || 5432) });
    databaseUrl = proxies.postgres.url(directDatabaseUrl);
  }
  if (faults.has('redis')) {
    proxies.redis = await FaultProxy.start({ port: Number(new URL(REDIS).port || 6379) });
    redisUrl = proxies.redis.url(REDIS);
  }
  if (faults.has('s3')) {
    s3Server = await startEmbeddedS3(join(dataDir, 's3'), 0);
    proxies.s3 = await FaultProxy.start({ port: Number(new URL(s3Server.endpoint).port) });
    env.S3_ENDPOINT = proxies.s3.url(s3Server.endpoint);
  }
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    BRINE_QUEUE_PREFIX: `brine-test-${id}`,
    BRINE_DATA_DIR: dataDir,
    BRINE_ADMIN_TOKEN: adminToken,
    PORT: '0',
    BRINE_RECONCILE_INTERVAL: '1',
    BRINE_JOB_LOCK_MS: '3000',
    BRINE_WEBHOOK_ALLOW_PRIVATE: 'true',
    ...env,
    ...opts.env,
  });
  const rt = await startRuntime(config);
  const server = s3Server ?? rt.embedded;
  if (!server) throw new Error('the test stack needs an s3rver of its own');
  if (s3Server) {
    // the runtime does not know its S3 is an s3rver: give it the part-file cleanup the embedded server gets
    const srv = s3Server;
    rt.store.discardParts = (which) => srv.removeUploads(config.s3.bucket, which);
  }
  const { app } = await createApiServer(rt, {
    withWorker: opts.withWorker ?? true,
    logs: process.env.BRINE_TEST_LOGS ? 'text' : 'off',
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
    proxies,
    s3: { endpoint: s3Server ? s3Server.endpoint : (rt.embedded?.endpoint ?? ''), server },
    directDatabaseUrl,
    directRedisUrl: REDIS,
    api,
    async close() {
      for (const p of Object.values(proxies)) await p.set('pass');
      await app.close();
      await stopRuntime(rt);
      for (const p of Object.values(proxies)) await p.close();
      await s3Server?.close();
      await dropDatabaseAndQueues(directDatabaseUrl, REDIS, config.queuePrefix);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
