import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@brine/config';
import { SCAN_QUEUE, type ScanJobData } from '@brine/queue';
import { CONFIG, REDIS, ScanProcessor, type ScanOutcome } from '@brine/registry';

/**
 * The BullMQ processor for scans. A job that dies with its worker is "stalled" once its lock lapses and is run
 * again by another worker; after the last failed attempt the version is marked failed (verdict unknown).
 */
@Injectable()
export class ScanWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('ScanWorker');
  private worker: Worker<ScanJobData, ScanOutcome> | null = null;

  constructor(
    private readonly processor: ScanProcessor,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  onApplicationBootstrap(): void {
    const worker = new Worker<ScanJobData, ScanOutcome>(SCAN_QUEUE, (job) => this.run(job), {
      connection: this.redis,
      prefix: this.config.queuePrefix,
      concurrency: this.config.workerConcurrency,
      lockDuration: this.config.jobLockMs,
      stalledInterval: Math.max(500, Math.floor(this.config.jobLockMs / 2)),
      maxStalledCount: 2,
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      const last = job.attemptsMade >= (job.opts.attempts ?? 1) || /stalled more than/.test(err.message);
      this.log.warn(`scan of ${job.data.versionId} failed (attempt ${job.attemptsMade}): ${err.message}`);
      if (last)
        void this.processor
          .markFailed(job.data, err.message)
          .catch((e: unknown) => this.log.error(`could not mark the scan failed: ${(e as Error).message}`));
    });
    worker.on('error', (e) => this.log.warn(`worker: ${e.message}`));
    this.worker = worker;
    this.log.log(`processing scans (concurrency ${this.config.workerConcurrency})`);
  }

  private async run(job: Job<ScanJobData, ScanOutcome>): Promise<ScanOutcome> {
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

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
  }
}
