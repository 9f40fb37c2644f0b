import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { FaultProxy } from '../helpers/fault-proxy';
import { spawnWorker, stopProcess, type Service } from '../helpers/processes';
import {
  answeredWithin,
  assertNothingOrphaned,
  assertOutage,
  fixtureMix,
  scanStates,
} from '../helpers/outage';
import { streamedPut } from '../helpers/streaming';
import { eventually, put, startStack, type Stack } from '../helpers/stack';

/**
 * The object store hangs — it accepts connections and never answers — with the default timeouts (nothing shortened
 * for the test): every request that waits for S3 is answered 503 with Retry-After within the budget the README
 * states (10 s for metadata calls and for the start of a file GET or PUT), transfers that keep moving are never cut
 * by that budget, and scans reach their true verdict once S3 answers again.
 */
const BUDGET_MS = 10_000;

let s: Stack;
const workers: Service[] = [];
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  s = await startStack({ withWorker: false, faults: ['s3'], env: { BRINE_UPLOAD_STALE_SECONDS: '2' } });
});
afterEach(async () => {
  await s.proxies.s3!.set('pass');
  for (const c of cleanups.splice(0)) await c();
  await Promise.all(workers.splice(0).map((w) => stopProcess(w, 'SIGKILL')));
});
after(async () => {
  await s?.close();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('S3 hung, default timeouts', () => {
  it('answers every request that waits for S3 with a 503 within its budget, and stores nothing', async () => {
    const [kept, other] = fixtureMix(2).map((f) => f.bytes);
    assert.equal((await put(s, 'hung', 'kept', kept)).status, 201);
    assert.equal((await put(s, 'hung', 'gone', other)).status, 201);
    const proxy = s.proxies.s3!;
    await proxy.set('hang');
    const figures: Record<string, number> = {};
    const outage = async (what: string, request: (signal: AbortSignal) => Promise<Response>) => {
      const r = await answeredWithin(BUDGET_MS, request);
      assertOutage(r, /object store/);
      figures[what] = r.elapsedMs;
    };
    try {
      await outage('GET file', (signal) =>
        s.api('/checkpoints/hung/kept/file?acknowledgeRisk=true', { signal }),
      );
      await outage('GET file, a range', (signal) =>
        s.api('/checkpoints/hung/kept/file?acknowledgeRisk=true', {
          signal,
          headers: { range: 'bytes=0-9' },
        }),
      );
      await outage('PUT 1 KB', (signal) =>
        s.api('/checkpoints/hung/small', {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream' },
          body: randomBytes(1024),
          signal,
        }),
      );
      // a multipart upload: S3 is first needed once the first 8 MiB part has arrived
      const started = Date.now();
      const big = await streamedPut(`${s.url}/checkpoints/hung/big`, s.adminToken, {
        chunks: 20,
        chunkBytes: 1024 * 1024,
        random: true,
      });
      figures['PUT 20 MiB'] = Date.now() - started;
      assert.equal(big.status, 503, big.body);
      assert.ok(figures['PUT 20 MiB'] <= BUDGET_MS, `PUT 20 MiB answered after ${figures['PUT 20 MiB']} ms`);
      // metadata calls: health says which dependency is down; a deletion is answered (its objects go later)
      const health = await answeredWithin(BUDGET_MS, (signal) =>
        s.api('/health/ready', { signal, token: null }),
      );
      assert.equal(health.response.status, 503);
      assert.equal((JSON.parse(health.body) as { checks: { s3: { ok: boolean } } }).checks.s3.ok, false);
      figures['GET /health/ready'] = health.elapsedMs;
      const del = await answeredWithin(BUDGET_MS, (signal) =>
        s.api('/checkpoints/hung/gone', { method: 'DELETE', signal }),
      );
      assert.equal(del.response.status, 204, del.body);
      figures['DELETE version'] = del.elapsedMs;
      const meta = await answeredWithin(1000, (signal) => s.api('/checkpoints/hung/kept', { signal }));
      assert.equal(meta.response.status, 200);
    } finally {
      console.log(`# with S3 hung, answered after (ms): ${JSON.stringify(figures)}`);
      await proxy.set('pass');
    }
    assert.deepEqual(
      (await scanStates(s, 'hung')).map((v) => v.version),
      ['kept'],
    );
    // the store is back: what a deletion could not remove while S3 hung is removed by the sweeper (a worker's)
    const worker = spawnWorker(s.config, s.s3.endpoint, { BRINE_UPLOAD_STALE_SECONDS: '2' });
    workers.push(worker);
    await assertNothingOrphaned(s, 60_000);
    const file = await s.api('/checkpoints/hung/kept/file?acknowledgeRisk=true');
    assert.equal(file.status, 200);
    assert.equal(sha(new Uint8Array(await file.arrayBuffer())), sha(kept));
  });

  it('never cuts a transfer that keeps moving, however long it takes', async () => {
    // 9 MiB at 768 KiB/s each way: the first 8 MiB part alone takes 11 s to reach S3, the download 12 s
    const proxy = s.proxies.s3!;
    await proxy.set('slow', { bytesPerSecond: 768 * 1024 });
    const started = Date.now();
    const up = await streamedPut(`${s.url}/checkpoints/slow/v1`, s.adminToken, {
      chunks: 9,
      chunkBytes: 1024 * 1024,
      random: true,
    });
    const upMs = Date.now() - started;
    assert.equal(up.status, 201, up.body);
    assert.ok(upMs > BUDGET_MS, `the upload took ${upMs} ms, longer than the budget`);
    const t = Date.now();
    const r = await s.api('/checkpoints/slow/v1/file?acknowledgeRisk=true');
    assert.equal(r.status, 200);
    const got = new Uint8Array(await r.arrayBuffer());
    const downMs = Date.now() - t;
    assert.equal(sha(got), up.sha256);
    assert.ok(downMs > BUDGET_MS, `the download took ${downMs} ms, longer than the budget`);
    console.log(`# 9 MiB at 768 KiB/s through the proxy: upload ${upMs} ms, download ${downMs} ms`);
  });

  it('lets scans wait out a hung S3 and reach their true verdicts when it answers again', async () => {
    const workerS3 = await FaultProxy.start({ port: Number(new URL(s.s3.endpoint).port) });
    cleanups.push(() => workerS3.close());
    const worker = spawnWorker(s.config, workerS3.url(s.s3.endpoint), { BRINE_WORKER_CONCURRENCY: '2' });
    workers.push(worker);
    await eventually(
      async () => (/processing scans/.test(worker.output.join('')) ? true : undefined),
      30_000,
      'the worker to start',
    );
    await workerS3.set('hang');
    const files = fixtureMix(8);
    for (const [i, f] of files.entries())
      assert.equal((await put(s, 'hungscans', `v${i}`, f.bytes)).status, 201);
    await new Promise((r) => setTimeout(r, 15_000));
    const during = await scanStates(s, 'hungscans');
    assert.ok(
      during.every((v) => v.status !== 'done' && v.status !== 'failed'),
      `no verdict while S3 hung: ${JSON.stringify(during)}`,
    );
    assert.ok(
      during.some((v) => /waiting for s3/.test(v.error ?? '')),
      `scans say they wait for S3: ${JSON.stringify(during.slice(0, 3))}`,
    );
    await workerS3.set('pass');
    await eventually(
      async () => {
        const states = await scanStates(s, 'hungscans');
        return states.every((v) => v.status === 'done' || v.status === 'failed') ? states : undefined;
      },
      120_000,
      'the scans to finish once S3 answers',
    );
    const states = await scanStates(s, 'hungscans');
    assert.deepEqual(
      states.map((v) => `${v.version}:${v.status}:${v.verdict}`),
      files.map((f, i) => `v${i}:done:${f.verdict}`),
    );
  });
});
