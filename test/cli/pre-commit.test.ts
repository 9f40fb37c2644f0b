import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PickleAsm } from '../helpers/pickle-asm';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';

/**
 * The pre-commit hook as its users get it: Debian's real `pre-commit` installs it from a git repository holding this
 * working tree (it runs `npm install`, `npm pack` and `npm install -g` of the tarball, dependencies from the npm
 * registry), and `git commit` in a throwaway repository runs it.
 */
const PRE_COMMIT = '/usr/bin/pre-commit';

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** a pickle whose REDUCE calls os.system: what the hook must keep out of a commit */
function osSystemPickle(): Buffer {
  return new PickleAsm()
    .proto(2)
    .global('os', 'system')
    .shortStr('echo pwned')
    .op('TUPLE1')
    .op('REDUCE')
    .op('STOP')
    .bytes();
}

/** a safetensors file of one float32 tensor of 4 zeros */
function safetensors(): Buffer {
  const header = Buffer.from(
    JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }).padEnd(56, ' '),
  );
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.alloc(16)]);
}

describe('the pre-commit hook, installed and run by pre-commit', () => {
  let dir: string;
  let project: string;
  let env: NodeJS.ProcessEnv;
  const git = (args: string[], cwd = project) => run('git', args, cwd, env);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brine-pre-commit-'));
    env = {
      ...process.env,
      PRE_COMMIT_HOME: join(dir, 'cache'),
      NO_COLOR: '1',
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_prefer_offline: 'true',
    };
    delete env.NODE_ENV;
    // this working tree (tracked and untracked files git does not ignore) as one commit of a repository of its own
    const src = join(dir, 'brine');
    mkdirSync(src);
    assert.equal((await git(['init', '-q', src], dir)).code, 0);
    const tree = ['--git-dir', join(src, '.git'), '--work-tree', REPO_ROOT];
    const add = await git([...tree, 'add', '-A'], dir);
    assert.equal(add.code, 0, add.stderr);
    const commit = await git([...tree, 'commit', '-q', '-m', 'brine under test'], dir);
    assert.equal(commit.code, 0, commit.stderr);
    const rev = (await git(['--git-dir', join(src, '.git'), 'rev-parse', 'HEAD'], dir)).stdout.trim();

    project = join(dir, 'project');
    mkdirSync(project);
    assert.equal((await git(['init', '-q'])).code, 0);
    writeFileSync(
      join(project, '.pre-commit-config.yaml'),
      `repos:\n  - repo: file://${src}\n    rev: ${rev}\n    hooks: [{ id: brine-scan }]\n`,
    );
    await git(['add', '.pre-commit-config.yaml']);
    assert.equal((await git(['commit', '-q', '-m', 'config'])).code, 0);
    const started = Date.now();
    const install = await run(PRE_COMMIT, ['install-hooks'], project, env);
    assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
    console.log(`pre-commit install-hooks: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const hook = await run(PRE_COMMIT, ['install'], project, env);
    assert.equal(hook.code, 0, hook.stderr);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lets a commit of safe tensors and a plain numpy array through', async () => {
    writeFileSync(join(project, 'weights.safetensors'), safetensors());
    copyFileSync(join(FIXTURES, 'files', 'b_state_dict.pt'), join(project, 'model.pt'));
    // torch.load refuses an .npy file (the scanner calls it suspicious); the hook's default judges it by np.load
    const np = await run(
      '/usr/bin/python3',
      ['-c', 'import numpy as np; np.save("arange.npy", np.arange(100))'],
      project,
      env,
    );
    assert.equal(np.code, 0, np.stderr);
    await git(['add', 'weights.safetensors', 'model.pt', 'arange.npy']);
    const c = await git(['commit', '-m', 'weights']);
    assert.equal(c.code, 0, `${c.stdout}\n${c.stderr}`);
    assert.match(c.stdout + c.stderr, /brine scan.*Passed/);
    const files = (await git(['ls-tree', '--name-only', 'HEAD'])).stdout;
    assert.match(files, /weights\.safetensors/);
    assert.match(files, /arange\.npy/);
  });

  it('blocks a commit of a pickle that calls os.system, and pre-commit run says why', async () => {
    writeFileSync(join(project, 'evil.pkl'), osSystemPickle());
    await git(['add', 'evil.pkl']);
    const before = (await git(['rev-parse', 'HEAD'])).stdout;
    const c = await git(['commit', '-m', 'evil']);
    assert.notEqual(c.code, 0);
    assert.match(c.stdout + c.stderr, /brine scan.*Failed/);
    assert.match(c.stdout + c.stderr, /DANGEROUS/);
    assert.match(c.stdout + c.stderr, /os\.system/);
    assert.equal((await git(['rev-parse', 'HEAD'])).stdout, before, 'nothing was committed');
    const r = await run(PRE_COMMIT, ['run', '--files', 'evil.pkl'], project, env);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /DANGEROUS/);
  });
});
