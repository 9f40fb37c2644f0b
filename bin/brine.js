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
require(main)
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code),
    (e) => {
      console.error(`brine: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(2);
    },
  );
