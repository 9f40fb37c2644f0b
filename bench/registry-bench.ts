import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess } from '../test/helpers/processes';
import { dropDatabaseAndQueues } from '../test/helpers/stack';
import { peakRssMB } from './direct-upload';
import { OUT_DIR, runNode, type BenchResult } from './bench-util';
import { writeSparseTorchZip } from './scanner-bench';

const PG_BASE = process.env.BRINE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS = process.env.BRINE_BENCH_REDIS ?? 'redis://127.0.0.1:6379';
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;
const ROUNDS = 2;

/**
 * Registry figures, each process on its own like a deployment: the embedded S3 server, the API (no worker in it),
 * one worker whose S3 traffic goes through a byte-counting proxy, and the baseline uploader. Measures the PUT of a
 * 2 GB torch zip through the API against a direct @aws-sdk/lib-storage upload of the same file to the same S3
 * server, the API's peak RSS, what the worker read from S3, and the time from the end of the PUT to the verdict.
 */
export async function registryBench(): Promise<BenchResult[]> {
  mkdirSync(OUT_DIR, { recursive: true });
  // BRINE_BENCH_STORAGES=4 makes a quick 256 MiB run instead of the 2 GiB one
  const storages = Number(process.env.BRINE_BENCH_STORAGES ?? 32);
  const file = join(OUT_DIR, storages === 32 ? 'big-2gb.pt' : `big-${storages}x64mb.pt`);
  if (!existsSync(file)) writeSparseTorchZip(file, storages, 64 * 1024 * 1024);
  const size = statSync(file).size;

  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), `brine-bench-${id}-`));
  const databaseUrl = `${PG_BASE}/brine_bench_${id}`;
  const prefix = `brine-bench-${id}`;
  const adminToken = `brine_bench_${randomBytes(24).toString('base64url')}`;
  const children: ChildProcess[] = [];
  let proxy: CountingProxy | undefined;
  try {
    const s3 = spawnNode('s3-server.js', [join(dataDir, 's3')], {});
    children.push(s3.child);
    const { endpoint } = JSON.parse(await s3.firstLine) as { endpoint: string };
    proxy = await countingProxy(Number(new URL(endpoint).port));
    const common = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: REDIS,
      BRINE_QUEUE_PREFIX: prefix,
      S3_BUCKET: 'brine',
      BRINE_UPLOAD_PART_SIZE: String(PART_SIZE),
      BRINE_UPLOAD_QUEUE_SIZE: String(QUEUE_SIZE),
      BRINE_ADMIN_TOKEN: adminToken,
    };
    const port = await freePort();
    const api = spawnRepo(join('apps', 'api', 'src', 'main.js'), {
      ...common,
      S3_ENDPOINT: endpoint,
      PORT: String(port),
      BRINE_RUN_WORKER: 'false',
    });
    children.push(api.child);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/health`)).ok, 60_000, 'the API to answer /health');
    const worker = spawnRepo(join('apps', 'worker', 'src', 'main.js'), {
      ...common,
      S3_ENDPOINT: proxy.endpoint,
      BRINE_WORKER_CONCURRENCY: '1',
    });
    children.push(worker.child);
    await new Promise((r) => setTimeout(r, 1500)); // the worker connects to Redis and waits for jobs

    const apiRuns: Array<{ ms: number; verdictMs: number; verdict: string; workerBytes: number }> = [];
    const directRuns: Array<{ ms: number; rssMB: number }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      console.log(`round ${round + 1}/${ROUNDS}: PUT ${(size / 1e9).toFixed(2)} GB through the API …`);
      const run = await putThroughApi(url, adminToken, `v${round + 1}`, file, size, proxy).catch(
        (e: unknown) => {
          console.error(`the PUT failed; the API's last lines:\n${api.log.slice(-20).join('')}`);
          throw e;
        },
      );
      console.log(
        `  ${(run.ms / 1000).toFixed(1)} s, verdict ${run.verdict} ${run.verdictMs.toFixed(0)} ms after the PUT, worker read ${run.workerBytes} bytes`,
      );
      apiRuns.push(run);
      await removeVersion(url, adminToken, `v${round + 1}`);
      console.log(`round ${round + 1}/${ROUNDS}: the same file straight to S3 with lib-storage …`);
      const key = `direct/${round}`;
      const direct = JSON.parse(
        runNode(join(__dirname, 'direct-upload.js'), [
          endpoint,
          'brine',
          key,
          file,
          String(PART_SIZE),
          String(QUEUE_SIZE),
        ]),
      ) as { ms: number; rssMB: number };
      console.log(`  ${(direct.ms / 1000).toFixed(1)} s`);
      directRuns.push(direct);
      rmSync(join(dataDir, 's3', 'brine', 'direct'), { recursive: true, force: true });
    }
    const apiRss = peakRssMB(api.child.pid!);
    const best = <T extends { ms: number }>(xs: T[]) => xs.reduce((a, b) => (b.ms < a.ms ? b : a));
    const a = best(apiRuns);
    const d = best(directRuns);
    const mbps = (ms: number) => size / 1e6 / (ms / 1000);
    return [
      { name: 'file size', value: size / 1e9, unit: 'GB' },
      { name: `PUT through the API (best of ${ROUNDS})`, value: mbps(a.ms), unit: 'MB/s' },
      { name: `direct lib-storage upload (best of ${ROUNDS})`, value: mbps(d.ms), unit: 'MB/s' },
      { name: 'API / direct throughput', value: d.ms / a.ms, unit: '×', target: '≥ 0.8' },
      { name: 'API process peak RSS', value: apiRss, unit: 'MB', target: '< 300' },
      {
        name: 'lib-storage process peak RSS',
        value: Math.max(...directRuns.map((r) => r.rssMB)),
        unit: 'MB',
      },
      {
        name: 'bytes the worker read from S3 (max)',
        value: Math.max(...apiRuns.map((r) => r.workerBytes)) / 1e3,
        unit: 'KB',
        target: '< 1000',
      },
      {
        name: 'end of PUT → stored verdict (max)',
        value: Math.max(...apiRuns.map((r) => r.verdictMs)),
        unit: 'ms',
        target: '< 1000',
      },
      {
        name: 'verdict',
        value: apiRuns.every((r) => r.verdict === 'safe') ? 1 : 0,
        unit: `(${apiRuns.map((r) => r.verdict).join(', ')})`,
      },
    ];
  } finally {
    for (const c of children.reverse()) await stopProcess(c);
    await proxy?.close();
    await dropDatabaseAndQueues(databaseUrl, REDIS, prefix);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function putThroughApi(
  url: string,
  token: string,
  version: string,
  file: string,
  size: number,
  proxy: CountingProxy,
): Promise<{ ms: number; verdictMs: number; verdict: string; workerBytes: number }> {
  const before = proxy.bytesToClient;
  const t = process.hrtime.bigint();
  // node:http on a fresh connection (agent: false): a 2 GB body on a pooled keep-alive socket that the server
  // has meanwhile dropped fails after the whole body is sent
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      `${url}/checkpoints/bench/${version}`,
      {
        method: 'PUT',
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'content-length': String(size),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on('error', reject)
      .pipe(req);
  });
  const putEnd = process.hrtime.bigint();
  if (status !== 201) throw new Error(`PUT answered ${status}: ${body}`);
  let verdict = '';
  await waitFor(
    async () => {
      const r = await fetch(`${url}/checkpoints/bench/${version}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const v = (await r.json()) as { scan: { status: string; verdict: string | null } };
      verdict = v.scan.verdict ?? v.scan.status;
      return v.scan.status === 'done' || v.scan.status === 'failed';
    },
    60_000,
    'the verdict',
    5,
  );
  const done = process.hrtime.bigint();
  return {
    ms: Number(putEnd - t) / 1e6,
    verdictMs: Number(done - putEnd) / 1e6,
    verdict,
    workerBytes: proxy.bytesToClient - before,
  };
}

async function removeVersion(url: string, token: string, version: string): Promise<void> {
  const r = await fetch(`${url}/checkpoints/bench/${version}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
  });
  if (!r.ok) throw new Error(`DELETE answered ${r.status}: ${await r.text()}`);
}

interface CountingProxy {
  endpoint: string;
  /** every byte S3 sent back through the proxy, headers included (an upper bound on what the scan read) */
  bytesToClient: number;
  close(): Promise<void>;
}

/** a TCP proxy in front of the S3 server that counts what flows back to its clients */
async function countingProxy(targetPort: number): Promise<CountingProxy> {
  const sockets = new Set<{ destroy(): void }>();
  const state: CountingProxy = { endpoint: '', bytesToClient: 0, close: async () => undefined };
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    upstream.on('data', (chunk: Buffer) => (state.bytesToClient += chunk.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => {
      sockets.delete(client);
      sockets.delete(upstream);
      upstream.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  state.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      for (const s of sockets) s.destroy();
    });
  return state;
}

function spawnNode(
  script: string,
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; firstLine: Promise<string> } {
  const child = spawn(process.execPath, [join(__dirname, script), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const firstLine = new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, firstLine };
}

/** a compiled app of this repository, its logs kept for when something fails */
function spawnRepo(rel: string, env: Record<string, string>): { child: ChildProcess; log: string[] } {
  const log: string[] = [];
  const child = spawn(process.execPath, ['--max-semi-space-size=4', join(__dirname, '..', rel)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d: Buffer) => {
    log.push(d.toString());
    if (log.length > 200) log.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', (code, signal) => {
    if (code || (signal && signal !== 'SIGTERM'))
      console.error(`${rel} exited with ${code ?? signal}:\n${log.slice(-30).join('')}`);
  });
  return { child, log };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitFor(
  ok: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  everyMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await ok()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
