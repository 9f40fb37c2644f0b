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

  it('is searched across every checkpoint: short SHAs as prefixes, a parent written any way, children listed', async () => {
    const full = 'abcdef1234560000000000000000000000000000';
    // a parent in another checkpoint, written NAME/VERSION (stored as NAME:VERSION)
    const r = await put(s, 'ln2', 'child', fx('ckpt_training.pt'), {
      'x-brine-parent': 'ln/base',
      'x-brine-git-commit': full,
    });
    assert.equal(r.status, 201, await r.text());
    const search = async (q: string) => {
      const res = await s.api(`/checkpoints?${q}`);
      assert.equal(res.status, 200, `${q}: ${await res.clone().text()}`);
      const j = (await res.json()) as {
        items: Array<{ name: string }>;
        matches: Array<{ name: string; version: string }> | null;
      };
      return {
        items: j.items.map((c) => c.name),
        matches: j.matches && j.matches.map((v) => `${v.name}:${v.version}`).sort(),
      };
    };
    // ft was pushed with the short SHA abcdef1234567, child with the full one
    assert.deepEqual(await search('gitCommit=ABCDEF1'), {
      items: ['ln', 'ln2'],
      matches: ['ln2:child', 'ln:ft'],
    });
    assert.deepEqual(await search('gitCommit=abcdef123456'), {
      items: ['ln', 'ln2'],
      matches: ['ln2:child', 'ln:ft'],
    });
    assert.deepEqual(await search(`gitCommit=${full}`), { items: ['ln2'], matches: ['ln2:child'] });
    assert.deepEqual(await search('gitCommit=abcdef12345600'), { items: ['ln2'], matches: ['ln2:child'] });
    // a full SHA finds a version pushed with a short one
    assert.deepEqual(await search('gitCommit=abcdef1234567890abcdef1234567890abcdef12'), {
      items: ['ln'],
      matches: ['ln:ft'],
    });
    assert.deepEqual(await search('gitCommit=1234567'), { items: [], matches: [] });
    for (const p of ['ln:base', 'ln/base', 'ln%2Fbase'])
      assert.deepEqual(await search(`parent=${p}`), {
        items: ['ln', 'ln2'],
        matches: ['ln2:child', 'ln:ft'],
      });
    // a bare VERSION is a version of the same checkpoint as the child
    assert.deepEqual(await search('parent=base'), { items: ['ln'], matches: ['ln:ft'] });
    assert.deepEqual(await search('parent=ln:base&dataset=cifar-10'), { items: ['ln'], matches: ['ln:ft'] });
    assert.deepEqual((await search('')).matches, null);
    // the listing of one checkpoint takes every form too
    const inCheckpoint = async (name: string, q: string) =>
      (
        (await (await s.api(`/checkpoints/${name}?${q}`)).json()) as { versions: Array<{ version: string }> }
      ).versions.map((x) => x.version);
    assert.deepEqual(await inCheckpoint('ln', 'parent=ln/base'), ['ft']);
    assert.deepEqual(await inCheckpoint('ln', 'parent=ln:base'), ['ft']);
    assert.deepEqual(await inCheckpoint('ln2', 'parent=ln:base'), ['child']);
    assert.deepEqual(await inCheckpoint('ln2', 'gitCommit=abcdef1'), ['child']);
    // a version's children: its record links the search
    const base = (await (await s.api('/checkpoints/ln/base')).json()) as { links: { children: string } };
    const kids = (await (await s.api(base.links.children.slice(s.url.length))).json()) as {
      matches: Array<{ name: string; version: string }>;
    };
    assert.deepEqual(kids.matches.map((v) => `${v.name}:${v.version}`).sort(), ['ln2:child', 'ln:ft']);
    // what is not a filter, or not a commit, is a 400 that says so
    for (const [q, why] of [
      ['gitCommit=abcdef', /at least 7/],
      ['gitCommit=zzzzzzzz', /hexadecimal/],
      ['parent=a:b:c', /NAME:VERSION or NAME\/VERSION/],
      ['gitcommit=abcdef1', /unknown query parameter "gitcommit"/],
    ] as const) {
      for (const path of ['/checkpoints', '/checkpoints/ln']) {
        const res = await s.api(`${path}?${q}`);
        assert.equal(res.status, 400, `${path}?${q}`);
        assert.match(((await res.json()) as { message: string }).message, why);
      }
    }
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
