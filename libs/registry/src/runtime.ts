import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Config } from '@brine/config';
import { openDatabase } from '@brine/persistence';
import { redisConnection } from '@brine/queue';
import { ObjectStore, startEmbeddedS3, type EmbeddedS3 } from '@brine/storage';

/** The connections a Brine process needs, opened once before Nest starts. */
export interface Runtime {
  config: Config;
  dataSource: DataSource;
  store: ObjectStore;
  redis: Redis;
  /** the embedded S3 server, when S3_ENDPOINT is not set */
  embedded: EmbeddedS3 | null;
}

export async function startRuntime(config: Config): Promise<Runtime> {
  let embedded: EmbeddedS3 | null = null;
  let endpoint = config.s3.endpoint;
  if (endpoint === null) {
    embedded = await startEmbeddedS3(join(config.dataDir, 's3'), config.s3.embeddedPort);
    endpoint = embedded.endpoint;
  }
  const store = new ObjectStore({ ...config.s3, endpoint });
  try {
    await store.ensureBucket();
  } catch (e) {
    await embedded?.close();
    throw new Error(
      `cannot reach the object store at ${endpoint} (bucket ${config.s3.bucket}): ${(e as Error).message}`,
    );
  }
  let dataSource: DataSource;
  try {
    dataSource = await openDatabase(config.databaseUrl);
  } catch (e) {
    await embedded?.close();
    throw new Error(`cannot open the database: ${(e as Error).message}`);
  }
  const redis = redisConnection(config.redisUrl);
  try {
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    await dataSource.destroy();
    await embedded?.close();
    throw new Error(`cannot reach Redis: ${(e as Error).message}`);
  }
  return { config, dataSource, store, redis, embedded };
}

/** closes what Nest does not own (Nest destroys the data source when its application closes) */
export async function stopRuntime(rt: Runtime): Promise<void> {
  rt.redis.disconnect();
  rt.store.destroy();
  if (rt.dataSource.isInitialized) await rt.dataSource.destroy();
  await rt.embedded?.close();
}
