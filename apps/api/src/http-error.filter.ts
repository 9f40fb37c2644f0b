import { STATUS_CODES } from 'node:http';
import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { QuietLog, unavailableDependency } from '@brine/runtime';

/** the reason phrase of an HTTP status, as Node's http module knows it */
export const reasonOf = (status: number): string => STATUS_CODES[status] ?? 'Error';

const DEPENDENCY_NAMES = { postgres: 'PostgreSQL', redis: 'Redis', s3: 'The object store' } as const;

/** seconds a client should wait before retrying after an outage */
const RETRY_AFTER_SECONDS = 5;

/** PostgreSQL refused a value (SQLSTATE class 22: data exception): the request's fault, not the server's */
function refusedValue(e: unknown): string | null {
  const d =
    (e as { driverError?: { code?: string; message?: string } }).driverError ??
    (e as { code?: string; message?: string });
  return typeof d?.code === 'string' && /^22/.test(d.code) ? (d.message ?? 'invalid value') : null;
}

/**
 * Every error is JSON: {statusCode, error, message}, answered at once whenever the client can still receive it.
 * An outage of PostgreSQL, Redis or the object store is a 503 with Retry-After (nothing was stored), a value the
 * database refuses is a 400, anything else unexpected a 500 whose detail stays in the log (never request headers,
 * which carry tokens; one line per kind of failure, rate-limited, so an outage does not flood it). A rejected
 * upload whose body is still arriving is answered and the connection closed, rather than reading gigabytes only to
 * throw them away.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('HTTP');
  private readonly quiet = new QuietLog(this.log);

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    // the client went away (it aborted an upload, or closed the connection): there is no one to answer
    if (res.headersSent || res.writableEnded || res.destroyed || req.socket?.destroyed) {
      this.quiet.warn(
        'gone',
        `${req.method} ${req.path}: the client went away (${(exception as Error)?.message ?? 'closed'})`,
      );
      res.destroy();
      return;
    }
    let status = HttpStatus.INTERNAL_SERVER_ERROR;
    let message = 'internal error; the server log has details';
    const dependency = exception instanceof HttpException ? null : unavailableDependency(exception);
    const refused = exception instanceof HttpException || dependency ? null : refusedValue(exception);
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const m = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      message = Array.isArray(m) ? m.join('; ') : typeof m === 'string' ? m : exception.message;
    } else if (dependency) {
      status = HttpStatus.SERVICE_UNAVAILABLE;
      message = `${DEPENDENCY_NAMES[dependency]} is unavailable or not answering; nothing was changed — retry in a few seconds`;
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      this.quiet.warn(
        `503:${dependency}`,
        `${req.method} ${req.path}: ${DEPENDENCY_NAMES[dependency]} unavailable: ${(exception as Error).message}`,
      );
    } else if (refused) {
      status = HttpStatus.BAD_REQUEST;
      message = `the database refused a value in the request (${refused}); nothing was stored`;
    } else {
      const e = exception as Error;
      this.quiet.warn(
        `500:${e?.name}:${e?.message}`,
        `${req.method} ${req.path}: ${e instanceof Error ? (e.stack ?? e.message) : String(exception)}`,
      );
    }
    if (!req.complete) res.setHeader('Connection', 'close');
    res.status(status).json({ statusCode: status, error: reasonOf(status), message });
  }
}
