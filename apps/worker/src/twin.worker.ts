import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@brine/config';
import { TwinProcessor, type TwinOutcome } from '@brine/jobs';
import { TWIN_QUEUE, type TwinJobData } from '@brine/queue';
import { CONFIG, REDIS, unavailableDependency } from '@brine/runtime';
import { longJobOptions, QueueWorker } from './queue-worker';

/**
 * The BullMQ processor for safetensors twins, one at a time (a conversion streams a whole checkpoint). Outages
 * wait and retry like scans; another error puts the row back for BullMQ's next attempt, and the last one marks the
 * twin failed. The original version is never touched.
 */
@Injectable()
export class TwinWorker extends QueueWorker<TwinJobData, TwinOutcome> {
  constructor(
    private readonly processor: TwinProcessor,
    @Inject(CONFIG) config: Config,
    @Inject(REDIS) redis: Redis,
  ) {
    super(TWIN_QUEUE, 'safetensors conversions', longJobOptions(config, redis, 1), 'TwinWorker');
  }

  protected override process(job: Job<TwinJobData, TwinOutcome>): Promise<TwinOutcome> {
    return this.processor.process(job.data);
  }

  /** an outage: the row goes back to pending and the attempt does not count */
  protected override onWait(job: Job<TwinJobData, TwinOutcome>, message: string): Promise<void> {
    return this.processor.release(job.data, message, true);
  }

  /** another error: the row goes back to pending for BullMQ's next attempt */
  protected override onError(job: Job<TwinJobData, TwinOutcome>, error: unknown): Promise<void> {
    return this.processor.release(job.data, (error as Error).message);
  }

  protected override async onFailed(job: Job<TwinJobData, TwinOutcome>, err: Error): Promise<void> {
    if (unavailableDependency(err) !== null) return;
    this.quiet.warn('failed', `safetensors twin of ${job.data.versionId} failed: ${err.message}`);
    if (job.attemptsMade >= (job.opts.attempts ?? 1))
      await this.processor.markFailed(job.data, err.message).catch(() => undefined);
  }
}
