import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROUTES } from '@brine/contracts';
import { REPO_ROOT } from '../helpers/paths';

/** The Python client keeps no hand-written copy of the API: its types and routes are generated from libs/contracts. */
describe("the Python client's API module", () => {
  it('is what scripts/generate-python-api.js makes from the contracts today', () => {
    const out = execFileSync(
      process.execPath,
      [join(REPO_ROOT, 'scripts', 'generate-python-api.js'), '--check'],
      {
        encoding: 'utf8',
      },
    );
    assert.match(out, /up to date/);
  });

  it('names every route the client calls, with the contract method and path', () => {
    const client = readFileSync(join(REPO_ROOT, 'clients', 'python', 'brine', 'client.py'), 'utf8');
    const api = readFileSync(join(REPO_ROOT, 'clients', 'python', 'brine', '_api.py'), 'utf8');
    const used = [...new Set([...client.matchAll(/_path\("(\w+)"/g)].map((m) => m[1]))];
    assert.ok(used.length >= 6, `the client calls ${used.join(', ')}`);
    for (const id of used) {
      const route = (ROUTES as Record<string, { method: string; path: string } | undefined>)[id];
      assert.ok(route, `the client calls route "${id}", which libs/contracts does not declare`);
      assert.ok(
        api.includes(`"${id}": ("${route.method.toUpperCase()}", "${route.path}",`),
        `_api.py has ${id} as ${route.method} ${route.path}`,
      );
    }
  });
});
