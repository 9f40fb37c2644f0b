#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with Node's test runner and ends with one line:
// "N passed, N failed". Pass file-name fragments to run a subset: node scripts/run-tests.js fixtures machine
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const testDir = path.join(root, 'dist', 'test');
const filters = process.argv.slice(2);

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.test.js') ? [p] : [];
  });
}

if (!fs.existsSync(testDir)) {
  console.error('no compiled tests: run `npm run build` first');
  process.exit(2);
}
const files = walk(testDir)
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
const args = [
  '--test',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  '--test-reporter-destination=' + path.join(root, 'dist', 'test-results.tap'),
  ...files,
];
const child = spawn(process.execPath, args, {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, NODE_ENV: 'test' },
});
// CI (BRINE_NO_SKIPS=1, set by .ci/run) counts a skipped test as failed: a check that did not run proved nothing
const noSkips = process.env.BRINE_NO_SKIPS === '1';
child.on('exit', (code) => {
  let passed = 0;
  let failed = 0;
  let skipped = [];
  try {
    const tap = fs.readFileSync(path.join(root, 'dist', 'test-results.tap'), 'utf8');
    passed = Number(/^# pass (\d+)/m.exec(tap)?.[1] ?? 0);
    failed = Number(/^# fail (\d+)/m.exec(tap)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(tap)?.[1] ?? 0);
    // "ok 3 - name # SKIP reason" lines, at any depth
    skipped = [...tap.matchAll(/^\s*ok \d+ - (.*?) # SKIP\s*(.*)$/gm)].map(
      (m) => `${m[1]}: ${m[2] || 'skipped'}`,
    );
  } catch {
    failed = Math.max(failed, 1);
  }
  if (code !== 0 && failed === 0) failed = 1;
  if (skipped.length > 0) {
    console.log(`${skipped.length} skipped${noSkips ? ', counted as failed (BRINE_NO_SKIPS=1)' : ''}:`);
    for (const s of skipped) console.log(`  - ${s}`);
    if (noSkips) failed += skipped.length;
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
});
