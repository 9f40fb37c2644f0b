import { resolve } from 'node:path';

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
    /** ms to connect, and ms a request may go without any bytes moving */
    connectTimeoutMs: number;
    requestTimeoutMs: number;
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
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function str(env: Env, key: string, fallback: string): string {
  const v = env[key];
  return v === undefined || v === '' ? fallback : v;
}

function int(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${key} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${key} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${key} must be true or false, got "${raw}"`);
}

function fraction(env: Env, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 100)
    throw new ConfigError(`${key} must be a number above 0 (1 = the normal schedule), got "${raw}"`);
  return n;
}

function url(env: Env, key: string, fallback: string | null, protocols: string[]): string | null {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${key} must be a URL like ${protocols[0]}//host:port, got "${redact(raw)}"`);
  }
  if (!protocols.includes(u.protocol)) {
    throw new ConfigError(`${key} must use ${protocols.join(' or ')}, got "${u.protocol}"`);
  }
  return raw;
}

/** hides credentials in URLs before they reach a message or a log */
export function redact(u: string): string {
  try {
    const x = new URL(u);
    if (x.password) x.password = '***';
    return x.toString();
  } catch {
    return u.replace(/\/\/[^@/]*@/, '//***@');
  }
}

const SIZE = /^(\d+)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?$/i;
const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

function size(env: Env, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const m = SIZE.exec(raw.trim());
  if (!m) throw new ConfigError(`${key} must be a size like 5368709120, 50GB or 8MiB, got "${raw}"`);
  return Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()];
}

function secretOf(env: Env): string | null {
  const s = env.BRINE_SECRET?.trim();
  if (!s) return null;
  if (s.length < 32)
    throw new ConfigError('BRINE_SECRET must be at least 32 characters (e.g. openssl rand -hex 32)');
  return s;
}

export function loadConfig(env: Env = process.env): Config {
  const port = int(env, 'PORT', 3000, 0, 65535);
  const host = str(env, 'HOST', '127.0.0.1');
  const endpoint = url(env, 'S3_ENDPOINT', null, ['http:', 'https:']);
  const target = str(env, 'BRINE_SCAN_TARGET', '2.14');
  if (target !== '1.13' && target !== '2.6' && target !== '2.14') {
    throw new ConfigError(`BRINE_SCAN_TARGET must be 1.13, 2.6 or 2.14, got "${target}"`);
  }
  const partSize = size(env, 'BRINE_UPLOAD_PART_SIZE', 8 * 1024 * 1024);
  if (partSize < 5 * 1024 * 1024)
    throw new ConfigError('BRINE_UPLOAD_PART_SIZE must be at least 5MiB (S3 refuses smaller parts)');
  const bucket = str(env, 'S3_BUCKET', 'brine');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(
      `S3_BUCKET must be a valid bucket name (3-63 lowercase letters, digits, dots, dashes), got "${bucket}"`,
    );
  }
  const prefix = str(env, 'BRINE_QUEUE_PREFIX', 'brine');
  if (!/^[A-Za-z0-9:_-]{1,64}$/.test(prefix)) {
    throw new ConfigError(
      `BRINE_QUEUE_PREFIX may hold letters, digits, ':', '_' and '-' only, got "${prefix}"`,
    );
  }
  const adminToken = env.BRINE_ADMIN_TOKEN?.trim() || null;
  if (adminToken !== null && adminToken.length < 24) {
    throw new ConfigError('BRINE_ADMIN_TOKEN must be at least 24 characters long');
  }
  return {
    port,
    host,
    databaseUrl: url(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/brine', [
      'postgres:',
      'postgresql:',
    ]) as string,
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']) as string,
    queuePrefix: prefix,
    s3: {
      endpoint,
      bucket,
      region: str(env, 'S3_REGION', str(env, 'AWS_REGION', 'us-east-1')),
      accessKeyId: str(env, 'S3_ACCESS_KEY_ID', str(env, 'AWS_ACCESS_KEY_ID', 'S3RVER')),
      secretAccessKey: str(env, 'S3_SECRET_ACCESS_KEY', str(env, 'AWS_SECRET_ACCESS_KEY', 'S3RVER')),
      forcePathStyle: bool(env, 'S3_FORCE_PATH_STYLE', true),
      partSize,
      queueSize: int(env, 'BRINE_UPLOAD_QUEUE_SIZE', 4, 1, 32),
      embeddedPort: int(env, 'BRINE_EMBEDDED_S3_PORT', 0, 0, 65535),
      connectTimeoutMs: int(env, 'BRINE_S3_CONNECT_TIMEOUT_MS', 5_000, 100, 600_000),
      requestTimeoutMs: int(env, 'BRINE_S3_TIMEOUT_MS', 30_000, 100, 3_600_000),
    },
    dbTimeoutMs: int(env, 'BRINE_DB_TIMEOUT_MS', 30_000, 500, 3_600_000),
    redisTimeoutMs: int(env, 'BRINE_REDIS_TIMEOUT_MS', 5_000, 100, 600_000),
    secret: secretOf(env),
    dataDir: resolve(str(env, 'BRINE_DATA_DIR', '.brine-data')),
    adminToken,
    maxUploadBytes: size(env, 'BRINE_MAX_UPLOAD_BYTES', 200 * 1024 ** 3),
    workerConcurrency: int(env, 'BRINE_WORKER_CONCURRENCY', 2, 1, 64),
    runWorker: bool(env, 'BRINE_RUN_WORKER', true),
    workerHealthPort:
      (env.BRINE_WORKER_HEALTH_PORT ?? '').trim().toLowerCase() === 'off'
        ? null
        : int(env, 'BRINE_WORKER_HEALTH_PORT', 3001, 0, 65535),
    scanTarget: target,
    publicUrl: (
      url(env, 'BRINE_PUBLIC_URL', null, ['http:', 'https:']) ??
      `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`
    ).replace(/\/$/, ''),
    webhookAllowPrivate: bool(env, 'BRINE_WEBHOOK_ALLOW_PRIVATE', false),
    webhook: {
      timeoutMs: int(env, 'BRINE_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      retryScale: fraction(env, 'BRINE_WEBHOOK_RETRY_SCALE', 1),
      maxConsecutiveFailures: int(env, 'BRINE_WEBHOOK_MAX_FAILURES', 20, 1, 10_000),
    },
    reconcileIntervalSeconds: int(env, 'BRINE_RECONCILE_INTERVAL', 30, 1, 3600),
    jobLockMs: int(env, 'BRINE_JOB_LOCK_MS', 30_000, 1000, 600_000),
    uploadStaleSeconds: int(env, 'BRINE_UPLOAD_STALE_SECONDS', 120, 2, 86_400),
    startupWaitSeconds: int(env, 'BRINE_STARTUP_WAIT_SECONDS', 60, 0, 86_400),
  };
}
