import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig } from '@brine/config';
import { Logger as PinoLogger } from 'nestjs-pino';
import { HealthService, TelemetryService } from '@brine/registry';
import { logFormat, ProcessShutdown, startRuntime } from '@brine/runtime';
import { startHealthServer } from './health-server';
import { WorkerModule } from './worker.module';

/** A worker-only process: `node dist/apps/worker/src/main.js` (needs S3_ENDPOINT: workers share the object store). */
async function main(): Promise<void> {
  const config = loadConfig();
  if (config.s3.endpoint === null) {
    throw new ConfigError(
      'a separate worker needs S3_ENDPOINT (the embedded S3 server lives in the API process; use `npm start` for both in one)',
    );
  }
  const rt = await startRuntime(config);
  const logs = logFormat(config);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRuntime(rt, logs), {
    logger: logs === 'off' ? false : ['log', 'warn', 'error'],
    bufferLogs: logs === 'json',
  });
  if (logs === 'json') app.useLogger(app.get(PinoLogger));
  const health =
    config.workerHealthPort === null
      ? null
      : await startHealthServer(
          app.get(HealthService),
          app.get(TelemetryService),
          config.workerHealthPort,
          config.host,
        );
  if (health) {
    Logger.log(`health and metrics on http://${config.host}:${health.port}/health/ready`, 'Worker');
    app.get(ProcessShutdown).onSignal(() => health.server.close());
  }
  // SIGTERM/SIGINT: the processors finish their current jobs as the app closes, then the runtime is closed
  app.enableShutdownHooks();
}

main().catch((e: unknown) => {
  console.error(`brine worker: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
