import { DelayedError, type Job } from 'bullmq';
import { dependencyBackoffMs } from '@brine/queue';
import { unavailableDependency, type QuietLog } from './dependency-errors';

/**
 * A job's work failed. If a dependency is down (S3, PostgreSQL, Redis), the job waits with backoff and runs again
 * without using up an attempt (an outage is never a verdict); any other error is thrown on for BullMQ's retries.
 * `onWait` records the wait on the job's row.
 */
export async function waitOutDependency<T extends { waits?: number }>(
  job: Job<T>,
  token: string | undefined,
  error: unknown,
  quiet: QuietLog,
  what: string,
  onWait: (message: string) => Promise<void>,
): Promise<never> {
  const dependency = unavailableDependency(error);
  if (dependency === null || token === undefined) throw error;
  const waits = job.data.waits ?? 0;
  const delay = dependencyBackoffMs(waits);
  const detail = (error as Error).message;
  quiet.warn(
    `wait:${dependency}`,
    `${what} wait for ${dependency} (next try of ${job.id} in ${delay} ms): ${detail}`,
  );
  await onWait(`waiting for ${dependency}: ${detail}`).catch(() => undefined);
  await job.updateData({ ...job.data, waits: waits + 1 });
  await job.moveToDelayed(Date.now() + delay, token);
  throw new DelayedError();
}
