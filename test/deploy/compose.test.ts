import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '@brine/config';
import { REPO_ROOT } from '../helpers/paths';

/**
 * No container engine runs here, so the deployment files are checked as data: what `docker compose` would refuse,
 * what would make a service restart-loop or never turn healthy, and what the README promises about them.
 */
interface Service {
  image?: string;
  build?: unknown;
  restart?: string;
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
  volumes?: string[];
}

const composeText = readFileSync(join(REPO_ROOT, 'docker', 'compose.yaml'), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const dockerfile = readFileSync(join(REPO_ROOT, 'docker', 'Dockerfile'), 'utf8');
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

/** ${NAME}, ${NAME:-default}, ${NAME:?message} … as compose interpolates them */
function variables(text: string): Array<{ name: string; op: string | null }> {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?[^}]*\}/g)].map((m) => ({
    name: m[1],
    op: m[2] ?? null,
  }));
}

describe('docker/compose.yaml', () => {
  it('runs with BRINE_SECRET unset: the image gives the node user a data folder, and the API keeps it in a volume', () => {
    // unset, the API writes a generated secret into BRINE_DATA_DIR; the image's default (.brine-data under /app,
    // owned by root) is not writable by the node user the image runs as
    assert.match(dockerfile, /^USER node$/m);
    const dataDir = /^ENV BRINE_DATA_DIR=(\S+)$/m.exec(dockerfile)?.[1];
    assert.ok(dataDir, 'the image sets BRINE_DATA_DIR');
    assert.ok(!dataDir.startsWith('/app'), `BRINE_DATA_DIR ${dataDir} is outside the root-owned /app`);
    assert.ok(dockerfile.includes(`chown node:node ${dataDir}`), 'and owned by node');
    const mount = (services.api.volumes ?? []).find((v) => v.split(':')[1] === dataDir);
    assert.ok(mount, `the api service mounts a volume at ${dataDir}`);
    assert.ok(mount.split(':')[0] in compose.volumes, 'a named volume');
  });
  it('parses, and every service has a pinned image, a restart policy and a health check', () => {
    assert.deepEqual(Object.keys(services).sort(), ['api', 'minio', 'postgres', 'redis', 'worker']);
    for (const [name, s] of Object.entries(services)) {
      assert.ok(s.image, `${name} names its image`);
      const tag = s.image.split(':').slice(1).join(':');
      assert.ok(
        tag && tag !== 'latest' && /\d/.test(tag),
        `${name}'s image ${s.image} is pinned to a version`,
      );
      assert.equal(s.restart, 'unless-stopped', `${name} restarts`);
      assert.ok(s.healthcheck?.test, `${name} has a health check`);
    }
  });

  it('starts services only after what they need is healthy, with references that exist', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        assert.ok(services[dep], `${name} depends on ${dep}, which exists`);
        assert.ok(['service_healthy', 'service_started'].includes(condition), condition);
        if (condition === 'service_healthy')
          assert.ok(services[dep].healthcheck, `${dep} has a health check`);
      }
    }
    for (const app of ['api', 'worker'])
      for (const dep of ['postgres', 'redis', 'minio'])
        assert.equal(
          services[app].depends_on?.[dep]?.condition,
          'service_healthy',
          `${app} waits for ${dep}`,
        );
    const volumes = Object.values(services).flatMap((s) =>
      ((s as { volumes?: string[] }).volumes ?? []).map((v) => v.split(':')[0]),
    );
    for (const v of volumes) assert.ok(v in compose.volumes, `volume ${v} is declared`);
  });

  it('probes the worker on the port its health server listens on, and the API on /health/ready', () => {
    const worker = services.worker;
    const port = worker.environment?.BRINE_WORKER_HEALTH_PORT;
    assert.ok(port);
    assert.equal(loadConfig({ BRINE_WORKER_HEALTH_PORT: port }).workerHealthPort, Number(port));
    assert.match(
      JSON.stringify(worker.healthcheck?.test),
      new RegExp(`127\\.0\\.0\\.1:${port}/health/ready`),
    );
    assert.deepEqual(worker.command, ['node', 'dist/apps/worker/src/main.js']);
    assert.match(JSON.stringify(services.api.healthcheck?.test), /127\.0\.0\.1:3000\/health\/ready/);
    assert.match(dockerfile, /HEALTHCHECK[^\n]*\/health\/ready/);
  });

  it('needs no variable to be set for the "just PostgreSQL and Redis" recipe, and documents each one', () => {
    const vars = variables(composeText);
    assert.ok(vars.length > 0);
    for (const v of vars) {
      assert.notEqual(v.op, '?', `${v.name} is not required (compose refuses the whole file without it)`);
      assert.notEqual(v.op, ':?', `${v.name} is not required (compose refuses the whole file without it)`);
      assert.match(
        composeText,
        new RegExp(`^#\\s+${v.name}\\s`, 'm'),
        `${v.name} is documented in the header`,
      );
    }
    // published on loopback, as the README's recipe connects to them
    assert.ok(services.postgres.ports?.includes('127.0.0.1:5432:5432'));
    assert.ok(services.redis.ports?.includes('127.0.0.1:6379:6379'));
    assert.match(readme, /docker compose -f docker\/compose\.yaml up -d postgres redis/);
    assert.match(readme, /postgres:\/\/brine:brine@127\.0\.0\.1:5432\/brine/);
  });

  it('gives Brine a configuration it accepts, on the Node the project supports', () => {
    const env = Object.fromEntries(
      Object.entries(services.api.environment ?? {}).map(([k, v]) => [
        k,
        // compose's defaults, with the variables the full deployment sets
        String(v)
          .replace(/\$\{MINIO_ROOT_PASSWORD:-\}/, 'minio-password-for-test')
          .replace(/\$\{BRINE_ADMIN_TOKEN:-\}/, 'a'.repeat(32))
          .replace(/\$\{([A-Z_]+):-([^}]*)\}/g, '$2'),
      ]),
    );
    const config = loadConfig(env);
    assert.equal(config.s3.endpoint, 'http://minio:9000');
    assert.equal(config.runWorker, false);
    assert.equal(config.host, '0.0.0.0');
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    const base = [...dockerfile.matchAll(/^FROM node:(\d+)\.(\d+)\.(\d+)-\S+/gm)];
    assert.equal(base.length, 2, 'both build stages pin their Node image');
    for (const m of base) assert.equal(m[1], '24', 'the image runs Node 24 LTS');
    assert.match(pkg.engines.node, /^>=22\./);
  });
});
