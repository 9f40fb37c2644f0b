import assert from 'node:assert/strict';
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
import { startReceiver, subscribe, verify } from '../helpers/receiver';
import { streamedPut } from '../helpers/streaming';
import { eventually, put, startStack, type Stack } from '../helpers/stack';

/**
 * The object store fails (refuses connections, resets them, or stops answering) while uploads, downloads and
 * scans are in flight: every request is answered within its timeout, no outage becomes a verdict or an alert,
 * every version ends with the verdict its content deserves, and nothing is left in the store.
 */
let s: Stack;
const workers: Service[] = [];
const S3_TIMEOUTS = { BRINE_S3_TIMEOUT_MS: '1500', BRINE_S3_CONNECT_TIMEOUT_MS: '1000' };

before(async () => {
  // scans run in worker processes this file starts (so a test decides when scanning begins)
  s = await startStack({
    withWorker: false,
    faults: ['s3'],
    env: { ...S3_TIMEOUTS, BRINE_UPLOAD_STALE_SECONDS: '2' },
  });
});
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await s.proxies.s3!.set('pass');
  for (const c of cleanups.splice(0)) await c();
  await Promise.all(workers.splice(0).map((w) => stopProcess(w, 'SIGKILL')));
});
after(async () => {
  await s?.close();
});

describe('S3 outage', () => {
  it('a 15-second outage during 40 queued scans: every version gets its real verdict, no false alert', async () => {
    const receiver = await startReceiver();
    try {
      const sub = await subscribe(s, { url: `${receiver.url}/hook`, events: ['scan.unsafe'] });
      // the worker has its own proxy to S3 (uploads go straight to it): it starts, then S3 goes away for it
      const workerS3 = await FaultProxy.start({ port: Number(new URL(s.s3.endpoint).port) });
      cleanups.push(() => workerS3.close());
      const worker = spawnWorker(s.config, workerS3.url(s.s3.endpoint), {
        ...S3_TIMEOUTS,
        BRINE_WORKER_CONCURRENCY: '4',
      });
      workers.push(worker);
      await eventually(
        async () => (/processing scans/.test(worker.output.join('')) ? true : undefined),
        30_000,
        'the worker to start',
      );
      // S3 refuses for 8 s, then hangs for 7 s, while 40 scans are queued
      await workerS3.set('refuse');
      const files = fixtureMix(40);
      for (const [i, f] of files.entries())
        assert.equal((await put(s, 'outage40', `v${String(i).padStart(2, '0')}`, f.bytes)).status, 201);
      await new Promise((r) => setTimeout(r, 8000));
      await workerS3.set('hang');
      await new Promise((r) => setTimeout(r, 7000));
      const during = await scanStates(s, 'outage40');
      assert.ok(
        during.some((v) => v.status === 'pending' && /waiting for s3/.test(v.error ?? '')),
        `scans were waiting for S3: ${JSON.stringify(during.slice(0, 3))}; worker: ${worker.output.join('').slice(0, 3000)}`,
      );
      assert.ok(
        during.every((v) => v.status !== 'done' && v.status !== 'failed'),
        'no verdict while S3 was down',
      );
      await workerS3.set('pass');

      await eventually(
        async () => {
          const states = await scanStates(s, 'outage40');
          return states.every((v) => v.status === 'done' || v.status === 'failed') ? true : undefined;
        },
        90_000,
        'all 40 scans to finish once S3 is back',
      );
      const states = await scanStates(s, 'outage40');
      assert.deepEqual(
        states.map((v) => `${v.version}:${v.status}:${v.verdict}`),
        files.map((f, i) => `v${String(i).padStart(2, '0')}:done:${f.verdict}`),
      );
      // alerts for exactly the dangerous ones, each once
      const dangerous = states.filter((v) => v.verdict === 'dangerous').map((v) => v.version);
      await eventually(
        async () => (receiver.received.length >= dangerous.length ? true : undefined),
        20_000,
        'the alerts',
      );
      await new Promise((r) => setTimeout(r, 1000));
      const alerted = receiver.received.map((r) => String(verify(sub.secret, r).data.version)).sort();
      assert.deepEqual(alerted, dangerous);

      // the worker said so in a few lines, without stack traces
      const log = worker.output.join('');
      assert.ok(!/\n\s+at /.test(log), `no stack traces in the worker log:\n${log.slice(0, 2000)}`);
      const lines = log.split('\n').filter((l) => /waiting for|failed/.test(l)).length;
      assert.ok(lines <= 12, `${lines} lines about the outage (rate-limited):\n${log.slice(0, 3000)}`);
    } finally {
      await receiver.close();
    }
  });

  it('S3 hung or refusing: uploads and downloads answer 503 within their timeout and store nothing', async () => {
    const body = fixtureMix(1)[0].bytes;
    assert.equal((await put(s, 'hung', 'kept', body)).status, 201);
    for (const mode of ['hang', 'refuse', 'drop'] as const) {
      await s.proxies.s3!.set(mode);
      const up = await answeredWithin(15_000, (signal) =>
        s.api(`/checkpoints/hung/${mode}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream' },
          body,
          signal,
        }),
      );
      assertOutage(up, /object store/);
      const down = await answeredWithin(15_000, (signal) =>
        s.api('/checkpoints/hung/kept/file?acknowledgeRisk=true', { signal }),
      );
      assertOutage(down, /object store/);
      await s.proxies.s3!.set('pass');
    }
    assert.deepEqual(
      (await scanStates(s, 'hung')).map((v) => v.version),
      ['kept'],
    );
    await assertNothingOrphaned(s);
  });

  it('a download cut off by S3 ends the response instead of hanging it', async () => {
    const big = Buffer.alloc(6 * 1024 * 1024, 7);
    big.set([0x80, 0x02, 0x4e, 0x2e]); // the content does not matter here
    assert.equal((await put(s, 'cut', 'v1', big)).status, 201);
    await s.proxies.s3!.set('slow', { bytesPerSecond: 1024 * 1024 });
    const started = Date.now();
    const r = await s.api('/checkpoints/cut/v1/file?acknowledgeRisk=true', {
      signal: AbortSignal.timeout(20_000),
    });
    assert.equal(r.status, 200);
    const reader = r.body!.getReader();
    await reader.read();
    await s.proxies.s3!.set('hang');
    let got = 0;
    await assert.rejects(async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        got += value.length;
      }
    }, 'the response is aborted, not ended as if complete');
    assert.ok(got < big.length);
    assert.ok(Date.now() - started < 20_000, 'within the S3 timeout, not the test timeout');
  });

  it('a multipart upload whose S3 goes away mid-body: 503, and no part or object is left', async () => {
    // 40 MiB in 1 MiB chunks (five 8 MiB parts); S3 starts refusing after the first part went up
    let cut = false;
    const r = await streamedPut(`${s.url}/checkpoints/mp/v1`, s.adminToken, {
      chunks: 40,
      chunkBytes: 1024 * 1024,
      between: async (i) => {
        if (i === 12 && !cut) {
          cut = true;
          await s.proxies.s3!.set('refuse');
        }
      },
    });
    assert.equal(r.status, 503, r.body);
    await s.proxies.s3!.set('pass');
    assert.deepEqual(await scanStates(s, 'mp'), []);
    await assertNothingOrphaned(s);
  });
});
