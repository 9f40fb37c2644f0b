#!/usr/bin/env node
// npm's `prepare`: runs after `npm install` / `npm ci` in a clone, when the project is packed (`npm pack`, which is
// how pre-commit installs a `language: node` hook, and how npm prepares a git dependency) and, with some npm
// versions, when the packed tarball is installed. It builds dist/ when the build tools (devDependencies) are
// there; a copy installed without them (the packed tarball, `npm install --omit=dev`) uses the dist/ it ships
// instead of failing with "tsc: not found".
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const built = existsSync(join(root, 'dist', 'apps', 'cli', 'src', 'main.js'));
let tools = true;
try {
  require.resolve('typescript/package.json', { paths: [root] });
  require.resolve('tsc-alias/package.json', { paths: [root] });
} catch {
  tools = false;
}
if (!tools) {
  if (built) process.exit(0);
  console.error(
    'brine: cannot build: the devDependencies (typescript, tsc-alias) are not installed and this copy ships no ' +
      'dist/; run `npm install --include=dev` (or `npm ci`) in the repository',
  );
  process.exit(1);
}
const npm = process.env.npm_execpath;
const r = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit', shell: true });
process.exit(r.status ?? 1);
