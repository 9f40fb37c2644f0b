import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from 'pg';
import { loadConfig } from '@brine/config';
import { startEmbeddedS3, type EmbeddedS3 } from '@brine/storage';
import { FIXTURES } from '../helpers/paths';
import { freePort, spawnApi, spawnWorker, stopProcess, type Service } from '../helpers/processes';
import { dropDatabaseAndQueues, eventually, testId } from '../helpers/stack';

/**
 * A deployment starting for the first time: an API and three workers start at the same moment on a database that
 * does not exist yet. Creating the database and running the migrations must not race (one process migrates under
 * an advisory lock, the others wait); every process ends up ready, and serves its metrics.
 */
const PG_BASE = process.env.BRINE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS = process.env.BRINE_TEST_REDIS ?? 'redis://127.0.0.1:6379';

const processes: Service[] = [];
let s3: EmbeddedS3 | null = null;
let cleanup: (() => Promise<void>) | null = null;

after(async () => {
  for (const p of processes) await stopProcess(p, 'SIGKILL');
  await cleanup?.();
  await s3?.close();
});

describe('a first start', () => {
  it('brings up an API and three workers together on a fresh database', async () => {
    const id = testId();
    const dataDir = mkdtempSync(join(tmpdir(), `brine-start-${id}-`));
    s3 = await startEmbeddedS3(join(dataDir, 's3'), 0);
    const databaseUrl = `${PG_BASE}/brine_test_${id}`;
    const adminToken = `brine_test_${id}_${'x'.repeat(16)}`;
    const config = loadConfig({
      DATABASE_URL: databaseUrl,
      REDIS_URL: REDIS,
      BRINE_QUEUE_PREFIX: `brine-test-${id}`,
      BRINE_DATA_DIR: dataDir,
      S3_ENDPOINT: s3.endpoint,
    });
    cleanup = async () => {
      await dropDatabaseAndQueues(databaseUrl, REDIS, config.queuePrefix);
      rmSync(dataDir, { recursive: true, force: true });
    };
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const workers = ports.map((p) =>
      spawnWorker(config, s3!.endpoint, { BRINE_WORKER_HEALTH_PORT: String(p) }),
    );
    processes.push(...workers);
    const api = await spawnApi(config, s3.endpoint, adminToken);
    processes.push(api.process);

    for (const [i, port] of ports.entries()) {
      const ready = await eventually(
        async () => {
          if (workers[i].exitCode !== null)
            throw new Error(`worker ${i} exited (${workers[i].exitCode}): ${workers[i].output.join('')}`);
          const r = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
          return r?.status === 200 ? ((await r.json()) as { status: string }) : undefined;
        },
        60_000,
        `worker ${i} to be ready`,
      );
      assert.equal(ready.status, 'ok');
      assert.equal((await fetch(`http://127.0.0.1:${port}/health/live`)).status, 200);
    }
    assert.equal((await fetch(`${api.url}/health/live`)).status, 200);
    assert.equal((await fetch(`${api.url}/health/ready`)).status, 200);
    for (const p of processes) assert.equal(p.exitCode, null, `a process exited: ${p.output.join('')}`);

    // every migration ran exactly once
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const rows = (await db.query('SELECT name, count(*)::int AS n FROM migrations GROUP BY name'))
        .rows as Array<{
        name: string;
        n: number;
      }>;
      assert.ok(rows.length >= 2, 'the migrations are recorded');
      assert.ok(
        rows.every((r) => r.n === 1),
        JSON.stringify(rows),
      );
    } finally {
      await db.end();
    }

    // an upload through the API is scanned by one of the workers, and the metrics say so
    const put = await fetch(`${api.url}/checkpoints/first-start/v1`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${adminToken}`,
        'content-type': 'application/octet-stream',
        'x-request-id': 'first-start-upload',
      },
      body: readFileSync(join(FIXTURES, 'files', 'b_state_dict.pt')),
    });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('x-request-id'), 'first-start-upload');
    await eventually(
      async () => {
        const v = (await (
          await fetch(`${api.url}/checkpoints/first-start/v1`, {
            headers: { authorization: `Bearer ${adminToken}` },
          })
        ).json()) as { scan: { verdict: string | null } };
        return v.scan.verdict ?? undefined;
      },
      30_000,
      'the verdict',
    );
    const apiMetrics = await (await fetch(`${api.url}/metrics`)).text();
    assert.match(apiMetrics, /^brine_uploads_total\{result="created"\} 1$/m);
    assert.match(apiMetrics, /^brine_dependency_up\{dependency="postgres"\} 1$/m);
    assert.match(apiMetrics, /^brine_queue_jobs\{queue="scans",state="waiting"\} \d+$/m);
    const workerMetrics = await Promise.all(
      ports.map(async (p) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text()),
    );
    assert.equal(
      workerMetrics.filter((m) => /^brine_scan_verdicts_total\{verdict="safe"\} 1$/m.test(m)).length,
      1,
      'exactly one worker scanned it',
    );
    assert.ok(workerMetrics.every((m) => /^# TYPE brine_scan_duration_seconds histogram$/m.test(m)));
    assert.equal(
      workerMetrics.filter((m) => /^brine_scan_duration_seconds_count\{format="torch-zip"\} 1$/m.test(m))
        .length,
      1,
    );

    // structured logs: one JSON object per line, the request id on the request's line, no token anywhere
    const apiLines = api.process.output
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const logged = apiLines.map(
      (l) => JSON.parse(l) as { req?: { id?: string }; res?: { statusCode?: number } },
    );
    const upload = logged.find((l) => l.req?.id === 'first-start-upload');
    assert.ok(upload, `the upload's log line carries its request id:\n${apiLines.slice(-5).join('\n')}`);
    assert.equal(upload.res?.statusCode, 201);
    for (const p of processes)
      assert.ok(!p.output.join('').includes(adminToken), 'the token is never logged');
    const workerLines = workers[0].output
      .join('')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'));
    assert.ok(workerLines.length > 0 && workerLines.every((l) => JSON.parse(l) !== null));
  });
});
