#!/usr/bin/env node
'use strict';
// Entry point of the `brine` command; the CLI itself is built into dist/ by `npm run build`.
const path = require('node:path');
const main = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
try {
  require.resolve(main);
} catch {
  console.error('brine: not built yet — run `npm run build` first');
  process.exit(2);
}
// exit only once stdout and stderr have drained: pipes are written asynchronously and process.exit() would cut them
const exit = (code) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
require(main)
  .main(process.argv.slice(2))
  .then(exit, (e) => {
    console.error(`brine: ${e instanceof Error ? e.message : String(e)}`);
    exit(2);
  });
