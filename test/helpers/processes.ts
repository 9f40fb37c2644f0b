import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { Config } from '@brine/config';
import { REPO_ROOT } from './paths';

/** a worker-only process (dist/apps/worker) for this test's database, queue prefix and object store */
export function spawnWorker(
  config: Config,
  s3Endpoint: string,
  extraEnv: Record<string, string> = {},
): ChildProcess & { output: string[] } {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'apps', 'worker', 'src', 'main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: config.databaseUrl,
      REDIS_URL: config.redisUrl,
      BRINE_QUEUE_PREFIX: config.queuePrefix,
      S3_ENDPOINT: s3Endpoint,
      S3_BUCKET: config.s3.bucket,
      S3_ACCESS_KEY_ID: config.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: config.s3.secretAccessKey,
      BRINE_JOB_LOCK_MS: String(config.jobLockMs),
      BRINE_RECONCILE_INTERVAL: '1',
      BRINE_WORKER_CONCURRENCY: '1',
      BRINE_WEBHOOK_ALLOW_PRIVATE: String(config.webhookAllowPrivate),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout?.on('data', (d: Buffer) => child.output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => child.output.push(d.toString()));
  return child;
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

/**
 * A TCP proxy that passes requests through and throttles responses to `bytesPerSecond`, in front of the real S3
 * server: it makes a scan take long enough for a test to kill the worker in the middle of it.
 */
export async function slowProxy(
  targetPort: number,
  bytesPerSecond: number,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sockets = new Set<{ destroy(): void }>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    // responses go out in order, each chunk after its share of time; the end waits for the queue
    let queue = Promise.resolve();
    upstream.on('data', (chunk: Buffer) => {
      upstream.pause();
      queue = queue.then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(
              () => {
                if (!client.destroyed) client.write(chunk);
                upstream.resume();
                resolve();
              },
              Math.ceil((chunk.length / bytesPerSecond) * 1000),
            ),
          ),
      );
    });
    upstream.on('end', () => void queue.then(() => client.end()));
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', kill);
    client.on('error', kill);
    client.on('close', () => {
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const sock of sockets) sock.destroy();
      }),
  };
}
