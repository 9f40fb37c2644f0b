import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Queue } from 'bullmq';
import { producerConnection, QueueHandle, scanQueue, type ScanJobData } from '@brine/queue';
import { ScanQueueService } from '@brine/jobs';
import { FaultProxy } from '../helpers/fault-proxy';
import { answeredWithin, assertNothingOrphaned, fixtureMix, scanStates } from '../helpers/outage';
import { eventually, startStack, type Stack } from '../helpers/stack';

/**
 * Redis refuses, then stops answering, for 20 seconds while uploads arrive. PostgreSQL is the truth: each upload is
 * stored and answered 201 with its scan pending, without waiting for Redis; once Redis is back the reconciler
 * queues the scans and every version gets its verdict.
 */
let s: Stack;
before(async () => {
  s = await startStack({ faults: ['redis'], env: { BRINE_REDIS_TIMEOUT_MS: '1000' } });
});
after(async () => {
  await s?.proxies.redis?.set('pass');
  await s?.close();
});

describe('Redis outage', () => {
  it('uploads during a 20-second outage are stored at once and scanned after it', async () => {
    const files = fixtureMix(12);
    const started = Date.now();
    const modes = ['refuse', 'hang'] as const;
    for (const [i, f] of files.entries()) {
      const mode = modes[Math.floor((i * modes.length) / files.length)];
      if (s.proxies.redis!.current !== mode) await s.proxies.redis!.set(mode);
      const r = await answeredWithin(5_000, (signal) =>
        s.api(`/checkpoints/redisdown/v${String(i).padStart(2, '0')}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream' },
          body: f.bytes,
          signal,
        }),
      );
      assert.equal(r.response.status, 201, `${mode}: ${r.body}`);
      assert.equal((JSON.parse(r.body) as { scan: { status: string } }).scan.status, 'pending');
      // reads keep working: they need only PostgreSQL
      assert.equal((await s.api(`/checkpoints/redisdown/v${String(i).padStart(2, '0')}`)).status, 200);
      const next = started + ((i + 1) * 20_000) / files.length;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    assert.ok(Date.now() - started >= 20_000);
    assert.ok(
      (await scanStates(s, 'redisdown')).every((v) => v.status === 'pending'),
      'nothing was scanned while Redis was away',
    );
    await s.proxies.redis!.set('pass');

    await eventually(
      async () => {
        const states = await scanStates(s, 'redisdown');
        return states.every((v) => v.status === 'done' || v.status === 'failed') ? true : undefined;
      },
      60_000,
      'every scan after Redis is back',
    ).catch(async (e: Error) => {
      const states = await scanStates(s, 'redisdown');
      throw new Error(
        `${e.message}; versions ${states.map((v) => v.status).join(',')}; jobs ${JSON.stringify(await (await s.app.get(ScanQueueService).queue()).getJobCounts())}`,
      );
    });
    assert.deepEqual(
      (await scanStates(s, 'redisdown')).map((v) => `${v.version}:${v.status}:${v.verdict}`),
      files.map((f, i) => `v${String(i).padStart(2, '0')}:done:${f.verdict}`),
    );
    await assertNothingOrphaned(s);
  });

  it('a queue whose start met an outage works once Redis is back (BullMQ alone stays broken)', async () => {
    const proxy = await FaultProxy.start({ port: Number(new URL(s.directRedisUrl).port || 6379) });
    const url = proxy.url(s.directRedisUrl);
    const plainConn = producerConnection(url, 500);
    const handleConn = producerConnection(url, 500);
    plainConn.on('error', () => undefined);
    handleConn.on('error', () => undefined);
    let plain: Queue<ScanJobData> | null = null;
    let handle: QueueHandle<ScanJobData> | null = null;
    try {
      // connected, then Redis stops answering just as the queues start (their version check times out)
      for (const c of [plainConn, handleConn])
        await eventually(async () => ((await c.ping().catch(() => null)) === 'PONG' ? true : undefined));
      await proxy.set('hang');
      plain = scanQueue(plainConn, `${s.config.queuePrefix}-plain`);
      plain.on('error', () => undefined);
      handle = new QueueHandle(
        () => scanQueue(handleConn, `${s.config.queuePrefix}-handle`),
        () => undefined,
        1000,
      );
      await assert.rejects(plain.waitUntilReady());
      const started = Date.now();
      await assert.rejects(handle.get());
      assert.ok(Date.now() - started < 3000, 'get() gives up within its timeout while Redis hangs');
      await proxy.set('pass');
      const h = handle;
      const job = await eventually(
        async () =>
          h
            .get()
            .then((q) => q.add('scan', { versionId: 'x', generation: 1 }))
            .catch(() => undefined),
        15_000,
        'the handle to add a job',
      );
      assert.ok(job.id);
      // what the handle guards against: the plain queue keeps its failed start for good
      assert.equal(await plainConn.ping(), 'PONG');
      await assert.rejects(plain.add('scan', { versionId: 'x', generation: 1 }));
    } finally {
      await handle?.close();
      await plain?.close().catch(() => undefined);
      plainConn.disconnect();
      handleConn.disconnect();
      await proxy.close();
    }
  });
});
