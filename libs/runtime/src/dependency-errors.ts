import { Logger } from '@nestjs/common';
import { SourceReadError } from '@brine/bytes';
import { QueueNotReadyError } from '@brine/queue';
import { StorageStreamError, StorageTimeoutError } from '@brine/storage';

/**
 * One place decides whether an error means "a dependency is down or slow" (PostgreSQL, Redis, the object store)
 * rather than "this request or this file is wrong". Outages are never verdicts and never 4xx/500 answers: the
 * HTTP layer answers 503 with Retry-After, scans are retried once the dependency answers again.
 */

export type Dependency = 'postgres' | 'redis' | 's3';

const NAMES: Record<Dependency, string> = { postgres: 'PostgreSQL', redis: 'Redis', s3: 'the object store' };

export class DependencyUnavailable extends Error {
  constructor(
    readonly dependency: Dependency,
    readonly detail: string,
  ) {
    super(`${NAMES[dependency]} is unavailable: ${detail}`);
  }
}

/** network-level failures, whoever raised them */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ESOCKETTIMEDOUT',
]);

/** PostgreSQL SQLSTATEs of an unusable server or connection (class 08, 53, 57P, and cancelled by timeout) */
function pgConnectionState(code: string): boolean {
  return /^08/.test(code) || /^53/.test(code) || /^57P0/.test(code) || code === '57014' || code === '58000';
}

function field(e: unknown, key: string): unknown {
  return typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[key] : undefined;
}

/** the configured ports of PostgreSQL and Redis, so a bare socket error names the right dependency */
const dependencyPorts = new Map<number, Dependency>();

export function registerDependencyPort(url: string, dependency: Dependency): void {
  try {
    const u = new URL(url);
    const port = Number(u.port || (dependency === 'postgres' ? 5432 : dependency === 'redis' ? 6379 : 0));
    if (port > 0) dependencyPorts.set(port, dependency);
  } catch {
    // an unparsable URL fails elsewhere with a better message
  }
}

/** which dependency an error says is unavailable, or null when the error is about something else */
export function unavailableDependency(e: unknown, depth = 0): Dependency | null {
  if (depth > 4 || typeof e !== 'object' || e === null) return null;
  if (e instanceof DependencyUnavailable) return e.dependency;
  if (e instanceof SourceReadError || e instanceof StorageStreamError || e instanceof StorageTimeoutError)
    return 's3';
  if (e instanceof QueueNotReadyError) return 'redis';
  const name = String(field(e, 'name') ?? '');
  const message = String(field(e, 'message') ?? '');
  const code = String(field(e, 'code') ?? '');
  // the AWS SDK: network failures, timeouts and server errors (4xx are answers about the request)
  const meta = field(e, '$metadata') as { httpStatusCode?: number } | undefined;
  if (meta !== undefined) {
    const status = meta.httpStatusCode;
    if (status === undefined || status >= 500 || status === 429 || /Timeout|Throttl/i.test(name)) return 's3';
    return null;
  }
  if (/^(TimeoutError|RequestTimeout)$/.test(name) && /socket|connection|request/i.test(message)) return 's3';
  // TypeORM wraps the driver's error; pg's own errors carry a SQLSTATE
  if (name === 'QueryFailedError' || name === 'DatabaseError' || name === 'error') {
    const driver = field(e, 'driverError') ?? e;
    const state = String(field(driver, 'code') ?? '');
    if (pgConnectionState(state) || NETWORK_CODES.has(state)) return 'postgres';
    return unavailableDependency(field(e, 'driverError'), depth + 1) ?? null;
  }
  if (
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout|Connection is not established|cannot use a pool after calling end|the database system is (shutting down|starting up)/i.test(
      message,
    )
  )
    return 'postgres';
  if (
    name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out/i.test(message)
  )
    return 'redis';
  if (NETWORK_CODES.has(code)) {
    // a bare socket error: the port tells whose it was when it is known; the object store's errors always come
    // through the AWS SDK (with $metadata) or StorageStreamError, and Redis's through ioredis's messages, so a bare
    // one without a known port is the database driver's
    const port = Number(field(e, 'port') ?? 0);
    return dependencyPorts.get(port) ?? (port === 6379 ? 'redis' : 'postgres');
  }
  return unavailableDependency(field(e, 'cause'), depth + 1);
}

/** rejects with DependencyUnavailable when `p` takes longer than `ms` */
export async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  dependency: Dependency,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new DependencyUnavailable(dependency, `${what}: no answer within ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Logs one line per kind of failure at most every `intervalMs` (with how many were suppressed), so an outage
 * does not flood the log with one stack trace per request or job.
 */
export class QuietLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  warn(key: string, message: string): void {
    const now = Date.now();
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const more =
      seen && seen.suppressed > 0 ? ` (${seen.suppressed} more like it since the last report)` : '';
    this.last.set(key, { at: now, suppressed: 0 });
    this.logger.warn(`${message}${more}`);
  }
}
