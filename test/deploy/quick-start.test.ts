import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';
import { freePort } from '../helpers/processes';
import { dropDatabaseAndQueues, eventually, testId } from '../helpers/stack';

/**
 * The README's quick start, followed as written on a fresh clone of this commit: the first command installs and
 * starts the registry, then the second block's lines run one by one in a shell (the global install goes to a prefix
 * of the test's own through npm's environment, the token is the one the start printed, and the files the lines name
 * are fixtures copied under those names). Nothing of the checkout under test is used but its committed tree.
 */
const PG = process.env.BRINE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS = process.env.BRINE_TEST_REDIS ?? 'redis://127.0.0.1:6379';

interface Ran {
  code: number | null;
  out: string;
}

function sh(script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<Ran> {
  return new Promise((resolve) => {
    const p = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** the shell blocks of the README's quick start, comments removed */
function quickStart(): { start: string; lines: string[] } {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Quick start'),
    readme.indexOf('### Getting PostgreSQL and Redis'),
  );
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    m[1]
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter((l) => l !== '' && !l.startsWith('#')),
  );
  assert.equal(blocks.length, 2, 'the quick start has two shell blocks');
  const start = blocks[0].find((l) => l.includes('npm start'));
  assert.ok(start, 'the first block starts the registry');
  return { start, lines: blocks[1] };
}

describe("the README's quick start, on a fresh clone", () => {
  const id = testId();
  const dir = mkdtempSync(join(tmpdir(), `brine-quick-start-${id}-`));
  const clone = join(dir, 'brine');
  const database = `${PG}/brine_test_${id}_qs`;
  const prefix = `brine-test-${id}-qs`;
  let registry: ChildProcess | undefined;
  let log = '';
  let port = 0;
  let env: NodeJS.ProcessEnv = {};

  before(async () => {
    const cloned = await sh(`git clone -q "${REPO_ROOT}" "${clone}"`, dir, process.env);
    assert.equal(cloned.code, 0, cloned.out);
    port = await freePort();
    // python3 is Debian's (with its torch), as on the machines the README speaks of; node stays the one running this
    mkdirSync(join(dir, 'python-bin'));
    symlinkSync(process.env.BRINE_PYTHON ?? '/usr/bin/python3', join(dir, 'python-bin', 'python3'));
    env = {
      ...process.env,
      DATABASE_URL: database,
      REDIS_URL: REDIS,
      BRINE_QUEUE_PREFIX: prefix,
      PORT: String(port),
      BRINE_URL: `http://127.0.0.1:${port}`,
      npm_config_prefix: join(dir, 'npm-global'), // `npm install -g .` lands here, not in the machine's prefix
      PATH: `${join(dir, 'npm-global', 'bin')}:${join(dir, 'python-bin')}:${process.env.PATH ?? ''}`,
      PIP_NO_INDEX: '1', // no PyPI here
    };
    delete env.NODE_ENV; // as a user's shell: npm ci installs the build tools
    delete env.BRINE_TOKEN;
    delete env.BRINE_ADMIN_TOKEN;
    mkdirSync(join(dir, 'npm-global'), { recursive: true });
  });

  after(async () => {
    if (registry && registry.exitCode === null) {
      process.kill(-registry.pid!, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 3000));
      try {
        process.kill(-registry.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await dropDatabaseAndQueues(database, REDIS, prefix).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'installs and starts the registry, which prints an admin token and answers',
    { timeout: 900_000 },
    async () => {
      const { start } = quickStart();
      registry = spawn('bash', ['-c', start], {
        cwd: clone,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      registry.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      registry.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      await eventually(
        async () => {
          if (registry!.exitCode !== null)
            assert.fail(`\`${start}\` exited with ${registry!.exitCode}:\n${log}`);
          const r = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
          return r?.ok ? true : undefined;
        },
        840_000,
        `the registry started by \`${start}\``,
      );
      assert.match(log, /export BRINE_TOKEN=brine_\S+/, 'the first start prints the admin token');
    },
  );

  it(
    'then the second block works as printed: the brine command, a push, an offline scan, the Python client',
    {
      timeout: 600_000,
    },
    async () => {
      const token = /export BRINE_TOKEN=(brine_\S+)/.exec(log)?.[1];
      assert.ok(token, 'a token to use');
      const { lines } = quickStart();
      // the files the lines name: a plain state dict and a pickle that calls os.system
      copyFileSync(join(FIXTURES, 'files', 'b_state_dict.pt'), join(clone, 'model.pt'));
      copyFileSync(join(FIXTURES, 'files', 'h_os_system_zip.pt'), join(clone, 'suspicious.pkl'));
      let shellEnv = { ...env };
      for (const line of lines) {
        const cmd: string = line.replace(/brine_…/, token);
        const exported = /^export (\w+)=(\S+)$/.exec(cmd);
        if (exported) {
          shellEnv = { ...shellEnv, [exported[1]]: exported[2] };
          continue;
        }
        const r = await sh(cmd, clone, shellEnv);
        if (/^brine scan /.test(cmd)) {
          assert.equal(r.code, 1, `\`${cmd}\` says the hostile file is not safe (exit 1):\n${r.out}`);
          assert.match(r.out, /dangerous/);
        } else {
          assert.equal(r.code, 0, `\`${cmd}\` failed:\n${r.out}`);
        }
      }
      const pushed = lines.find((l) => l.startsWith('brine push '));
      assert.ok(pushed);
      const name = /--name (\S+)/.exec(pushed)![1];
      const version = /--version (\S+)/.exec(pushed)![1];
      const v = await fetch(`http://127.0.0.1:${port}/checkpoints/${name}/${version}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(v.status, 200, 'the pushed version is in the registry');
      const dashboard = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(dashboard.status, 200);
      assert.match(await dashboard.text(), /Brine/);
      const client = await sh(
        `.venv/bin/python -c "import brine; print(brine.__version__)"`,
        clone,
        shellEnv,
      );
      assert.equal(client.code, 0, client.out);
    },
  );
});
