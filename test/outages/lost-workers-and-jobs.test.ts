import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { UnrecoverableError, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { SCAN_QUEUE, type ScanJobData } from '@brine/queue';
import type { ChildProcess } from 'node:child_process';
import { FIXTURES } from '../helpers/paths';
import { FaultProxy } from '../helpers/fault-proxy';
import { spawnWorker, stopProcess } from '../helpers/processes';
import { eventually, put, scanned, startStack, type Stack } from '../helpers/stack';

/**
 * Postgres is the truth and the queue a work list: a worker that dies mid-scan loses nothing (the job stalls and
 * another worker runs it), and neither does a Redis flush (the reconciler re-queues every pending scan).
 */
let s: Stack;
const children: ChildProcess[] = [];

before(async () => {
  // no in-process worker: scans run only in the worker processes this file starts
  s = await startStack({ withWorker: false });
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => stopProcess(c, 'SIGKILL')));
});
after(async () => {
  await s?.close();
});

/** a plain pickle of about `mb` MB (a list of small ints): the scanner has to read all of it */
function bigPickle(mb: number): Buffer {
  const n = Math.floor((mb * 1024 * 1024) / 2);
  const body = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    body[2 * i] = 0x4b; // BININT1
    body[2 * i + 1] = i & 0xff;
  }
  return Buffer.concat([Buffer.from([0x80, 0x02, 0x5d, 0x28]), body, Buffer.from([0x65, 0x2e])]);
}

async function status(name: string, version: string): Promise<{ status: string; attempts: number }> {
  const v = (await (await s.api(`/checkpoints/${name}/${version}`)).json()) as {
    scan: { status: string; attempts: number };
  };
  return v.scan;
}

describe('resilience', () => {
  it('finishes a scan whose worker was killed in the middle of it', async () => {
    const proxy = await FaultProxy.start({ port: Number(new URL(s.s3.endpoint).port) });
    await proxy.set('slow', { bytesPerSecond: 512 * 1024 });
    try {
      assert.equal((await put(s, 'killed', 'v1', bigPickle(6))).status, 201);
      const first = spawnWorker(s.config, proxy.url(s.s3.endpoint));
      children.push(first);
      await eventually(
        async () => ((await status('killed', 'v1')).status === 'scanning' ? true : undefined),
        30_000,
        'the first worker to start scanning',
      );
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      assert.equal((await status('killed', 'v1')).status, 'scanning', 'the scan was cut off mid-way');
      children.push(spawnWorker(s.config, proxy.url(s.s3.endpoint)));
      const done = await scanned(s, 'killed', 'v1', 90_000);
      assert.equal(
        done.scan.status,
        'done',
        `scan error: ${String(done.scan.error)}; worker said: ${children
          .map((c) => (c as { output?: string[] }).output?.join('') ?? '')
          .join('\n---\n')
          .slice(-3000)}`,
      );
      assert.equal(done.scan.kind, 'pickle');
      assert.ok((done.scan.attempts as number) >= 2, `attempts: ${String(done.scan.attempts)}`);
    } finally {
      await proxy.close();
    }
  });

  it('completes scans that were pending when Redis was flushed', async () => {
    const files = ['b_state_dict.pt', 'h_os_system.pkl'];
    for (const f of files)
      assert.equal(
        (await put(s, 'flushed', f.replace(/[^A-Za-z0-9]/g, '-'), readFileSync(join(FIXTURES, 'files', f))))
          .status,
        201,
      );
    const redis = new IORedis(s.config.redisUrl);
    try {
      const keys = await redis.keys(`${s.config.queuePrefix}:*`);
      assert.ok(keys.length > 0, 'the jobs were queued');
      await redis.del(...keys);
      assert.equal((await redis.keys(`${s.config.queuePrefix}:*`)).length, 0);
    } finally {
      redis.disconnect();
    }
    for (const f of files)
      assert.equal((await status('flushed', f.replace(/[^A-Za-z0-9]/g, '-'))).status, 'pending');
    children.push(spawnWorker(s.config, s.s3.endpoint));
    const verdicts = [];
    for (const f of files)
      verdicts.push((await scanned(s, 'flushed', f.replace(/[^A-Za-z0-9]/g, '-'), 60_000)).scan.verdict);
    assert.deepEqual(verdicts, ['safe', 'dangerous']);
  });

  it('scans versions whose job already failed or completed (whatever state the job is in)', async () => {
    const files = ['b_state_dict.pt', 'h_os_system.pkl'];
    for (const f of files)
      assert.equal(
        (await put(s, 'stuckjobs', f.replace(/[^A-Za-z0-9]/g, '-'), readFileSync(join(FIXTURES, 'files', f))))
          .status,
        201,
      );
    // a stand-in worker takes both jobs and ends them without scanning: one failed for good, one completed
    const connection = new IORedis(s.config.redisUrl, { maxRetriesPerRequest: null });
    const manual = new Worker<ScanJobData>(SCAN_QUEUE, null, { connection, prefix: s.config.queuePrefix });
    try {
      const token = 'test-token';
      const first = await manual.getNextJob(token);
      const second = await manual.getNextJob(token);
      assert.ok(first && second, 'both jobs were waiting');
      await first.moveToFailed(new UnrecoverableError('lost in an outage'), token);
      await second.moveToCompleted('gone', token, false);
      assert.equal(await first.getState(), 'failed');
      assert.equal(await second.getState(), 'completed');
    } finally {
      await manual.close();
      connection.disconnect();
    }
    for (const f of files)
      assert.equal((await status('stuckjobs', f.replace(/[^A-Za-z0-9]/g, '-'))).status, 'pending');
    children.push(spawnWorker(s.config, s.s3.endpoint));
    const verdicts = [];
    for (const f of files)
      verdicts.push((await scanned(s, 'stuckjobs', f.replace(/[^A-Za-z0-9]/g, '-'), 60_000)).scan.verdict);
    assert.deepEqual(verdicts, ['safe', 'dangerous']);
  });
});
