import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/paths';
import { put, startStack, type Stack } from '../helpers/stack';

/** Lineage given at upload: stored, shown, searchable, and checked at the edge. */
let s: Stack;
before(async () => {
  s = await startStack({ withWorker: false });
});
after(async () => {
  await s?.close();
});

const fx = (f: string) => readFileSync(join(FIXTURES, 'twin', f));
type Lineage = {
  parent: string | null;
  gitCommit: string | null;
  runUrl: string | null;
  dataset: string | null;
};

describe('lineage', () => {
  it('is stored with the version, shown, and found by any of its fields', async () => {
    assert.equal(
      (await put(s, 'ln', 'base', fx('diff_a.pt'), { 'x-brine-dataset': 'imagenet-1k' })).status,
      201,
    );
    const r = await put(s, 'ln', 'ft', fx('diff_b.pt'), {
      'x-brine-parent': 'base',
      'x-brine-git-commit': 'ABCDEF1234567',
      'x-brine-run-url': 'https://wandb.ai/team/proj/runs/42',
      'x-brine-dataset': 'cifar-10',
    });
    assert.equal(r.status, 201);
    const v = (await (await s.api('/checkpoints/ln/ft')).json()) as { lineage: Lineage };
    assert.deepEqual(v.lineage, {
      parent: 'base',
      gitCommit: 'abcdef1234567',
      runUrl: 'https://wandb.ai/team/proj/runs/42',
      dataset: 'cifar-10',
    });
    const base = (await (await s.api('/checkpoints/ln/base')).json()) as { lineage: Lineage };
    assert.deepEqual(base.lineage, { parent: null, gitCommit: null, runUrl: null, dataset: 'imagenet-1k' });
    const find = async (q: string) =>
      (
        (await (await s.api(`/checkpoints/ln?${q}`)).json()) as { versions: Array<{ version: string }> }
      ).versions.map((x) => x.version);
    assert.deepEqual(await find('gitCommit=ABCDEF1234567'), ['ft']);
    assert.deepEqual(await find('parent=base'), ['ft']);
    assert.deepEqual(await find('dataset=imagenet-1k'), ['base']);
    assert.deepEqual(await find('dataset=nothing'), []);
    assert.deepEqual((await find('')).sort(), ['base', 'ft']);
  });

  it('refuses a parent that does not exist and values that are not what they say, storing nothing', async () => {
    for (const [h, v, why] of [
      ['x-brine-parent', 'nope', /does not exist/],
      ['x-brine-parent', 'other:base', /does not exist/],
      ['x-brine-git-commit', 'not-a-sha', /hexadecimal/],
      ['x-brine-run-url', 'javascript:alert(1)', /http\(s\) URL/],
      ['x-brine-run-url', 'https://user:pw@host/x', /without credentials/],
      ['x-brine-dataset', 'x'.repeat(257), /1 to 256 printable/],
    ] as const) {
      const r = await put(s, 'ln', 'bad', fx('diff_a.pt'), { [h]: v });
      assert.equal(r.status, 400, `${h}: ${v}`);
      assert.match(((await r.json()) as { message: string }).message, why);
    }
    assert.equal((await s.api('/checkpoints/ln/bad')).status, 404);
  });
});
