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
import { TWIN_QUEUE, type TwinJobData } from '@brine/queue';
import { TwinProcessor, type TwinOutcome } from '@brine/jobs';
import { CONFIG, QuietLog, REDIS, unavailableDependency, waitOutDependency } from '@brine/runtime';

/**
 * The BullMQ processor for safetensors twins, one at a time (a conversion streams a whole checkpoint). Outages
 * wait and retry like scans; another error puts the row back for BullMQ's next attempt, and the last one marks the
 * twin failed. The original version is never touched.
 */
@Injectable()
export class TwinWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('TwinWorker');
  private readonly quiet = new QuietLog(this.log);
  private worker: Worker<TwinJobData, TwinOutcome> | null = null;

  constructor(
    private readonly processor: TwinProcessor,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  onApplicationBootstrap(): void {
    const worker = new Worker<TwinJobData, TwinOutcome>(
      TWIN_QUEUE,
      (job, token) => this.run(job, token),
      longJobOptions(this.config, this.redis, 1),
    );
    worker.on('failed', (job, err) => void this.onFailed(job, err));
    worker.on('error', (e) => this.quiet.warn('worker-error', `twin worker: ${e.message}`));
    this.worker = worker;
  }

  private async run(job: Job<TwinJobData, TwinOutcome>, token?: string): Promise<TwinOutcome> {
    try {
      return await this.processor.process(job.data);
    } catch (e) {
      if (unavailableDependency(e) === null)
        await this.processor.release(job.data, (e as Error).message).catch(() => undefined);
      return waitOutDependency(job, token, e, this.quiet, 'safetensors conversions', (message) =>
        this.processor.release(job.data, message, true),
      );
    }
  }

  private async onFailed(job: Job<TwinJobData, TwinOutcome> | undefined, err: Error): Promise<void> {
    if (!job || unavailableDependency(err) !== null) return;
    this.quiet.warn('failed', `safetensors twin of ${job.data.versionId} failed: ${err.message}`);
    if (job.attemptsMade >= (job.opts.attempts ?? 1))
      await this.processor.markFailed(job.data, err.message).catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
  }
}
