import { resolve } from 'node:path';
import { ENV } from './env';

/** Brine's configuration, read from the environment and validated once at start. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  s3: {
    /** null: run the embedded S3-compatible server (s3rver) on loopback */
    endpoint: string | null;
    bucket: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    forcePathStyle: boolean;
    /** bytes per multipart part (S3 requires ≥ 5 MiB except the last) */
    partSize: number;
    /** parts in flight at once */
    queueSize: number;
    /** port of the embedded server (0: any free port) */
    embeddedPort: number;
    /**
     * ms to connect; ms one attempt may hear nothing; ms one call may wait in all, retries included (see
     * @brine/storage's S3Waits)
     */
    connectTimeoutMs: number;
    requestTimeoutMs: number;
    budgetMs: number;
  };
  /** ms a PostgreSQL query (and a connection attempt: a fifth of it, at least 2 s) may take */
  dbTimeoutMs: number;
  /** ms a Redis command from the API or the reconciler may take; they fail fast while Redis is down */
  redisTimeoutMs: number;
  /** the key that signs download links (BRINE_SECRET, or generated once into the data folder); never stored in the database */
  secret: string | null;
  /** where the embedded S3 server keeps its data */
  dataDir: string;
  /** bootstrap admin token; without it the first start creates one and prints it once */
  adminToken: string | null;
  maxUploadBytes: number;
  workerConcurrency: number;
  /** the API process also runs the scan worker (the quick start); false in a split deployment */
  runWorker: boolean;
  /** port of a worker process's health and metrics server (/health/live, /health/ready, /metrics); null: none */
  workerHealthPort: number | null;
  /** torch version the verdicts are about */
  scanTarget: '1.13' | '2.6' | '2.14';
  /** base URL used in links (webhook payloads); defaults to http://host:port */
  publicUrl: string;
  /** let webhooks reach loopback and private addresses (tests, local use) */
  webhookAllowPrivate: boolean;
  webhook: {
    /** per attempt, ms */
    timeoutMs: number;
    /** multiplies the retry schedule (1: retries over about a day; tests use a small fraction) */
    retryScale: number;
    /** consecutive failed attempts that disable a subscription */
    maxConsecutiveFailures: number;
  };
  /** seconds between reconciler passes that re-queue versions whose scan job went missing */
  reconcileIntervalSeconds: number;
  /** BullMQ lock duration of a scan job, ms: a worker that dies loses its job after about this long */
  jobLockMs: number;
  /** an upload whose process stopped refreshing its heartbeat for this long is swept (parts aborted, object deleted) */
  uploadStaleSeconds: number;
  /** how long a starting process waits for PostgreSQL, Redis and the object store to answer before it gives up */
  startupWaitSeconds: number;
  /** null: JSON unless standard output is a terminal */
  logFormat: 'json' | 'text' | 'off' | null;
  logLevel: string;
}

export class ConfigError extends Error {}

export { ENV, ENV_NAMES, redact, type Env } from './env';

/**
 * The configuration from the environment (process.env by default), parsed with the one schema of every
 * variable (./env). A bad value stops the process with a message naming each variable that is wrong.
 */
export function loadConfig(raw: Record<string, string | undefined> = process.env): Config {
  const r = ENV.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
    throw new ConfigError(problems.join('; '));
  }
  const env = r.data;
  const host = env.HOST;
  const port = env.PORT;
  return {
    port,
    host,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL,
    queuePrefix: env.BRINE_QUEUE_PREFIX,
    s3: {
      endpoint: env.S3_ENDPOINT ?? null,
      bucket: env.S3_BUCKET,
      region: env.S3_REGION ?? env.AWS_REGION ?? 'us-east-1',
      accessKeyId: env.S3_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID ?? 'S3RVER',
      secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER',
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      partSize: env.BRINE_UPLOAD_PART_SIZE,
      queueSize: env.BRINE_UPLOAD_QUEUE_SIZE,
      embeddedPort: env.BRINE_EMBEDDED_S3_PORT,
      connectTimeoutMs: env.BRINE_S3_CONNECT_TIMEOUT_MS,
      requestTimeoutMs: env.BRINE_S3_TIMEOUT_MS,
      budgetMs: env.BRINE_S3_BUDGET_MS,
    },
    dbTimeoutMs: env.BRINE_DB_TIMEOUT_MS,
    redisTimeoutMs: env.BRINE_REDIS_TIMEOUT_MS,
    secret: env.BRINE_SECRET ?? null,
    dataDir: resolve(env.BRINE_DATA_DIR),
    adminToken: env.BRINE_ADMIN_TOKEN ?? null,
    maxUploadBytes: env.BRINE_MAX_UPLOAD_BYTES,
    workerConcurrency: env.BRINE_WORKER_CONCURRENCY,
    runWorker: env.BRINE_RUN_WORKER,
    workerHealthPort: env.BRINE_WORKER_HEALTH_PORT,
    scanTarget: env.BRINE_SCAN_TARGET,
    publicUrl: (env.BRINE_PUBLIC_URL ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`).replace(
      /\/$/,
      '',
    ),
    webhookAllowPrivate: env.BRINE_WEBHOOK_ALLOW_PRIVATE,
    webhook: {
      timeoutMs: env.BRINE_WEBHOOK_TIMEOUT_MS,
      retryScale: env.BRINE_WEBHOOK_RETRY_SCALE,
      maxConsecutiveFailures: env.BRINE_WEBHOOK_MAX_FAILURES,
    },
    reconcileIntervalSeconds: env.BRINE_RECONCILE_INTERVAL,
    jobLockMs: env.BRINE_JOB_LOCK_MS,
    uploadStaleSeconds: env.BRINE_UPLOAD_STALE_SECONDS,
    startupWaitSeconds: env.BRINE_STARTUP_WAIT_SECONDS,
    logFormat: env.BRINE_LOG_FORMAT ?? null,
    logLevel: env.BRINE_LOG_LEVEL,
  };
}
