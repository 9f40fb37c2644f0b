// Puts the files the compiled code reads at run time next to it in dist/: the dashboard's static files (HTML,
// CSS), the shared API client for the browser (below) and the scanner's data (gadget lists; the scanned list is
// loaded on first use, so tsc does not copy it).
const { cpSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const ts = require('typescript');

const root = join(__dirname, '..');
const dashboard = join(root, 'dist', 'apps', 'dashboard');
cpSync(join(root, 'apps', 'dashboard', 'static'), dashboard, { recursive: true });
cpSync(join(root, 'libs', 'scanner', 'data'), join(root, 'dist', 'libs', 'scanner', 'data'), {
  recursive: true,
});

// The dashboard calls the API through libs/contracts' request() and the route table's plain data (ENDPOINTS),
// loaded from /ui/contracts/src/ (its tsconfig reads their declarations from dist/types through rootDirs). The
// browser gets request.ts itself as an ES module, and ENDPOINTS as data: neither the schemas nor zod.
const out = join(dashboard, 'contracts', 'src');
mkdirSync(out, { recursive: true });
const source = join(root, 'libs', 'contracts', 'src', 'request.ts');
const { outputText } = ts.transpileModule(readFileSync(source, 'utf8'), {
  fileName: source,
  compilerOptions: {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    verbatimModuleSyntax: true,
  },
});
if (/^\s*import\s/m.test(outputText))
  throw new Error(
    'libs/contracts/src/request.ts must import nothing at run time: the browser loads it alone',
  );
writeFileSync(join(out, 'request.js'), outputText);
const { ENDPOINTS } = require(join(root, 'dist', 'libs', 'contracts', 'src', 'endpoints.js'));
writeFileSync(
  join(out, 'endpoints.js'),
  '// Written by scripts/copy-assets.js from libs/contracts (ENDPOINTS): what request() needs of each route.\n' +
    `export const ENDPOINTS = ${JSON.stringify(ENDPOINTS, null, 2)};\n`,
);
