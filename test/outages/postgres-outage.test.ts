import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ScanQueueService } from '@brine/jobs';
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
 * PostgreSQL resets or stops answering while uploads and scans are in flight: requests get a 503 at once and
 * store nothing, scans wait instead of failing, and once it is back every version reaches its verdict.
 */
let s: Stack;
before(async () => {
  s = await startStack({
    faults: ['postgres'],
    env: {
      BRINE_DB_TIMEOUT_MS: '2000',
      BRINE_UPLOAD_STALE_SECONDS: '2',
      BRINE_WORKER_CONCURRENCY: '4',
    },
  });
});
afterEach(async () => {
  await s.proxies.postgres!.set('pass');
});
after(async () => {
  await s?.close();
});

describe('PostgreSQL outage', () => {
  it('dropped during uploads and scans: 503s that store nothing, then every version gets its verdict', async () => {
    // 20 scans queued (the queue held while they arrive), to start the moment PostgreSQL goes
    const queue = await s.app.get(ScanQueueService).queue();
    await queue.pause();
    const files = fixtureMix(20);
    for (const [i, f] of files.entries())
      assert.equal((await put(s, 'pgdrop', `v${String(i).padStart(2, '0')}`, f.bytes)).status, 201);

    // an upload whose body is still arriving when PostgreSQL goes: it cannot commit
    const cutMidBody = streamedPut(`${s.url}/checkpoints/pgdrop/cut`, s.adminToken, {
      chunks: 16,
      chunkBytes: 256 * 1024,
      between: async (i) => {
        if (i === 8) await s.proxies.postgres!.set('drop');
        await new Promise((r) => setTimeout(r, 50));
      },
    });
    const cut = await cutMidBody;
    await queue.resume();
    assert.equal(cut.status, 503, cut.body);
    assert.match(cut.body, /PostgreSQL/);

    // while it is down: uploads, reads and lists all answer 503 promptly
    for (const path of ['/checkpoints/pgdrop/down1', '/checkpoints/pgdrop/down2']) {
      const r = await answeredWithin(10_000, (signal) =>
        s.api(path, {
          method: 'PUT',
          headers: { 'content-type': 'application/octet-stream' },
          body: files[0].bytes,
          signal,
        }),
      );
      assertOutage(r, /PostgreSQL/);
    }
    assertOutage(
      await answeredWithin(10_000, (signal) => s.api('/checkpoints/pgdrop/v00', { signal })),
      /PostgreSQL/,
    );
    assertOutage(await answeredWithin(10_000, (signal) => s.api('/checkpoints', { signal })), /PostgreSQL/);
    await new Promise((r) => setTimeout(r, 6000));
    const jobs = await queue.getJobCounts('delayed', 'waiting', 'active', 'failed', 'completed');
    assert.equal(jobs.failed, 0, `no scan failed because of the outage: ${JSON.stringify(jobs)}`);
    assert.equal(jobs.completed, 0, `no scan completed during the outage: ${JSON.stringify(jobs)}`);
    assert.ok(jobs.delayed + jobs.waiting + jobs.active >= 20, JSON.stringify(jobs));
    await s.proxies.postgres!.set('pass');

    await eventually(
      async () => {
        const states = await scanStates(s, 'pgdrop');
        return states.every((v) => v.status === 'done' || v.status === 'failed') ? states : undefined;
      },
      90_000,
      'every scan to finish after PostgreSQL is back',
    );
    const states = await scanStates(s, 'pgdrop');
    assert.deepEqual(
      states.map((v) => `${v.version}:${v.status}:${v.verdict}`),
      files.map((f, i) => `v${String(i).padStart(2, '0')}:done:${f.verdict}`),
      'the refused uploads do not exist; the others have their real verdicts',
    );
    await assertNothingOrphaned(s, 30_000);
  });

  it('hung: requests answer 503 within the database timeout, and it recovers by itself', async () => {
    assert.equal((await put(s, 'pghang', 'v1', fixtureMix(1)[0].bytes)).status, 201);
    await s.proxies.postgres!.set('hang');
    const read = await answeredWithin(12_000, (signal) => s.api('/checkpoints/pghang/v1', { signal }));
    assertOutage(read, /PostgreSQL/);
    const up = await answeredWithin(12_000, (signal) =>
      s.api('/checkpoints/pghang/v2', {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body: fixtureMix(1)[0].bytes,
        signal,
      }),
    );
    assertOutage(up, /PostgreSQL/);
    await s.proxies.postgres!.set('pass');
    await eventually(
      async () => ((await s.api('/checkpoints/pghang/v1')).status === 200 ? true : undefined),
      15_000,
      'reads to work again',
    );
    assert.deepEqual(
      (await scanStates(s, 'pghang')).map((v) => v.version),
      ['v1'],
    );
    await assertNothingOrphaned(s, 30_000);
  });
});
