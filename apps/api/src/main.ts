import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from '@brine/config';
import { logFormat, startRuntime } from '@brine/runtime';
import { announce, createApiServer } from './server';

/** `npm start`: the API, plus the scan worker unless BRINE_RUN_WORKER=false, plus embedded S3 without S3_ENDPOINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const rt = await startRuntime(config);
  if (rt.embedded)
    Logger.log(`embedded S3 server at ${rt.embedded.endpoint} (data in ${config.dataDir}/s3)`, 'Brine');
  const { app, newAdminToken } = await createApiServer(rt, {
    withWorker: config.runWorker,
    logs: logFormat(config),
  });
  // SIGTERM/SIGINT close the app (in-flight requests end), then ProcessShutdown closes the runtime
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  announce(newAdminToken, config.publicUrl);
}

main().catch((e: unknown) => {
  const msg =
    e instanceof ConfigError ? `configuration: ${e.message}` : e instanceof Error ? e.message : String(e);
  console.error(`brine: ${msg}`);
  process.exit(1);
});
