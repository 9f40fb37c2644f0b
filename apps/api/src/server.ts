import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { dirname, join } from 'node:path';
import { Logger, type INestApplication, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Logger as PinoLogger } from 'nestjs-pino';
import { protoKeyMessage, protoKeyPath } from '@brine/contracts';
import { TokensService } from '@brine/registry';
import type { LogFormat, Runtime } from '@brine/runtime';
import { ApiModule } from './api.module';
import { reasonOf } from './http-error.filter';

/**
 * JSON bodies for the JSON routes only; upload bodies stay streams. Bad JSON is a 400 with a JSON error, and so is a
 * "__proto__" key anywhere in the body (the schemas would drop it without a word).
 */
function jsonBodies(limit: string) {
  const parse = express.json({ limit, type: ['application/json', 'application/*+json'] });
  return (req: Request, res: Response, next: NextFunction) => {
    parse(req, res, (err?: unknown) => {
      const at = err ? null : protoKeyPath(req.body);
      if (at !== null) {
        res
          .status(400)
          .json({ statusCode: 400, error: 'Bad Request', message: protoKeyMessage('the body', at) });
        return;
      }
      if (!err) return next();
      const e = err as { status?: number; type?: string; message?: string };
      const status = e.status ?? 400;
      res.status(status).json({
        statusCode: status,
        error: status === 413 ? 'Payload Too Large' : 'Bad Request',
        message:
          e.type === 'entity.too.large'
            ? `JSON bodies are limited to ${limit}`
            : `the body is not valid JSON: ${e.message ?? ''}`,
      });
    });
  };
}

/** a connection that sends or takes nothing for this long is closed */
const IDLE_SOCKET_MS = 120_000;

/** request headers may total this much (x-brine-metadata alone may be 16 KB, which it checks itself) */
export const MAX_HEADER_BYTES = 64 * 1024;

/** Express under Nest, on a Node HTTP server that accepts larger headers than Node's default of 16 KB */
class BrineExpressAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    super.initHttpServer(options);
    this.httpServer = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, this.getInstance());
  }
}

/**
 * Errors Node's HTTP parser raises before any route runs (a malformed Content-Length, headers over the limit, a
 * broken request line) are answered in the same JSON shape as every other error, and the connection closed.
 */
function answerParserErrors(http: Server): void {
  http.on('clientError', (err: NodeJS.ErrnoException & { bytesParsed?: number }, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const message =
      status === 431
        ? `request headers are limited to ${MAX_HEADER_BYTES / 1024} KiB in all`
        : `the request is not valid HTTP (${err.code ?? 'parse error'}): check Content-Length and the headers`;
    const body = JSON.stringify({ statusCode: status, error: reasonOf(status), message });
    socket.end(
      `HTTP/1.1 ${status} ${reasonOf(status)}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Security-Policy: ${CSP.api}\r\nX-Content-Type-Options: nosniff\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/** the dashboard's compiled files (apps/api/dashboard, built into dist next to this app) */
const DASHBOARD_DIR = join(__dirname, '..', 'dashboard');

/**
 * Security headers on every answer (set before any route runs, so errors, files and static assets carry them too).
 * An API answer is never a document: its policy lets it load nothing. The dashboard and the /docs viewer (Swagger
 * UI, shipped with the app) are the only documents, on the same origin as the dashboard's token: scripts from this
 * origin only, no inline script, no framing by anyone.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};
export const CSP = {
  api: "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  dashboard:
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  docs: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
} as const;

export function contentSecurityPolicy(path: string): string {
  if (path === '/' || path.startsWith('/ui/')) return CSP.dashboard;
  if ((path === '/docs' || path.startsWith('/docs/')) && path !== '/docs/openapi.json') return CSP.docs;
  return CSP.api;
}

function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  res.set(SECURITY_HEADERS);
  res.set('Content-Security-Policy', contentSecurityPolicy(req.path));
  next();
}

/** the dashboard at / (same origin as the API, every asset shipped with the app) */
function serveDashboard(app: NestExpressApplication): void {
  app.use('/ui', express.static(DASHBOARD_DIR, { index: false, maxAge: '5m' }));
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path !== '/') return next();
    res.set('Cache-Control', 'no-cache');
    res.sendFile(join(DASHBOARD_DIR, 'index.html'));
  });
}

export interface ApiServer {
  app: INestApplication;
  /** set when this start created the bootstrap admin token (shown once) */
  newAdminToken: string | null;
}

/** builds the API application over an opened runtime; `main` and the tests both use it */
export async function createApiServer(
  rt: Runtime,
  opts: { withWorker: boolean; logs?: LogFormat },
): Promise<ApiServer> {
  const logs = opts.logs ?? 'text';
  const app = await NestFactory.create<NestExpressApplication>(
    ApiModule.forRuntime(rt, opts.withWorker, logs),
    new BrineExpressAdapter(),
    {
      bodyParser: false,
      logger: logs === 'off' ? false : ['log', 'warn', 'error'],
      bufferLogs: logs === 'json',
    },
  );
  if (logs === 'json') app.useLogger(app.get(PinoLogger));
  // uploads of many GB take longer than Node's default of 5 minutes for a whole request; a stalled client is
  // dropped by the idle timeout instead
  const http = app.getHttpServer() as Server;
  http.requestTimeout = 0;
  http.setTimeout(IDLE_SOCKET_MS);
  answerParserErrors(http);
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(securityHeaders);
  app.use(jsonBodies('1mb'));
  serveDashboard(app);
  app.use(
    '/docs/assets',
    express.static(dirname(require.resolve('swagger-ui-dist/swagger-ui-bundle.js')), { maxAge: '1d' }),
  );
  const newAdminToken = await app.get(TokensService).bootstrap();
  return { app, newAdminToken };
}

export function announce(newAdminToken: string | null, url: string): void {
  Logger.log(`Brine is listening on ${url} (API docs at ${url}/docs)`, 'Brine');
  if (newAdminToken) {
    // printed to the terminal once, never written to the log stream
    process.stdout.write(
      `\n  No admin token existed, so one was created. It is shown only now — keep it:\n\n    ${newAdminToken}\n\n  export BRINE_TOKEN=${newAdminToken}\n\n`,
    );
  }
}
