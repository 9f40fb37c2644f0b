import { Queue, type ConnectionOptions } from 'bullmq';
import IORedis, { type Redis } from 'ioredis';

/**
 * Queue contracts. Postgres is the source of truth; a job is only a reminder that a row needs work, so every job
 * id is derived from its row and a lost queue is rebuilt by re-adding jobs for the rows that still need them.
 */
export const SCAN_QUEUE = 'scans';

export interface ScanJobData {
  versionId: string;
  /** the version's scan generation when the job was queued; older generations are skipped */
  generation: number;
  /** how often the scan has waited for a dependency so far (it sets the next wait) */
  waits?: number;
}

/** the wait before retrying a scan whose dependency failed: doubling from 1 s to a minute, with jitter */
export function dependencyBackoffMs(waits: number, random = Math.random()): number {
  return Math.round(Math.min(60_000, 1_000 * 2 ** Math.min(waits, 6)) * (0.75 + random * 0.5));
}

/** one job per version and generation: re-adding it while it exists is a no-op */
export function scanJobId(versionId: string, generation: number): string {
  return `scan-${versionId}-g${generation}`;
}

/** a Redis connection suitable for BullMQ workers (blocking commands must not time out; outages are waited out) */
export function redisConnection(url: string, connectTimeoutMs = 5_000): Redis {
  return new IORedis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: false,
    connectTimeout: connectTimeoutMs,
  });
}

/**
 * A connection for producers (adding jobs, nudges, health checks): while Redis is down its commands fail at once
 * instead of queueing until Redis returns, and a command without an answer fails after `timeoutMs`. Callers
 * treat a failure as "not queued now": Postgres holds the work, the reconciler queues it later.
 */
export function producerConnection(url: string, timeoutMs = 5_000): Redis {
  return new IORedis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    enableReadyCheck: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
}

/** a queue of work whose rows live in Postgres: a few retries with backoff, finished jobs kept for a while */
function workQueue<T>(
  name: string,
  connection: ConnectionOptions,
  prefix: string,
  backoffMs: number,
): Queue<T> {
  return new Queue<T>(name, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: backoffMs },
      removeOnComplete: { age: 3600, count: 1000 },
      removeOnFail: { age: 24 * 3600 },
    },
  });
}

export function scanQueue(connection: ConnectionOptions, prefix: string): Queue<ScanJobData> {
  return workQueue<ScanJobData>(SCAN_QUEUE, connection, prefix, 2000);
}

export const TWIN_QUEUE = 'twins';

/** write the safetensors twin of a version (its `twins` row says what to do) */
export interface TwinJobData {
  versionId: string;
  /** the row's attempts when queued: a row converted since is not converted again */
  attempt: number;
  waits?: number;
}

export function twinJobId(versionId: string, attempt: number): string {
  return `twin-${versionId}-a${attempt}`;
}

export function twinQueue(connection: ConnectionOptions, prefix: string): Queue<TwinJobData> {
  return workQueue<TwinJobData>(TWIN_QUEUE, connection, prefix, 5000);
}

/**
 * Makes sure a live job with this id exists: adds it, or replaces a job of the same id that has already completed
 * or failed (BullMQ keeps a finished job's id for a while, and re-adding it alone would do nothing).
 */
export async function ensureJob<T>(
  queue: Queue<T>,
  jobId: string,
  add: () => Promise<unknown>,
): Promise<void> {
  const existing = await queue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return;
    await existing.remove();
  }
  await add();
}

export const WEBHOOK_QUEUE = 'webhooks';

/** dispatch: turn undispatched events into deliveries; deliver: one attempt of one delivery */
export type WebhookJobData = { kind: 'dispatch' } | { kind: 'deliver'; deliveryId: string };

export function deliveryJobId(deliveryId: string, attempt: number): string {
  return `deliver-${deliveryId}-a${attempt}`;
}

export function webhookQueue(connection: ConnectionOptions, prefix: string): Queue<WebhookJobData> {
  return new Queue<WebhookJobData>(WEBHOOK_QUEUE, {
    connection,
    prefix,
    // retries are scheduled by the registry (from the delivery row), not by BullMQ
    defaultJobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } },
  });
}

/** a queue that is still waiting for Redis to answer its start-up check */
export class QueueNotReadyError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms (the queue is not ready)`);
    this.name = 'QueueNotReadyError';
  }
}

/**
 * A producer's queue that recovers from a failed start. BullMQ checks a queue's connection once, when the queue is
 * created, and keeps that promise: a queue created while Redis was unreachable (or whose check was cut off) fails
 * every call for the rest of the process's life, long after Redis is back. `get()` hands out a queue whose check
 * passed, and replaces one whose check failed. Errors the queue emits go to `onError` (BullMQ prints them to the
 * console otherwise).
 */
export class QueueHandle<T> {
  private current: Queue<T>;

  constructor(
    private readonly make: () => Queue<T>,
    private readonly onError: (e: Error) => void,
    /** how long get() waits for a queue that is still starting (it waits for Redis) */
    private readonly timeoutMs = 5_000,
  ) {
    this.current = this.create();
  }

  private create(): Queue<T> {
    const q = this.make();
    q.on('error', this.onError);
    return q;
  }

  async get(): Promise<Queue<T>> {
    const q = this.current;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        q.waitUntilReady(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new QueueNotReadyError(this.timeoutMs)), this.timeoutMs);
        }),
      ]);
      return q;
    } catch (e) {
      if (e instanceof QueueNotReadyError) throw e; // still starting: it may yet become ready
      if (this.current === q) {
        this.current = this.create();
        void q.close().catch(() => undefined);
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.current.close().catch(() => undefined);
  }
}
