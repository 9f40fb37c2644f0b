import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { TORCH_VERSIONS, type LoadRecipe, type TorchVersion } from '@brine/scanner/report';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';
import { scanFile } from '../helpers/scan-file';
import { runJsonHarness, torchMissing } from '../helpers/torch-python';

/**
 * Every load recipe Brine writes for the fixtures is run, as pasted, by the torch it is for: 1.13 from Debian's
 * /usr/bin/python3, 2.6 and 2.14 inside torch-oracle's roots (test/helpers/torch-python.ts). A recipe that claims to
 * load must load; nothing else is run.
 */
const DIR = join(FIXTURES, 'files');
const HARNESS = join(REPO_ROOT, 'test', 'python', 'run_recipes.py');

interface Outcome {
  id: string;
  outcome: 'ok' | 'error' | 'skipped';
  detail: string;
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

async function check(v: TorchVersion): Promise<void> {
  const items = recipes[v].map(({ id, code }) => ({ id, code }));
  assert.ok(items.length >= 10, `recipes that load on ${v}: ${items.length}`);
  const r = await runJsonHarness<Outcome>(v, HARNESS, DIR, items);
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
    const missing = torchMissing('1.13');
    assert.equal(missing, null, missing ?? '');
    assert.equal(
      recipes['1.13'].filter((x) => x.recipe.safeGlobals.length).length,
      0,
      '1.13 cannot add globals',
    );
    await check('1.13');
  });

  for (const v of ['2.6', '2.14'] as const) {
    it(
      `every recipe for torch ${v} loads its file in torch-oracle's torch ${v}`,
      { skip: torchMissing(v) ?? false },
      async () => {
        assert.ok(
          recipes[v].some((x) => x.recipe.safeGlobals.length > 0),
          'some fixture needs safe globals on 2.x (argparse.Namespace, numpy)',
        );
        await check(v);
      },
    );
  }
});
