import 'reflect-metadata';
import { dirname } from 'node:path';
import { Logger, type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { TokensService, type Runtime } from '@brine/registry';
import { ApiModule } from './api.module';

/** JSON bodies for the JSON routes only; upload bodies stay streams. Bad JSON is a 400 with a JSON error. */
function jsonBodies(limit: string) {
  const parse = express.json({ limit, type: ['application/json', 'application/*+json'] });
  return (req: Request, res: Response, next: NextFunction) => {
    parse(req, res, (err?: unknown) => {
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

export interface ApiServer {
  app: INestApplication;
  /** set when this start created the bootstrap admin token (shown once) */
  newAdminToken: string | null;
}

/** builds the API application over an opened runtime; `main` and the tests both use it */
export async function createApiServer(
  rt: Runtime,
  opts: { withWorker: boolean; logger?: LogLevel[] | false },
): Promise<ApiServer> {
  const app = await NestFactory.create<NestExpressApplication>(ApiModule.forRuntime(rt, opts.withWorker), {
    bodyParser: false,
    logger: opts.logger ?? ['log', 'warn', 'error'],
  });
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(jsonBodies('1mb'));
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
