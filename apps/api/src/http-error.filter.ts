import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Every error is JSON: {statusCode, error, message}. Unexpected errors are logged (never with request headers,
 * which carry tokens) and answered with a generic 500. A rejected upload whose body is still arriving is answered
 * and the connection closed, rather than reading gigabytes only to throw them away.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    let status = HttpStatus.INTERNAL_SERVER_ERROR;
    let message = 'internal error; the server log has details';
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const m = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      message = Array.isArray(m) ? m.join('; ') : typeof m === 'string' ? m : exception.message;
    } else {
      const aborted =
        (exception as { code?: string }).code === 'ECONNRESET' ||
        /aborted/i.test((exception as Error)?.message ?? '');
      if (aborted || req.destroyed) {
        this.log.warn(
          `${req.method} ${req.path}: the client went away (${(exception as Error)?.message ?? 'aborted'})`,
        );
        return;
      }
      this.log.error(
        `${req.method} ${req.path}: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
      );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (!req.complete) res.setHeader('Connection', 'close');
    res.status(status).json({ statusCode: status, error: REASONS[status] ?? 'Error', message });
  }
}
