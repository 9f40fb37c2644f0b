import { z } from 'zod';

/**
 * Every environment variable Brine reads, declared once: its type, default, limits and what it is for. The
 * configuration is parsed with this schema (loadConfig), registered with @nestjs/config, and the README's table is
 * checked against it by a test.
 */

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

/** an unset or empty variable takes the default */
const unset = (v: unknown) => (v === '' ? undefined : v);

function int(fallback: number, min: number, max: number) {
  const range = `must be between ${min} and ${max}`;
  return z
    .preprocess(
      unset,
      z
        .string()
        .trim()
        .regex(/^\d+$/, { error: (i) => `must be a whole number, got "${String(i.input)}"` })
        .transform(Number)
        .pipe(z.number().min(min, { error: range }).max(max, { error: range }))
        .optional(),
    )
    .transform((n) => n ?? fallback);
}

function text(fallback: string) {
  return z.preprocess(unset, z.string().default(fallback));
}

function optionalText() {
  return z.preprocess(unset, z.string().trim().optional());
}

function bool(fallback: boolean) {
  return z.preprocess(
    unset,
    z
      .string()
      .trim()
      .toLowerCase()
      .refine((v) => ['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off'].includes(v), {
        error: (i) => `must be true or false, got "${String(i.input)}"`,
      })
      .transform((v) => ['1', 'true', 'yes', 'on'].includes(v))
      .optional()
      .transform((v) => v ?? fallback),
  );
}

function size(fallback: number) {
  return z.preprocess(
    unset,
    z
      .string()
      .trim()
      .regex(SIZE, { error: (i) => `must be a size like 5368709120, 50GB or 8MiB, got "${String(i.input)}"` })
      .transform((v) => {
        const m = SIZE.exec(v) as RegExpExecArray;
        return Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()];
      })
      .optional()
      .transform((v) => v ?? fallback),
  );
}

function url(protocols: string[]) {
  const checked = z.string().superRefine((raw, ctx) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `must be a URL like ${protocols[0]}//host:port, got "${redact(raw)}"`,
      });
      return;
    }
    if (!protocols.includes(u.protocol))
      ctx.addIssue({ code: 'custom', message: `must use ${protocols.join(' or ')}, got "${u.protocol}"` });
  });
  return z.preprocess(unset, checked.optional());
}

function urlOr(protocols: string[], fallback: string) {
  return url(protocols).transform((v) => v ?? fallback);
}

export const ENV = z.object({
  PORT: int(3000, 0, 65535).describe('the API port'),
  HOST: text('127.0.0.1').describe('the address the API listens on (0.0.0.0 in containers)'),
  DATABASE_URL: urlOr(['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/brine').describe(
    'PostgreSQL; the database is created if missing',
  ),
  REDIS_URL: urlOr(['redis:', 'rediss:'], 'redis://127.0.0.1:6379').describe('Redis'),
  BRINE_QUEUE_PREFIX: text('brine')
    .pipe(
      z
        .string()
        .regex(/^[A-Za-z0-9:_-]{1,64}$/, { error: "may hold letters, digits, ':', '_' and '-' only" }),
    )
    .describe('BullMQ key prefix'),
  S3_ENDPOINT: url(['http:', 'https:']).describe(
    'S3, MinIO or any S3-compatible endpoint; unset: the embedded s3rver',
  ),
  S3_BUCKET: text('brine')
    .pipe(
      z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
        error: (i) =>
          `must be a valid bucket name (3-63 lowercase letters, digits, dots, dashes), got "${String(i.input)}"`,
      }),
    )
    .describe('created if missing'),
  S3_REGION: optionalText().describe('default AWS_REGION, then us-east-1'),
  AWS_REGION: optionalText(),
  S3_ACCESS_KEY_ID: optionalText().describe('default AWS_ACCESS_KEY_ID, then S3RVER'),
  AWS_ACCESS_KEY_ID: optionalText(),
  S3_SECRET_ACCESS_KEY: optionalText().describe('default AWS_SECRET_ACCESS_KEY, then S3RVER'),
  AWS_SECRET_ACCESS_KEY: optionalText(),
  S3_FORCE_PATH_STYLE: bool(true).describe('false for virtual-hosted AWS buckets'),
  BRINE_EMBEDDED_S3_PORT: int(0, 0, 65535).describe('port of the embedded S3 server (0: any free port)'),
  BRINE_S3_CONNECT_TIMEOUT_MS: int(2_000, 100, 600_000).describe('connecting to S3 (one attempt)'),
  BRINE_S3_TIMEOUT_MS: int(5_000, 100, 3_600_000).describe(
    'the longest one S3 attempt may hear nothing: before its answer starts, or mid-body while a reader waits',
  ),
  BRINE_S3_BUDGET_MS: int(8_000, 500, 3_600_000).describe(
    'the longest one S3 call may wait, retries included (bytes that move renew it); then 503',
  ),
  BRINE_DB_TIMEOUT_MS: int(30_000, 500, 3_600_000).describe(
    'a PostgreSQL query (connections: a fifth, at least 2 s)',
  ),
  BRINE_REDIS_TIMEOUT_MS: int(5_000, 100, 600_000).describe("connecting to Redis, and a producer's command"),
  BRINE_SECRET: optionalText()
    .pipe(
      z.string().min(32, { error: 'must be at least 32 characters (e.g. openssl rand -hex 32)' }).optional(),
    )
    .describe('signs download links; unset: generated once into BRINE_DATA_DIR/secret'),
  BRINE_DATA_DIR: text('.brine-data').describe("the embedded S3 server's data and the generated secret"),
  BRINE_ADMIN_TOKEN: optionalText()
    .pipe(z.string().min(24, { error: 'must be at least 24 characters long' }).optional())
    .describe('unset: the first start creates an admin token and prints it once'),
  BRINE_MAX_UPLOAD_BYTES: size(200 * 1024 ** 3).describe('the largest upload (accepts 50GB, 8MiB, …)'),
  BRINE_UPLOAD_PART_SIZE: size(8 * 1024 * 1024)
    .pipe(z.number().min(5 * 1024 * 1024, { error: 'must be at least 5MiB (S3 refuses smaller parts)' }))
    .describe('multipart part size'),
  BRINE_UPLOAD_QUEUE_SIZE: int(4, 1, 32).describe('parts in flight across all uploads of a process'),
  BRINE_WORKER_CONCURRENCY: int(2, 1, 64).describe('scans per worker process'),
  BRINE_RUN_WORKER: bool(true).describe('the API process also runs the worker (the quick start)'),
  BRINE_WORKER_HEALTH_PORT: z
    .union([
      z
        .string()
        .trim()
        .toLowerCase()
        .pipe(z.literal('off'))
        .transform(() => null),
      int(3001, 0, 65535),
    ])
    .describe("a worker's /health/live, /health/ready and /metrics (0: any free port, off: none)"),
  BRINE_SCAN_TARGET: z
    .preprocess(
      unset,
      z
        .enum(['1.13', '2.6', '2.14'], {
          error: (i) => `must be 1.13, 2.6 or 2.14, got "${String(i.input)}"`,
        })
        .default('2.14'),
    )
    .describe('the torch version verdicts are about'),
  BRINE_PUBLIC_URL: url(['http:', 'https:']).describe(
    'used in links (webhook payloads); default http://HOST:PORT',
  ),
  BRINE_WEBHOOK_ALLOW_PRIVATE: bool(false).describe(
    'let webhooks reach private addresses (tests, local use)',
  ),
  BRINE_WEBHOOK_TIMEOUT_MS: int(10_000, 100, 120_000).describe('per delivery attempt'),
  BRINE_WEBHOOK_RETRY_SCALE: z
    .preprocess(
      unset,
      z
        .string()
        .transform(Number)
        .pipe(
          z
            .number({ error: 'must be a number above 0 (1 = the normal schedule)' })
            .gt(0, { error: 'must be a number above 0 (1 = the normal schedule)' })
            .max(100, { error: 'must be a number above 0 (1 = the normal schedule)' }),
        )
        .optional()
        .transform((v) => v ?? 1),
    )
    .describe('multiplies the retry schedule'),
  BRINE_WEBHOOK_MAX_FAILURES: int(20, 1, 10_000).describe(
    'consecutive failed attempts that disable a subscription',
  ),
  BRINE_RECONCILE_INTERVAL: int(30, 1, 3600).describe('seconds between reconciler passes'),
  BRINE_JOB_LOCK_MS: int(30_000, 1000, 600_000).describe("how long a dead worker's scan stays locked"),
  BRINE_UPLOAD_STALE_SECONDS: int(120, 2, 86_400).describe('an upload whose heartbeat is this old is swept'),
  BRINE_LOG_FORMAT: z
    .preprocess(unset, z.enum(['json', 'text', 'off'], { error: 'must be json, text or off' }).optional())
    .describe('json, text or off; unset: JSON unless standard output is a terminal'),
  BRINE_LOG_LEVEL: z
    .preprocess(
      unset,
      z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], {
          error: 'must be a pino level (info, debug, …)',
        })
        .default('info'),
    )
    .describe("pino's level for the JSON logs"),
  BRINE_STARTUP_WAIT_SECONDS: int(60, 0, 86_400).describe(
    'how long a starting process waits for its dependencies',
  ),
});

export type Env = z.output<typeof ENV>;

/** the variables a deployment may set (the README documents each) */
export const ENV_NAMES = Object.keys(ENV.shape) as Array<keyof typeof ENV.shape>;
