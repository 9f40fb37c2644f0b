// Copies the dashboard's static files (HTML, CSS) next to its compiled scripts in dist/.
const { cpSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
cpSync(join(root, 'apps', 'api', 'dashboard', 'static'), join(root, 'dist', 'apps', 'api', 'dashboard'), {
  recursive: true,
});
