import { Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@brine/config';
import { QuietLog, unavailableDependency, waitOutDependency } from '@brine/runtime';

/**
 * The BullMQ options of a worker whose jobs may run long (scans, twins): the job's lock lasts BRINE_JOB_LOCK_MS and
 * is checked twice as often; a job whose worker died runs again, twice at most.
 */
export function longJobOptions(config: Config, redis: Redis, concurrency: number): WorkerOptions {
  return {
    connection: redis,
    prefix: config.queuePrefix,
    concurrency,
    lockDuration: config.jobLockMs,
    stalledInterval: Math.max(500, Math.floor(config.jobLockMs / 2)),
    maxStalledCount: 2,
  };
}

/**
 * The one skeleton of Brine's queue workers: starts a BullMQ worker on the queue once the application is up, and
 * closes it (letting its current jobs finish) when the application closes. A worker of a queue declares what it
 * does with a job (`process`) and its failure policy:
 * - `onWait`: when set, a job whose dependency (PostgreSQL, Redis, the object store) is down waits with bounded
 *   backoff and runs again without using up an attempt (an outage is never a verdict); `onWait` records the wait on
 *   the job's row. Without it, errors go to BullMQ's retries as they are.
 * - `onError`: an error that is not an outage, before BullMQ retries the job.
 * - `onFailed`: BullMQ reports the job failed (an attempt, the last one, or a stall).
 */
export abstract class QueueWorker<T, R> implements OnApplicationBootstrap, OnModuleDestroy {
  protected readonly log: Logger;
  protected readonly quiet: QuietLog;
  private worker: Worker<T, R> | null = null;

  protected constructor(
    private readonly queue: string,
    /** what the jobs are, for the log ("scans", "safetensors conversions") */
    protected readonly what: string,
    private readonly options: WorkerOptions,
    logName: string,
  ) {
    this.log = new Logger(logName);
    this.quiet = new QuietLog(this.log);
  }

  protected abstract process(job: Job<T, R>): Promise<R>;

  protected onWait?(job: Job<T, R>, message: string): Promise<void>;

  protected onError?(job: Job<T, R>, error: unknown): Promise<void>;

  protected onFailed?(job: Job<T, R>, error: Error): Promise<void>;

  onApplicationBootstrap(): void {
    const worker = new Worker<T, R>(this.queue, (job, token) => this.run(job, token), this.options);
    worker.on('failed', (job, err) => {
      if (job && this.onFailed) void this.onFailed(job, err);
    });
    worker.on('error', (e) => this.quiet.warn('worker-error', `${this.what} worker: ${e.message}`));
    this.worker = worker;
    this.log.log(`processing ${this.what} (concurrency ${this.options.concurrency ?? 1})`);
  }

  private async run(job: Job<T, R>, token?: string): Promise<R> {
    try {
      return await this.process(job);
    } catch (e) {
      if (this.onError && unavailableDependency(e) === null)
        await this.onError(job, e).catch(() => undefined);
      const onWait = this.onWait;
      if (!onWait) throw e;
      // the wait is counted on the job's data (`waits` sets the next backoff)
      const waiting = job as unknown as Job<T & { waits?: number }, R>;
      return waitOutDependency(waiting, token, e, this.quiet, this.what, (message) =>
        onWait.call(this, job, message),
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
  }
}
