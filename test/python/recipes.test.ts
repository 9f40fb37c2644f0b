import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import { TORCH_VERSIONS, type LoadRecipe, type TorchVersion } from '@brine/scanner/report';
import { FIXTURES, REPO_ROOT, SHARED } from '../helpers/paths';
import { scanFile } from '../helpers/scan-file';

/**
 * Every load recipe Brine writes for the fixtures is run, as pasted, by the torch it is for: 1.13 from Debian's
 * /usr/bin/python3, 2.6 and 2.14 inside torch-oracle's roots (skipped where those are not set up). A recipe that
 * claims to load must load; nothing else is run.
 */
const PYTHON = process.env.BRINE_PYTHON ?? '/usr/bin/python3';
const ORACLE = join(SHARED, 'tools', 'torch-oracle');
const ORACLE_HOME = process.env.TORCH_ORACLE_HOME ?? '/var/cache/torch-oracle';
const DIR = join(FIXTURES, 'files');

interface Outcome {
  id: string;
  outcome: 'ok' | 'error' | 'skipped';
  detail: string;
}

function runRecipes(cmd: string, args: string[], cwd: string, items: Array<{ id: string; code: string }>) {
  return new Promise<{ code: number; results: Outcome[]; stderr: string }>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let results: Outcome[] = [];
      try {
        results = JSON.parse(out.trim().split('\n').pop() ?? '[]') as Outcome[];
      } catch {
        /* reported below */
      }
      resolve({ code: code ?? 1, results, stderr });
    });
    child.stdin.end(JSON.stringify(items));
  });
}

const recipes: Record<TorchVersion, Array<{ id: string; code: string; recipe: LoadRecipe }>> = {
  '1.13': [],
  '2.6': [],
  '2.14': [],
};

before(async () => {
  for (const f of readdirSync(DIR).sort()) {
    const report = await scanFile(join(DIR, f));
    for (const v of TORCH_VERSIONS) {
      const recipe = report.howToLoad[v];
      if (recipe.loads && recipe.code)
        recipes[v].push({ id: `${f} on torch ${v}`, code: recipe.code, recipe });
    }
  }
});

async function check(v: TorchVersion, cmd: string, args: string[], cwd: string): Promise<void> {
  const items = recipes[v].map(({ id, code }) => ({ id, code }));
  assert.ok(items.length >= 10, `recipes that load on ${v}: ${items.length}`);
  const r = await runRecipes(cmd, args, cwd, items);
  assert.equal(r.results.length, items.length, r.stderr.slice(-3000));
  const failed = r.results.filter((x) => x.outcome === 'error');
  assert.deepEqual(
    failed.map((x) => x.id),
    [],
    failed.map((x) => `${x.id}:\n${x.detail}`).join('\n'),
  );
  // the recipes that needed safe globals really ran (and are among the ones that loaded)
  const withGlobals = recipes[v].filter((x) => x.recipe.safeGlobals.length > 0).map((x) => x.id);
  for (const id of withGlobals) assert.equal(r.results.find((x) => x.id === id)?.outcome, 'ok', id);
}

describe('load recipes, run by the torch they are for', () => {
  it('every recipe for torch 1.13 loads its file with Debian torch 1.13', async () => {
    assert.ok(existsSync(PYTHON), `${PYTHON} with torch is needed: apt-get install python3-torch`);
    assert.equal(
      recipes['1.13'].filter((x) => x.recipe.safeGlobals.length).length,
      0,
      '1.13 cannot add globals',
    );
    await check('1.13', PYTHON, [join(REPO_ROOT, 'test', 'python', 'run_recipes.py')], DIR);
  });

  for (const v of ['2.6', '2.14'] as const) {
    const ready = existsSync(ORACLE) && existsSync(ORACLE_HOME);
    it(
      `every recipe for torch ${v} loads its file in torch-oracle's torch ${v}`,
      { skip: ready ? false : `torch-oracle is not set up (${ORACLE_HOME})` },
      async () => {
        assert.ok(
          recipes[v].some((x) => x.recipe.safeGlobals.length > 0),
          'some fixture needs safe globals on 2.x (argparse.Namespace, numpy)',
        );
        // torch-oracle shows the current folder at /src
        const inRoot = (p: string) => `/src/${relative(REPO_ROOT, p)}`;
        await check(
          v,
          ORACLE,
          [
            'run',
            v,
            'sh',
            '-c',
            `cd ${inRoot(DIR)} && exec python3 ${inRoot(join(REPO_ROOT, 'test', 'python', 'run_recipes.py'))}`,
          ],
          REPO_ROOT,
        );
      },
    );
  }
});
