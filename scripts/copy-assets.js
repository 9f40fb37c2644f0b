// Copies the files the compiled code reads at run time next to it in dist/: the dashboard's static files (HTML,
// CSS) and the scanner's data (gadget lists; the scanned list is loaded on first use, so tsc does not copy it).
const { cpSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
cpSync(join(root, 'apps', 'api', 'dashboard', 'static'), join(root, 'dist', 'apps', 'api', 'dashboard'), {
  recursive: true,
});
cpSync(join(root, 'libs', 'scanner', 'data'), join(root, 'dist', 'libs', 'scanner', 'data'), {
  recursive: true,
});
