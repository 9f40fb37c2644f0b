#!/usr/bin/env node
// Writes the Python client's generated modules, so it keeps no hand-written copy of what Brine declares once:
//  - clients/python/brine/_api.py from the OpenAPI document (itself generated from libs/contracts): the routes and
//    the response shapes as TypedDicts;
//  - clients/python/brine/_vetted.py from the scanner: the torch versions Brine models and, for each, the globals a
//    recipe may allow (its vetted list of harmless constructors): the only globals the client ever allows itself.
// usage: node scripts/generate-python-api.js [--check]   (after `npm run build`; --check fails when one is stale)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const { openApiDocument } = require(path.join(root, 'dist', 'libs', 'contracts', 'src'));
const out = path.join(root, 'clients', 'python', 'brine', '_api.py');

const doc = openApiDocument('http://127.0.0.1:3000');
const schemas = doc.components.schemas;
const classes = [];
const emitted = new Set();

const pyName = (s) => s.replace(/[^A-Za-z0-9_]/g, '_');
const KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);
const identifier = (k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && !KEYWORDS.has(k);

/** the Python type of a JSON schema; object schemas become TypedDicts named after where they sit */
function typeOf(s, hint) {
  if (!s || Object.keys(s).length === 0) return 'Any';
  if (s.$ref) return pyName(s.$ref.split('/').pop());
  if (s.anyOf) {
    const parts = s.anyOf.filter((x) => x.type !== 'null');
    const nullable = parts.length < s.anyOf.length;
    const inner =
      parts.length === 1
        ? typeOf(parts[0], hint)
        : `Union[${parts.map((p, i) => typeOf(p, `${hint}${i}`)).join(', ')}]`;
    return nullable ? `Optional[${inner}]` : inner;
  }
  if (Array.isArray(s.type)) {
    // {"type": ["string", "null"]}
    const types = s.type.filter((t) => t !== 'null');
    const inner = types.length === 1 ? typeOf({ ...s, type: types[0] }, hint) : 'Any';
    return s.type.includes('null') ? `Optional[${inner}]` : inner;
  }
  if (s.enum) return `Literal[${s.enum.map((e) => JSON.stringify(e)).join(', ')}]`;
  if (s.const !== undefined) return `Literal[${JSON.stringify(s.const)}]`;
  switch (s.type) {
    case 'string':
      return 'str';
    case 'integer':
      return 'int';
    case 'number':
      return 'float';
    case 'boolean':
      return 'bool';
    case 'array':
      return `List[${typeOf(s.items, `${hint}Item`)}]`;
    case 'object':
      if (s.properties && Object.keys(s.properties).length > 0) {
        emitClass(hint, s);
        return hint;
      }
      return `Dict[str, ${s.additionalProperties ? typeOf(s.additionalProperties, `${hint}Value`) : 'Any'}]`;
    default:
      return 'Any';
  }
}

function emitClass(name, s) {
  if (emitted.has(name)) return;
  emitted.add(name);
  const required = new Set(s.required ?? []);
  const fields = Object.entries(s.properties ?? {});
  const field = ([k, v]) => {
    const t = typeOf(v, `${name}${k[0].toUpperCase()}${pyName(k.slice(1))}`);
    const doc = v.description ? `  # ${v.description.replace(/\n/g, ' ')}` : '';
    return `    ${k}: ${t}${doc}`;
  };
  if (!fields.every(([k]) => identifier(k))) {
    // keys that are no Python names (torch versions, "from"): the functional form, types as forward references
    const item = ([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(typeOf(v, `${name}_${pyName(k)}`))}`;
    const req = fields.filter(([k]) => required.has(k)).map(item);
    const opt = fields.filter(([k]) => !required.has(k)).map(item);
    if (opt.length === 0) classes.push(`${name} = TypedDict(${JSON.stringify(name)}, {${req.join(', ')}})`);
    else {
      classes.push(
        `_${name}Required = TypedDict(${JSON.stringify(`_${name}Required`)}, {${req.join(', ')}})`,
      );
      classes.push(
        `class ${name}(_${name}Required, total=False):\n${opt.map((o) => `    # ${o}`).join('\n')}\n    pass`,
      );
    }
    return;
  }
  const req = fields.filter(([k]) => required.has(k)).map(field);
  const opt = fields.filter(([k]) => !required.has(k)).map(field);
  const docline = s.description ? `    """${s.description.replace(/"""/g, "'")}"""\n` : '';
  if (opt.length === 0) classes.push(`class ${name}(TypedDict):\n${docline}${req.join('\n') || '    pass'}`);
  else if (req.length === 0)
    classes.push(`class ${name}(TypedDict, total=False):\n${docline}${opt.join('\n')}`);
  else {
    classes.push(`class _${name}Required(TypedDict):\n${req.join('\n')}`);
    classes.push(`class ${name}(_${name}Required, total=False):\n${docline}${opt.join('\n')}`);
  }
}

for (const [name, s] of Object.entries(schemas)) {
  const py = pyName(name);
  if (s.type === 'object' && s.properties) emitClass(py, s);
  else classes.push(`${py} = ${typeOf(s, `${py}Value`)}`);
}

const routes = [];
for (const [p, ops] of Object.entries(doc.paths))
  for (const [method, op] of Object.entries(ops))
    routes.push(
      `    ${JSON.stringify(op.operationId)}: (${JSON.stringify(method.toUpperCase())}, ${JSON.stringify(p)}, ${JSON.stringify(op['x-brine-scope'] ?? 'public')}),`,
    );

const text = `# Generated by scripts/generate-python-api.js from Brine's OpenAPI document (libs/contracts). Do not edit:
# run \`npm run build && node scripts/generate-python-api.js\` after changing the API.
"""The routes and response shapes of Brine's HTTP API."""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict, Union  # noqa: F401

API_VERSION = ${JSON.stringify(doc.info.version)}

# operation id: (method, path, scope)
ROUTES = {
${routes.join('\n')}
}


${classes.join('\n\n\n')}
`;

const scanner = require(path.join(root, 'dist', 'libs', 'scanner', 'src'));
const runtimes = scanner.reviewedRuntimes();
const vettedRows = scanner.TORCH_VERSIONS.map((v) => {
  const names = scanner.PROFILES[v].addSafeGlobals ? scanner.recipeGlobals(v) : [];
  const r = runtimes[v];
  const head = `    # torch ${v}, reviewed with Python ${r.python}, numpy ${r.numpy}, torch ${r.torch}${names.length ? '' : ': it cannot allow globals'}`;
  const body = names.length ? `{\n${names.map((n) => `        ${JSON.stringify(n)},\n`).join('')}    }` : '';
  return `${head}\n    ${JSON.stringify(v)}: frozenset(${body}),`;
});
const vetted = `# Generated by scripts/generate-python-api.js from libs/scanner (its torch profiles and the vetted list of harmless
# constructors, libs/scanner/data/harmless.json). Do not edit: run \`npm run build && node scripts/generate-python-api.js\`.
"""The torch versions Brine models, and the globals its recipes may allow on each: the only ones the client allows."""

# oldest first; a report describes an installed torch by the newest of these that is not newer than it
TORCH_VERSIONS = (${scanner.TORCH_VERSIONS.map((v) => JSON.stringify(v)).join(', ')})

VETTED = {
${vettedRows.join('\n')}
}
`;

const outputs = [
  [out, text],
  [path.join(root, 'clients', 'python', 'brine', '_vetted.py'), vetted],
];
if (process.argv.includes('--check')) {
  let stale = false;
  for (const [file, content] of outputs) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current !== content) {
      console.error(`${path.relative(root, file)} is stale: run node scripts/generate-python-api.js`);
      stale = true;
    } else console.log(`${path.relative(root, file)} is up to date`);
  }
  if (stale) process.exit(1);
} else {
  for (const [file, content] of outputs) {
    fs.writeFileSync(file, content);
    console.log(`wrote ${path.relative(root, file)}`);
  }
}
