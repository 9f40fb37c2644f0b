import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH_VERSIONS } from '@brine/scanner';
import { FIXTURES } from '../helpers/paths';
import { scanFile } from '../helpers/scan-file';

/**
 * The repository's own fixtures (test/fixtures/generate.py, labelled by real torch with torch-oracle):
 * format, kind, verdict and the rules that must fire are in expected.json; the per-version load outcome is
 * torch's own, from oracle.json.
 */
interface Expected {
  format: string;
  kind: string;
  verdict: string;
  rules: string[];
}

const files = readdirSync(join(FIXTURES, 'files')).sort();
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
  string,
  Expected
>;
const oracle = JSON.parse(readFileSync(join(FIXTURES, 'oracle.json'), 'utf8')).files as Record<
  string,
  Record<string, { ok: boolean }>
>;

describe('fixtures', () => {
  it('every fixture has an expectation and a torch label', () => {
    assert.deepEqual(Object.keys(expected).sort(), files);
    assert.deepEqual(Object.keys(oracle).sort(), files);
  });

  for (const f of files) {
    it(f, async () => {
      const r = await scanFile(join(FIXTURES, 'files', f));
      const e = expected[f];
      assert.equal(r.format, e.format, 'format');
      assert.equal(r.kind, e.kind, 'kind');
      assert.equal(r.verdict, e.verdict, `verdict (${r.summary})`);
      for (const v of TORCH_VERSIONS) {
        assert.equal(
          r.weightsOnly.byVersion[v].loads,
          oracle[f][v].ok,
          `torch ${v}: ${r.weightsOnly.byVersion[v].reason}`,
        );
      }
      const rules = new Set(r.findings.map((x) => x.rule));
      for (const rule of e.rules)
        assert.ok(rules.has(rule), `rule ${rule} should fire; got ${[...rules].join(', ')}`);
      if (f.startsWith('h_')) assert.notEqual(r.verdict, 'safe');
      if (r.verdict === 'safe') assert.equal(r.weightsOnly.byVersion['2.14'].loads, true);
    });
  }
});

describe('verdict details', () => {
  it('points at the offending import with entry, offset and opcode', async () => {
    const r = await scanFile(join(FIXTURES, 'files', 'h_os_system_zip.pt'));
    const f = r.findings.find((x) => x.rule === 'import-dangerous');
    assert.ok(f);
    assert.equal(f.module, 'os');
    assert.equal(f.name, 'system');
    assert.equal(f.entry, 'archive/data.pkl');
    assert.equal(f.offset, 2);
    assert.equal(f.opcode, 'GLOBAL');
  });

  it('lists a state_dict inventory from the pickle alone', async () => {
    const r = await scanFile(join(FIXTURES, 'files', 'b_state_dict.pt'));
    assert.equal(r.kind, 'state_dict');
    const names = r.tensors.items.map((t) => t.name);
    assert.ok(names.includes('0.weight') && names.includes('1.running_mean'), names.join(','));
    const w = r.tensors.items.find((t) => t.name === '0.weight');
    assert.deepEqual(w?.shape, [8, 4]);
    assert.equal(w?.dtype, 'float32');
    assert.equal(
      r.tensors.parameters,
      r.tensors.items.reduce((a, t) => a + t.numel, 0),
    );
  });

  it('names checkpoint tensors by their path, optimizer state included', async () => {
    const r = await scanFile(join(FIXTURES, 'files', 'b_train_checkpoint.pt'));
    const names = r.tensors.items.map((t) => t.name);
    assert.ok(names.includes('model_state_dict.0.weight'), names.join(','));
    assert.ok(
      names.some((n) => /^optimizer_state_dict\.state\.\d+\.exp_avg$/.test(n)),
      names.join(','),
    );
  });

  it('suggests add_safe_globals for a refused global that is not hostile, and honours --allow', async () => {
    const path = join(FIXTURES, 'files', 's_ckpt_namespace.pt');
    const r = await scanFile(path);
    assert.equal(r.weightsOnly.byVersion['2.14'].fix, 'argparse.Namespace');
    const allowed = await scanFile(path, { allow: ['argparse.Namespace'] });
    assert.equal(allowed.weightsOnly.byVersion['2.14'].loads, true);
    assert.equal(allowed.imports.find((i) => i.name === 'Namespace')?.class, 'allowed');
  });

  it("meets torch's BUILD check on numpy's per-type dtype classes, and the recipe allows them", async () => {
    // real torch 2.6/2.14 with the four numpy globals allowed still refuses: BUILD on numpy.dtype('f8') sees
    // numpy.dtypes.Float64DType (test/python/recipes.test.ts runs the recipe in real torch)
    const path = join(FIXTURES, 'files', 's_ckpt_numpy_inside.pt');
    const four = ['numpy._core.multiarray._reconstruct', 'numpy.ndarray', 'numpy.dtype', '_codecs.encode'];
    const partial = await scanFile(path, { allow: four });
    assert.equal(partial.weightsOnly.byVersion['2.14'].loads, false);
    assert.match(
      partial.weightsOnly.byVersion['2.14'].reason ?? '',
      /Can only build Tensor, Parameter, OrderedDict or types allowlisted via `add_safe_globals`, but got <class 'numpy\.dtypes\.Float64DType'>/,
    );
    const all = await scanFile(path, { allow: [...four, 'numpy.dtypes.Float64DType'] });
    assert.equal(all.weightsOnly.byVersion['2.14'].loads, true);
    const r = await scanFile(path);
    for (const v of ['2.6', '2.14'] as const) {
      assert.equal(r.howToLoad[v].loads, true, v);
      assert.deepEqual(r.howToLoad[v].safeGlobals, [...four.slice(0, 3), 'numpy.dtypes.Float64DType']);
      assert.match(r.howToLoad[v].code ?? '', /from numpy\.dtypes import Float64DType/);
    }
    assert.equal(r.howToLoad['1.13'].loads, false);
  });

  it('writes no load recipe for a file it could not read to the end', async () => {
    const r = await scanFile(join(FIXTURES, 'files', 'u_truncated.safetensors'));
    assert.equal(r.verdict, 'unknown');
    for (const v of ['1.13', '2.6', '2.14'] as const) {
      assert.equal(r.howToLoad[v].loads, false);
      assert.equal(r.howToLoad[v].code, null);
    }
  });

  it('never suggests allowlisting a code-execution primitive', async () => {
    const r = await scanFile(join(FIXTURES, 'files', 'h_os_system.pkl'));
    assert.match(r.weightsOnly.byVersion['1.13'].reason ?? '', /Unsupported class/);
    for (const v of ['1.13', '2.6', '2.14'] as const)
      assert.equal(r.weightsOnly.byVersion[v].fix, undefined, v);
  });

  it('judges against the requested torch version', async () => {
    const path = join(FIXTURES, 'files', 'b_train_checkpoint.pt');
    assert.equal((await scanFile(path, { target: '2.14' })).verdict, 'safe');
    const old = await scanFile(path, { target: '1.13' });
    assert.equal(old.verdict, 'suspicious');
    assert.match(old.weightsOnly.byVersion['1.13'].reason ?? '', /Unsupported operand 71/);
  });

  it('loads *.safetensors paths on 2.14 only under that name', async () => {
    const path = join(FIXTURES, 'files', 'b_weights.safetensors');
    assert.equal((await scanFile(path)).weightsOnly.byVersion['2.14'].loads, true);
    assert.equal(
      (await scanFile(path, { filename: 'weights.bin' })).weightsOnly.byVersion['2.14'].loads,
      false,
    );
  });
});
