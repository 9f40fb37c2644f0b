// The test tiers, as data: each tier names the folders (ending in "/") and files of dist/test it runs, relative to
// dist/test. Every compiled test file belongs to exactly one tier; scripts/run-tests.js refuses to run otherwise.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** in the order `npm test` and .ci/run run them; `about` is what the runner prints as a tier starts */
const TIERS = {
  unit: {
    about:
      'no services: the pickle machine, the scanner, folder layouts, the CLI scanning files, deployment files, style',
    paths: [
      'pickle/',
      'scanner/',
      'layouts/',
      'cli/scan-ci.test.js',
      'cli/ci-integrations.test.js',
      'cli/pre-commit.test.js',
      'cli/readme.test.js',
      'deploy/compose.test.js',
      'lint.test.js',
      'layering.test.js',
      'test-tiers.test.js',
    ],
  },
  e2e: {
    about: 'the API, registry and CLI against real PostgreSQL, Redis and S3',
    paths: [
      'api/',
      'registry/',
      'cli/brine-commands.test.js',
      'cli/cli-commands.test.js',
      'cli/package.test.js',
      'deploy/config.test.js',
      'deploy/startup.test.js',
      'deploy/quick-start.test.js',
    ],
  },
  outages: {
    about: 'fault injection: PostgreSQL, Redis and S3 failing, processes killed; memory under big uploads',
    paths: ['outages/'],
  },
  browser: { about: "the dashboard in Debian's Chromium", paths: ['dashboard/'] },
  python: { about: 'the Python client, load recipes, advice and twins in real torch', paths: ['python/'] },
};

/**
 * The compiled test files of the checkout at `root` (*.test.js under dist/test), as paths relative to dist/test with "/"
 * separators; `stale` are those whose source (test/….ts) is gone: tsc never deletes what it once wrote.
 */
function compiledTests(root) {
  const dir = path.join(root, 'dist', 'test');
  const walk = (d) =>
    fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(d, e.name);
      return e.isDirectory() ? walk(p) : e.name.endsWith('.test.js') ? [p] : [];
    });
  const all = walk(dir)
    .map((f) => path.relative(dir, f).split(path.sep).join('/'))
    .sort();
  const source = (f) => path.join(root, 'test', f.replace(/\.js$/, '.ts'));
  return {
    files: all.filter((f) => fs.existsSync(source(f))),
    stale: all.filter((f) => !fs.existsSync(source(f))),
  };
}

/**
 * Assigns each file (relative to dist/test) to its tier. `problems` lists the files in no tier or in several, and the
 * table's entries that name no file: each is a mistake in the table.
 */
function assignTiers(files, tiers = TIERS) {
  const byTier = Object.fromEntries(Object.keys(tiers).map((t) => [t, []]));
  const problems = [];
  const used = new Set();
  for (const f of files) {
    const owners = [];
    for (const [tier, { paths }] of Object.entries(tiers))
      for (const p of paths)
        if (p.endsWith('/') ? f.startsWith(p) : f === p) {
          owners.push(`${tier} (${p})`);
          used.add(`${tier}\0${p}`);
          if (!byTier[tier].includes(f)) byTier[tier].push(f);
        }
    if (owners.length === 0)
      problems.push(`${f} belongs to no tier: add it to TIERS in scripts/test-tiers.js`);
    if (owners.length > 1) problems.push(`${f} belongs to several tiers: ${owners.join(', ')}`);
  }
  for (const [tier, { paths }] of Object.entries(tiers))
    for (const p of paths)
      if (!used.has(`${tier}\0${p}`)) problems.push(`${tier}: "${p}" names no compiled test file`);
  return { byTier, problems };
}

module.exports = { TIERS, compiledTests, assignTiers };
