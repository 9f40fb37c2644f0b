import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import { longJobOptions } from './worker-options';
import type { Redis } from 'ioredis';
import type { Config } from '@brine/config';
import { SCAN_QUEUE, type ScanJobData } from '@brine/queue';
import { ScanProcessor, type ScanOutcome } from '@brine/jobs';
import { CONFIG, QuietLog, REDIS, unavailableDependency, waitOutDependency } from '@brine/runtime';

/** a scan that keeps killing or stalling its worker this many times is given up (verdict unknown) */
const MAX_STARTS = 8;

/**
 * The BullMQ processor for scans. When a dependency fails (S3, Postgres, Redis) the job waits and retries with
 * backoff, as often as it takes: an outage is never a verdict. A job that dies with its worker is "stalled" once
 * its lock lapses and runs again (the reconciler re-queues it if needed); only a scan that fails for another
 * reason on its last attempt, or that was started MAX_STARTS times without finishing, is marked failed.
 */
@Injectable()
export class ScanWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('ScanWorker');
  private readonly quiet = new QuietLog(this.log);
  private worker: Worker<ScanJobData, ScanOutcome> | null = null;

  constructor(
    private readonly processor: ScanProcessor,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  onApplicationBootstrap(): void {
    const worker = new Worker<ScanJobData, ScanOutcome>(
      SCAN_QUEUE,
      (job, token) => this.run(job, token),
      longJobOptions(this.config, this.redis, this.config.workerConcurrency),
    );
    worker.on('failed', (job, err) => void this.onFailed(job, err));
    worker.on('error', (e) => this.quiet.warn('worker-error', `worker: ${e.message}`));
    this.worker = worker;
    this.log.log(`processing scans (concurrency ${this.config.workerConcurrency})`);
  }

  private async run(job: Job<ScanJobData, ScanOutcome>, token?: string): Promise<ScanOutcome> {
    let last = 0;
    try {
      return await this.processor.process(job.data, (p) => {
        const now = Date.now();
        if (now - last < 2000) return;
        last = now;
        void job
          .updateProgress({ phase: p.phase, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal })
          .catch(() => undefined);
      });
    } catch (e) {
      return waitOutDependency(job, token, e, this.quiet, 'scans', (message) =>
        this.processor.markWaiting(job.data, message),
      );
    }
  }

  private async onFailed(job: Job<ScanJobData, ScanOutcome> | undefined, err: Error): Promise<void> {
    if (!job) return;
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

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
  }
}
