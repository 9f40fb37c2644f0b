import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';
import { put, startStack, testId, type Stack } from '../helpers/stack';

/**
 * The Python client (clients/python) as a user gets it: pip-installed into a fresh virtual environment on Debian's
 * Python with its torch, its unittest suite run against a real registry. Each Python test is reported as a test of
 * its own, so it counts in the totals.
 */
const PYTHON = process.env.BRINE_PYTHON ?? '/usr/bin/python3';
const MARK = '@@brine-test ';

function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { ...opts, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface PyResult {
  test: string;
  outcome: 'pass' | 'fail' | 'skip';
  detail: string;
  seconds: number;
}

describe('the Python client', () => {
  let s: Stack;
  let dir: string;
  let venvPython: string;

  before(async () => {
    const probe = await run(PYTHON, ['-c', 'import torch, venv; print(torch.__version__)']);
    assert.equal(
      probe.code,
      0,
      `${PYTHON} needs torch: apt-get install python3-torch python3-venv python3-pip (or set BRINE_PYTHON)\n${probe.stderr}`,
    );
    dir = mkdtempSync(join(tmpdir(), 'brine-py-'));
    // install from a copy: pip's build leaves build/ and *.egg-info beside the sources
    cpSync(join(REPO_ROOT, 'clients', 'python'), join(dir, 'src'), { recursive: true });
    const venv = await run(PYTHON, ['-m', 'venv', '--system-site-packages', join(dir, 'venv')]);
    assert.equal(venv.code, 0, venv.stderr);
    venvPython = join(dir, 'venv', 'bin', 'python');
    const pip = await run(venvPython, [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--no-index',
      '--no-build-isolation',
      join(dir, 'src'),
    ]);
    assert.equal(pip.code, 0, `pip install ./clients/python failed:\n${pip.stdout}\n${pip.stderr}`);
    s = await startStack();
  });

  after(async () => {
    await s?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs with pip and imports without torch', async () => {
    // the package itself needs only the standard library: importing it does not import torch
    const r = await run(
      venvPython,
      ['-c', 'import sys, brine; assert "torch" not in sys.modules; print(brine.__version__)'],
      {
        cwd: dir,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0.1.0');
  });

  it('passes its unittest suite against a real registry', async (t) => {
    const child = spawn(
      venvPython,
      [join(REPO_ROOT, 'test', 'python', 'unittest_json.py'), join(dir, 'src', 'tests')],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          BRINE_URL: s.url,
          BRINE_TOKEN: s.adminToken,
          BRINE_TEST_PREFIX: `py${testId()}`,
          PYTHONDONTWRITEBYTECODE: '1',
        },
      },
    );
    const results: PyResult[] = [];
    let stderr = '';
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith(MARK)) results.push(JSON.parse(line.slice(MARK.length)) as PyResult);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    for (const r of results) {
      await t.test(
        `python: ${r.test.replace(/^test_client\./, '')}`,
        { skip: r.outcome === 'skip' ? r.detail : false },
        () => {
          if (r.outcome === 'fail') assert.fail(r.detail);
        },
      );
    }
    assert.ok(results.length >= 14, `the suite ran ${results.length} tests:\n${stderr.slice(-4000)}`);
    assert.equal(code, 0, stderr.slice(-4000));
  });

  it("installs as the README says, in a venv beside Debian's torch", async () => {
    // the two lines of the README's Python section, run as printed from a folder holding clients/python
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### The Python client'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1].trim();
    assert.match(block, /^python3 -m venv --system-site-packages \.venv\n\.venv\/bin\/pip install /);
    const here = mkdtempSync(join(tmpdir(), 'brine-py-readme-'));
    try {
      cpSync(join(REPO_ROOT, 'clients', 'python'), join(here, 'clients', 'python'), { recursive: true });
      const env = {
        PATH: `${PYTHON.replace(/\/python3?$/, '')}:${process.env.PATH ?? ''}`,
        HOME: here,
        PIP_NO_INDEX: '1', // no PyPI here: everything it needs must already be on the machine
      };
      const install = await run('bash', ['-e', '-c', block], { cwd: here, env });
      assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
      const check = await run(
        join(here, '.venv', 'bin', 'python'),
        ['-c', 'import brine, torch; print(brine.__version__, hasattr(brine, "search"))'],
        { cwd: here, env },
      );
      assert.equal(check.code, 0, check.stderr);
      assert.equal(check.stdout.trim(), '0.1.0 True');
    } finally {
      rmSync(here, { recursive: true, force: true });
    }
  });

  it('waits out a 503 as its Retry-After says, a bounded number of times', async () => {
    // a registry of its own whose PostgreSQL the test cuts: every request is then a 503 with Retry-After (5 s)
    const down = await startStack({ faults: ['postgres'] });
    try {
      assert.equal(
        (await put(down, 'retry', '1', readFileSync(join(FIXTURES, 'files', 'b_tensor.pt')))).status,
        201,
      );
      const script = [
        'import sys, time, brine',
        't = time.monotonic()',
        'try:',
        '    print("ok", len(brine.Client().versions("retry")), end=" ")',
        'except brine.Unavailable as e:',
        '    print("unavailable", e.status, end=" ")',
        'print(round(time.monotonic() - t, 1))',
      ].join('\n');
      const py = () =>
        run(venvPython, ['-c', script], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '', HOME: dir, BRINE_URL: down.url, BRINE_TOKEN: down.adminToken },
        });
      await down.proxies.postgres!.set('refuse');
      const gaveUp = await py();
      assert.equal(gaveUp.code, 0, gaveUp.stderr);
      const [state, status, took] = gaveUp.stdout.trim().split(' ');
      assert.deepEqual([state, status], ['unavailable', '503'], gaveUp.stdout);
      assert.ok(Number(took) >= 15 && Number(took) < 40, `3 retries of 5 s: ${took} s`);
      const pending = py();
      setTimeout(() => void down.proxies.postgres!.set('pass'), 2000);
      const back = await pending;
      const [ok, count, after] = back.stdout.trim().split(' ');
      assert.deepEqual([ok, count], ['ok', '1'], `${back.stdout}\n${back.stderr}`);
      assert.ok(Number(after) >= 4.5, `it waited for Retry-After: ${after} s`);
      console.log(`python client, 503 with Retry-After: gave up after ${took} s, recovered after ${after} s`);
    } finally {
      await down.close();
    }
  });
});
