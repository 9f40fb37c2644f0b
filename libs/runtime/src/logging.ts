import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { DynamicModule } from '@nestjs/common';
import type { Config } from '@brine/config';

/** how a process logs: one JSON object per line (for machines), Nest's coloured lines (for people), or nothing */
export type LogFormat = 'json' | 'text' | 'off';

/** BRINE_LOG_FORMAT, else JSON unless standard output is a terminal */
export function logFormat(config: Config): LogFormat {
  return config.logFormat ?? (process.stdout.isTTY ? 'text' : 'json');
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** query parameters whose values are credentials (download links): never written to a log */
const SECRET_QUERY = /([?&](?:link|token)=)[^&]*/gi;

/**
 * Structured logs with pino (nestjs-pino): every line is JSON with a time, a level and, for what happens while a
 * request is served, its request id — the client's `X-Request-Id` when it sends a sane one, else a new UUID, sent
 * back in the response. Authorization and cookie headers are never logged, nor link signatures in URLs; health
 * probes and metric scrapes are not logged at all.
 */
export function loggingModule(format: LogFormat, level = 'info'): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: {
      enabled: format === 'json',
      level,
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const h = req.headers['x-request-id'];
        const id = typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown> }) => ({
          id: req.id,
          method: req.method,
          url: req.url.replace(SECRET_QUERY, '$1[redacted]'),
          userAgent: req.headers['user-agent'],
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      autoLogging: {
        ignore: (req: IncomingMessage) => /^\/(health(\/|$)|metrics$)/.test(req.url ?? ''),
      },
    },
  });
}
