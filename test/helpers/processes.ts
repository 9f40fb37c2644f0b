import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Config } from '@brine/config';
import { REPO_ROOT } from './paths';

export type Service = ChildProcess & { output: string[] };

/** the environment a Brine process needs to join this test's database, queue prefix and object store */
function serviceEnv(config: Config, s3Endpoint: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: config.databaseUrl,
    REDIS_URL: config.redisUrl,
    BRINE_QUEUE_PREFIX: config.queuePrefix,
    BRINE_DATA_DIR: config.dataDir,
    S3_ENDPOINT: s3Endpoint,
    S3_BUCKET: config.s3.bucket,
    S3_ACCESS_KEY_ID: config.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: config.s3.secretAccessKey,
    BRINE_JOB_LOCK_MS: String(config.jobLockMs),
    BRINE_RECONCILE_INTERVAL: '1',
    BRINE_WORKER_CONCURRENCY: '1',
    BRINE_WEBHOOK_ALLOW_PRIVATE: String(config.webhookAllowPrivate),
    // a worker's health server on any free port (several workers share this machine)
    BRINE_WORKER_HEALTH_PORT: '0',
    ...extra,
  };
}

function spawnService(script: string[], env: NodeJS.ProcessEnv): Service {
  // run as deployments run them (package.json's start script, the Docker image)
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=4', join(REPO_ROOT, 'dist', 'apps', ...script)],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  ) as Service;
  child.output = [];
  child.stdout?.on('data', (d: Buffer) => child.output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => child.output.push(d.toString()));
  return child;
}

/** a worker-only process (dist/apps/worker) for this test's database, queue prefix and object store */
export function spawnWorker(
  config: Config,
  s3Endpoint: string,
  extraEnv: Record<string, string> = {},
): Service {
  return spawnService(['worker', 'src', 'main.js'], serviceEnv(config, s3Endpoint, extraEnv));
}

/** a free loopback port (for a process that must be told its port in advance) */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * An API process (dist/apps/api, no worker) on the test's database, queue and object store, with the same admin
 * token; resolves once it answers /health.
 */
export async function spawnApi(
  config: Config,
  s3Endpoint: string,
  adminToken: string,
  extraEnv: Record<string, string> = {},
): Promise<{ process: Service; url: string }> {
  const port = await freePort();
  const child = spawnService(
    ['api', 'src', 'main.js'],
    serviceEnv(config, s3Endpoint, {
      PORT: String(port),
      HOST: '127.0.0.1',
      BRINE_ADMIN_TOKEN: adminToken,
      BRINE_RUN_WORKER: 'false',
      ...extraEnv,
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API process exited: ${child.output.join('')}`);
    const ok = await fetch(`${url}/health`)
      .then((r) => r.status < 500)
      .catch(() => false);
    if (ok) return { process: child, url };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the API process did not start: ${child.output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function stopProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
    }, 10_000);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill(signal);
  });
}
