import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';

/**
 * The `brine` command as someone installs it: the project packed with `npm pack`, the tarball installed into a
 * temporary prefix (dependencies from the npm cache the repository's install filled), and the command run from a
 * folder that is not the repository.
 */
function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('the packed brine command', () => {
  let dir: string;
  let brine: string;
  let elsewhere: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'brine-pack-'));
    // --ignore-scripts: dist/ is already built by `npm test`, and rebuilding it would race the other test files
    const pack = await run(
      NPM,
      ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir],
      REPO_ROOT,
    );
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, `npm pack made a tarball: ${pack.stdout}`);
    const prefix = join(dir, 'prefix');
    const install = await run(
      NPM,
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        join(dir, tarball),
      ],
      dir,
    );
    assert.equal(install.code, 0, install.stderr);
    brine = join(prefix, 'bin', 'brine');
    elsewhere = join(dir, 'somewhere-else');
    mkdirSync(elsewhere);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the built command and nothing of the tests', () => {
    const installed = join(dir, 'prefix', 'lib', 'node_modules', 'brine');
    assert.ok(existsSync(join(installed, 'dist', 'apps', 'cli', 'src', 'main.js')));
    assert.ok(existsSync(join(installed, 'dist', 'libs', 'scanner', 'data')), 'the scanner data is packed');
    assert.equal(existsSync(join(installed, 'dist', 'test')), false);
    assert.equal(existsSync(join(installed, 'test')), false);
    assert.equal(existsSync(join(installed, 'node_modules', 'typescript')), false, 'no dev dependencies');
  });

  it('runs brine --help and brine scan from another folder', async () => {
    const env = { PATH: process.env.PATH ?? '', NO_COLOR: '1', HOME: dir };
    const help = await run(brine, ['--help'], elsewhere, env);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /usage: brine <command>/);
    assert.match(help.stdout, /scan PATH/);
    const safe = await run(brine, ['scan', join(FIXTURES, 'files', 'b_state_dict.pt')], elsewhere, env);
    assert.equal(safe.code, 0, safe.stderr);
    assert.match(safe.stdout, /SAFE/);
    assert.match(safe.stdout, /how to load on torch 2\.14:/);
    const bad = await run(
      brine,
      ['scan', '--json', join(FIXTURES, 'files', 'h_os_system.pkl')],
      elsewhere,
      env,
    );
    assert.equal(bad.code, 1);
    const [report] = JSON.parse(bad.stdout) as Array<{ verdict: string }>;
    assert.equal(report.verdict, 'dangerous');
  });
});
