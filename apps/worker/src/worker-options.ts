import type { WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@brine/config';

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
