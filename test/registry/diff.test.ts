import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES } from '../helpers/paths';
import { put, scanned, startStack, type Stack } from '../helpers/stack';

/** GET /checkpoints/:name/diff end to end, on files written by torch 1.13 (test/fixtures/generate_twin_files.py). */
let s: Stack;
before(async () => {
  s = await startStack();
  const f = (p: string) => readFileSync(join(FIXTURES, p));
  await put(s, 'df', 'a', f('twin/diff_a.pt'));
  await put(s, 'df', 'b', f('twin/diff_b.pt'));
  await put(s, 'df', 'c', f('files/h_os_system_zip.pt'));
  await put(s, 'df', 'legacy', f('files/b_legacy_state_dict.pt'));
  for (const v of ['a', 'b', 'c', 'legacy']) await scanned(s, 'df', v);
});
after(async () => {
  await s?.close();
});

interface Diff {
  complete: boolean;
  counts: Record<string, number>;
  tensors: {
    added: Array<{ name: string }>;
    removed: Array<{ name: string }>;
    reshaped: Array<{ name: string; from: { shape: number[] }; to: { shape: number[] } }>;
    bytesChanged: string[];
    unknown: string[];
  };
  parameters: { from: number; to: number; delta: number };
  verdict: { from: string; to: string; changed: boolean };
  imports: { added: Array<{ module: string; name: string; class: string }> };
  summary: string[];
}

const diff = async (from: string, to: string) => {
  const r = await s.api(`/checkpoints/df/diff?from=${from}&to=${to}`);
  return { status: r.status, body: (await r.json()) as Diff & { message?: string } };
};

describe('version diffs', () => {
  it('takes tags wherever it takes a version, and says which version each resolved to', async () => {
    assert.equal(
      (
        await s.api('/checkpoints/df/tags/prod', {
          method: 'PUT',
          json: { version: 'a', acknowledgeRisk: true },
        })
      ).status,
      200,
    );
    const r = await s.api('/checkpoints/df/diff?from=prod&to=latest');
    const body = (await r.json()) as { from: string; to: string; tags: unknown; message?: string };
    assert.equal(r.status, 200, body.message);
    assert.deepEqual([body.from, body.to, body.tags], ['a', 'legacy', { from: 'prod', to: 'latest' }]);
    const v = (await (await s.api('/checkpoints/df/diff?from=a&to=b')).json()) as { tags: unknown };
    assert.deepEqual(v.tags, { from: null, to: null });
    const missing = await s.api('/checkpoints/df/diff?from=a&to=nope');
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { message: string }).message, /no version or tag nope/);
  });

  it('names tensors added, removed, reshaped and with new values, from the storage checksums', async () => {
    const { status, body } = await diff('a', 'b');
    assert.equal(status, 200, body.message);
    assert.deepEqual(
      body.tensors.added.map((t) => t.name),
      ['new.buffer'],
    );
    assert.deepEqual(
      body.tensors.removed.map((t) => t.name),
      ['old.buffer'],
    );
    assert.deepEqual(
      body.tensors.reshaped.map((t) => [t.name, t.from.shape, t.to.shape]),
      [['emb.weight', [5, 2], [6, 2]]],
    );
    assert.deepEqual(body.tensors.bytesChanged, ['fc.weight']);
    assert.equal(body.counts.unchanged, 1, 'fc.bias kept its bytes');
    assert.deepEqual(body.parameters, { from: 12 + 3 + 10 + 2, to: 12 + 3 + 12 + 2, delta: 2 });
    assert.equal(body.verdict.changed, false);
    assert.equal(body.complete, true);
  });

  it('says when a version started importing code, and that its verdict changed', async () => {
    const { body } = await diff('b', 'c');
    assert.deepEqual(body.verdict, { from: 'safe', to: 'dangerous', changed: true });
    assert.ok(
      body.imports.added.some((i) => `${i.module}.${i.name}` === 'os.system' && i.class === 'dangerous'),
    );
    assert.equal(body.summary[0], 'the verdict went from safe to dangerous');
    assert.ok(body.summary.includes('started importing os.system (dangerous)'), body.summary.join('; '));
  });

  it('marks tensors it cannot compare, and refuses what cannot be diffed', async () => {
    const legacy = await diff('legacy', 'legacy');
    assert.equal(legacy.status, 200);
    assert.equal(legacy.body.complete, false, 'a legacy file has no CRC-32 per storage');
    assert.ok(legacy.body.tensors.unknown.length > 0);
    assert.equal((await diff('a', 'nope')).status, 404);
    assert.equal((await s.api('/checkpoints/df/diff?from=a')).status, 400);
    assert.equal((await put(s, 'df', 'diff', readFileSync(join(FIXTURES, 'twin/diff_a.pt')))).status, 400);
  });
});
