import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@brine/config';
import { ScanProcessor, type ScanOutcome } from '@brine/jobs';
import { SCAN_QUEUE, type ScanJobData } from '@brine/queue';
import { CONFIG, REDIS, unavailableDependency } from '@brine/runtime';
import { longJobOptions, QueueWorker } from './queue-worker';

/** a scan that keeps killing or stalling its worker this many times is given up (verdict unknown) */
const MAX_STARTS = 8;

/**
 * The BullMQ processor for scans. When a dependency fails (S3, Postgres, Redis) the job waits and retries with
 * backoff, as often as it takes: an outage is never a verdict. A job that dies with its worker is "stalled" once
 * its lock lapses and runs again (the reconciler re-queues it if needed); only a scan that fails for another
 * reason on its last attempt, or that was started MAX_STARTS times without finishing, is marked failed.
 */
@Injectable()
export class ScanWorker extends QueueWorker<ScanJobData, ScanOutcome> {
  constructor(
    private readonly processor: ScanProcessor,
    @Inject(CONFIG) config: Config,
    @Inject(REDIS) redis: Redis,
  ) {
    super(SCAN_QUEUE, 'scans', longJobOptions(config, redis, config.workerConcurrency), 'ScanWorker');
  }

  protected override process(job: Job<ScanJobData, ScanOutcome>): Promise<ScanOutcome> {
    let last = 0;
    return this.processor.process(job.data, (p) => {
      const now = Date.now();
      if (now - last < 2000) return;
      last = now;
      void job
        .updateProgress({ phase: p.phase, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal })
        .catch(() => undefined);
    });
  }

  /** the scan waits for a dependency: the version goes back to pending with the reason */
  protected override onWait(job: Job<ScanJobData, ScanOutcome>, message: string): Promise<void> {
    return this.processor.markWaiting(job.data, message);
  }

  protected override async onFailed(job: Job<ScanJobData, ScanOutcome>, err: Error): Promise<void> {
    const stalled = /stalled more than/.test(err.message);
    const last = job.attemptsMade >= (job.opts.attempts ?? 1);
    this.quiet.warn(
      `failed:${stalled ? 'stalled' : err.name}`,
      `scan of ${job.data.versionId} failed (attempt ${job.attemptsMade}): ${err.message}`,
    );
    try {
      if (unavailableDependency(err) !== null) return; // the reconciler re-queues it once the dependency is back
      if (stalled) {
        // a worker died or lost its lock: give up only on a file that keeps doing that
        const starts = await this.processor.attempts(job.data);
        if (starts >= MAX_STARTS)
          await this.processor.markFailed(
            job.data,
            `the scan was started ${starts} times and never finished (its worker died or stalled each time)`,
          );
        return;
      }
      if (last) await this.processor.markFailed(job.data, err.message);
    } catch (e) {
      this.quiet.warn(
        'mark-failed',
        `could not record the failed scan of ${job.data.versionId}: ${(e as Error).message}`,
      );
    }
  }
}
