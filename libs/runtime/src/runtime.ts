import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Config } from '@brine/config';
import { openDatabase } from '@brine/persistence';
import { producerConnection, redisConnection } from '@brine/queue';
import { ObjectStore, startEmbeddedS3, type EmbeddedS3 } from '@brine/storage';
import { registerDependencyPort, unavailableDependency, withTimeout } from './dependency-errors';

/** The connections a Brine process needs, opened once before Nest starts. */
export interface Runtime {
  config: Config;
  dataSource: DataSource;
  store: ObjectStore;
  /** for BullMQ workers (blocking commands; waits out outages) */
  redis: Redis;
  /** for everything that must not wait on Redis: queueing, nudges, health (fails fast while Redis is down) */
  redisProducer: Redis;
  /** the embedded S3 server, when S3_ENDPOINT is not set */
  embedded: EmbeddedS3 | null;
  /**
   * the key that signs download links: BRINE_SECRET, or one generated once into the data folder (read on first
   * use, so a worker-only process never writes one)
   */
  secret: () => string;
}

/**
 * The signing secret never lives in the database (a copy of the database must not let anyone forge links):
 * BRINE_SECRET when set (every API instance of a deployment needs the same one), else a random key generated on
 * first start into `<BRINE_DATA_DIR>/secret`, readable by its owner only.
 */
export function resolveSecret(config: Config): string {
  if (config.secret) return config.secret;
  const file = join(config.dataDir, 'secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(config.dataDir, { recursive: true });
    const secret = randomBytes(32).toString('base64url');
    try {
      writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      return secret;
    } catch {
      return readFileSync(file, 'utf8').trim(); // another process wrote it first
    }
  }
}

/**
 * Runs `attempt` until it succeeds. While the dependency is unavailable (refused, reset, timed out) it waits and
 * tries again, saying so in the log, until `deadline`; any other error (bad credentials, a bad URL) fails at once.
 */
async function untilAvailable<T>(what: string, deadline: number, attempt: () => Promise<T>): Promise<T> {
  let delay = 500;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      const message = (e as Error).message;
      if (unavailableDependency(e) === null) throw new Error(`cannot use ${what}: ${message}`);
      if (Date.now() + delay > deadline)
        throw new Error(
          `cannot reach ${what}: ${message} (waited BRINE_STARTUP_WAIT_SECONDS; is it running and is its URL right?)`,
        );
      if (n === 1 || n % 10 === 0) Logger.warn(`waiting for ${what} to answer: ${message}`, 'Brine');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

export async function startRuntime(config: Config): Promise<Runtime> {
  registerDependencyPort(config.databaseUrl, 'postgres');
  registerDependencyPort(config.redisUrl, 'redis');
  let embedded: EmbeddedS3 | null = null;
  let endpoint = config.s3.endpoint;
  if (endpoint === null) {
    embedded = await startEmbeddedS3(join(config.dataDir, 's3'), config.s3.embeddedPort);
    endpoint = embedded.endpoint;
  }
  const store = new ObjectStore({
    ...config.s3,
    endpoint,
    connectTimeoutMs: config.s3.connectTimeoutMs,
    requestTimeoutMs: config.s3.requestTimeoutMs,
    budgetMs: config.s3.budgetMs,
  });
  if (embedded) {
    const e = embedded;
    store.discardParts = (which) => e.removeUploads(config.s3.bucket, which);
  }
  const deadline = Date.now() + config.startupWaitSeconds * 1000;
  let dataSource: DataSource | null = null;
  const redis = redisConnection(config.redisUrl, config.redisTimeoutMs);
  const redisProducer = producerConnection(config.redisUrl, config.redisTimeoutMs);
  try {
    await untilAvailable(`the object store at ${endpoint} (bucket ${config.s3.bucket})`, deadline, () =>
      store.ensureBucket(),
    );
    dataSource = await untilAvailable('PostgreSQL', deadline, () =>
      openDatabase(config.databaseUrl, { queryTimeoutMs: config.dbTimeoutMs }),
    );
    await untilAvailable('Redis', deadline, () =>
      withTimeout(redisProducer.ping(), config.redisTimeoutMs, 'redis', 'PING'),
    );
  } catch (e) {
    redis.disconnect();
    redisProducer.disconnect();
    store.destroy();
    await dataSource?.destroy();
    await embedded?.close();
    throw e;
  }
  let secret: string | null = null;
  return {
    config,
    dataSource,
    store,
    redis,
    redisProducer,
    embedded,
    secret: () => (secret ??= resolveSecret(config)),
  };
}

/** closes what Nest does not own (Nest destroys the data source when its application closes) */
export async function stopRuntime(rt: Runtime): Promise<void> {
  rt.redis.disconnect();
  rt.redisProducer.disconnect();
  rt.store.destroy();
  if (rt.dataSource.isInitialized) await rt.dataSource.destroy();
  await rt.embedded?.close();
}
