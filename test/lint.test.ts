import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './helpers/paths';

/** ESLint and Prettier run with the suite, so a style error fails CI like any other. */
function run(bin: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'node_modules', ...bin.split('/')), ...args],
      { cwd: REPO_ROOT, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

describe('code style', () => {
  it('passes ESLint', async () => {
    const r = await run('eslint/bin/eslint.js', ['.']);
    assert.equal(r.code, 0, r.out);
  });
  it('is formatted with Prettier', async () => {
    const r = await run('prettier/bin/prettier.cjs', ['--check', '.']);
    assert.equal(r.code, 0, r.out);
  });
});
