#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) tier by tier (scripts/test-tiers.js) with Node's test
// runner, and ends with one line: "N passed, N failed", summed over the tiers.
//   node scripts/run-tests.js                     every tier, in order (npm test)
//   node scripts/run-tests.js --tier=unit         one tier (npm run test:unit); --tier=e2e,outages for several
//   node scripts/run-tests.js fixture machine     the test files whose path contains one of the fragments
//   node scripts/run-tests.js --tiers             the tier names, one a line, then nothing is run (.ci/run)
// Before anything runs, every compiled test file must belong to exactly one tier.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { TIERS, compiledTests, assignTiers } = require('./test-tiers');

const root = path.join(__dirname, '..');
const testDir = path.join(root, 'dist', 'test');
const args = process.argv.slice(2);
const tierArg = args.find((a) => a.startsWith('--tier='));
const filters = args.filter((a) => !a.startsWith('--'));
// CI (BRINE_NO_SKIPS=1, set by .ci/run) counts a skipped test as failed: a check that did not run proved nothing
const noSkips = process.env.BRINE_NO_SKIPS === '1';

if (args.includes('--tiers')) {
  console.log(Object.keys(TIERS).join('\n'));
  process.exit(0);
}
const tiers = tierArg ? tierArg.slice('--tier='.length).split(',') : Object.keys(TIERS);
const unknown = tiers.filter((t) => !(t in TIERS));
if (unknown.length > 0) {
  console.error(`unknown tier ${unknown.join(', ')}: the tiers are ${Object.keys(TIERS).join(', ')}`);
  console.log('0 passed, 1 failed');
  process.exit(2);
}
if (!fs.existsSync(testDir)) {
  console.error('no compiled tests: run `npm run build` first');
  process.exit(2);
}

const { files: compiled, stale } = compiledTests(root);
for (const f of stale) console.log(`not run: dist/test/${f}, whose source is gone (rm -rf dist cleans)`);
const { byTier, problems } = assignTiers(compiled);
if (problems.length > 0) {
  console.log('the test tiers (scripts/test-tiers.js) do not cover the tests exactly:');
  for (const p of problems) console.log(`  - ${p}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

/** runs one tier's files; resolves to its counts and the skipped tests */
function runTier(tier, files) {
  const tap = path.join(root, 'dist', `test-results.${tier}.tap`);
  fs.rmSync(tap, { force: true });
  const child = spawn(
    process.execPath,
    [
      '--test',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      '--test-reporter-destination=' + tap,
      ...files.map((f) => path.join(testDir, f)),
    ],
    { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
  );
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      let passed = 0;
      let failed = 0;
      let skipped = [];
      try {
        const text = fs.readFileSync(tap, 'utf8');
        passed = Number(/^# pass (\d+)/m.exec(text)?.[1] ?? 0);
        failed =
          Number(/^# fail (\d+)/m.exec(text)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(text)?.[1] ?? 0);
        // "ok 3 - name # SKIP reason" lines, at any depth
        skipped = [...text.matchAll(/^\s*ok \d+ - (.*?) # SKIP\s*(.*)$/gm)].map(
          (m) => `${m[1]}: ${m[2] || 'skipped'}`,
        );
      } catch {
        failed = Math.max(failed, 1);
      }
      if (code !== 0 && failed === 0) failed = 1;
      resolve({ passed, failed, skipped });
    });
  });
}

(async () => {
  let passed = 0;
  let failed = 0;
  const summary = [];
  for (const tier of tiers) {
    const files = byTier[tier].filter(
      (f) => filters.length === 0 || filters.some((x) => `dist/test/${f}`.includes(x)),
    );
    if (files.length === 0) continue;
    console.log(`\n== tier ${tier} (${TIERS[tier].about}): ${files.length} file(s)`);
    const started = Date.now();
    const r = await runTier(tier, files);
    if (r.skipped.length > 0) {
      console.log(`${r.skipped.length} skipped${noSkips ? ', counted as failed (BRINE_NO_SKIPS=1)' : ''}:`);
      for (const s of r.skipped) console.log(`  - ${s}`);
      if (noSkips) r.failed += r.skipped.length;
    }
    const line = `tier ${tier}: ${r.passed} passed, ${r.failed} failed (${Math.round((Date.now() - started) / 1000)} s)`;
    summary.push(line);
    console.log(line);
    passed += r.passed;
    failed += r.failed;
  }
  if (summary.length === 0 && filters.length > 0) {
    console.log(`no test file matches ${filters.join(', ')}`);
    failed = 1;
  }
  if (summary.length > 1) console.log(`\n${summary.join('\n')}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
