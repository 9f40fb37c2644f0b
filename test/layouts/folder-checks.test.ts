import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkFolder,
  type FileScan,
  type FolderReport,
  type JsonInput,
  type ManifestEntry,
} from '@brine/layouts';

/** checkFolder's folder-wide rules on made-up inputs: the cases the fixture folders do not hold */
const SHA = 'b'.repeat(64);
const files = (...paths: string[]): ManifestEntry[] => paths.map((path) => ({ path, size: 8, sha256: SHA }));

function safetensors(...tensors: Array<[string, string, number[]]>): FileScan {
  return {
    format: 'safetensors',
    verdict: 'safe',
    findings: [],
    imports: [],
    tensors: tensors.map(([name, dtype, shape]) => ({ name, dtype, shape })),
    tensorsTruncated: false,
  };
}

const index = (weightMap: Record<string, string>): JsonInput => ({
  value: { metadata: {}, weight_map: weightMap },
});

function rules(r: FolderReport): string[] {
  return [...r.findings, ...r.files.flatMap((f) => f.findings)].map((f) => `${f.severity}:${f.rule}`).sort();
}

describe('layouts: folder checks', () => {
  const IDX = 'model.safetensors.index.json';
  const A = 'model-00001-of-00002.safetensors';
  const B = 'model-00002-of-00002.safetensors';

  it('passes a consistent two-shard model', () => {
    const r = checkFolder(files(IDX, A, B), {
      scans: { [A]: safetensors(['a', 'F32', [2]]), [B]: safetensors(['b', 'F32', [2]]) },
      json: { [IDX]: index({ a: A, b: B }) },
    });
    assert.deepEqual(rules(r), []);
    assert.equal(r.verdict, 'safe');
  });

  it('an index naming an absolute path or one with .. is dangerous, naming the path', () => {
    for (const bad of ['/etc/passwd', '../x.safetensors', 'sub/../../x.safetensors', 'C:/x.safetensors']) {
      const r = checkFolder(files(IDX, A), {
        scans: { [A]: safetensors(['a', 'F32', [2]]) },
        json: { [IDX]: index({ a: A, b: bad }) },
      });
      const f = r.findings.find((x) => x.rule === 'index-outside');
      assert.ok(f, bad);
      assert.equal(f.severity, 'dangerous');
      assert.ok(f.message.includes(JSON.stringify(bad)), f.message);
    }
  });

  it('an index naming a shard the version lacks is suspicious; a sub-folder shard inside is fine', () => {
    const r = checkFolder(files(IDX, A), {
      scans: { [A]: safetensors(['a', 'F32', [2]]) },
      json: { [IDX]: index({ a: A, b: B }) },
    });
    assert.deepEqual(rules(r), ['suspicious:index-missing-shard']);
    const sub = 'shards/' + B;
    const ok = checkFolder(files(IDX, A, sub), {
      scans: { [A]: safetensors(['a', 'F32', [2]]), [sub]: safetensors(['b', 'F32', [2]]) },
      json: { [IDX]: index({ a: A, b: sub }) },
    });
    assert.deepEqual(rules(ok), []);
  });

  it('a tensor in two shards is dangerous, with its two shapes when they differ', () => {
    const r = checkFolder(files(IDX, A, B), {
      scans: { [A]: safetensors(['a', 'F32', [2]]), [B]: safetensors(['b', 'F32', [2]], ['a', 'F32', [3]]) },
      json: { [IDX]: index({ a: A, b: B }) },
    });
    const f = r.findings.find((x) => x.rule === 'tensor-repeated');
    assert.equal(f?.severity, 'dangerous');
    assert.match(
      f?.message ?? '',
      /"a" is in model-00001-of-00002\.safetensors and model-00002-of-00002\.safetensors with different dtypes or shapes \(F32\[2\] vs F32\[3\]\)/,
    );
    assert.equal(r.verdict, 'dangerous');
  });

  it('the index and the shards disagreeing on where a tensor is is dangerous; unlisted and missing tensors are suspicious', () => {
    const r = checkFolder(files(IDX, A, B), {
      scans: { [A]: safetensors(['a', 'F32', [2]], ['c', 'F32', [1]]), [B]: safetensors(['b', 'F32', [2]]) },
      json: { [IDX]: index({ a: B, b: B, d: A }) },
    });
    assert.deepEqual(rules(r), [
      'dangerous:index-shard-disagree',
      'suspicious:tensor-missing',
      'suspicious:tensor-unindexed',
    ]);
  });

  it("DeepSpeed's latest must name a folder inside the checkpoint", () => {
    const fs = files('latest', 'global_step10/mp_rank_00_model_states.pt');
    const scans = {
      'global_step10/mp_rank_00_model_states.pt': { ...safetensors(), format: 'torch-zip' as const },
    };
    assert.deepEqual(rules(checkFolder(fs, { scans, text: { latest: 'global_step10\n' } })), []);
    for (const bad of ['../../etc', '/tmp/x', 'global_step10/../..', ''])
      assert.deepEqual(
        rules(checkFolder(fs, { scans, text: { latest: bad } })),
        ['dangerous:latest-outside'],
        bad,
      );
    assert.deepEqual(rules(checkFolder(fs, { scans, text: { latest: 'global_step11' } })), [
      'suspicious:latest-missing',
    ]);
  });

  it('a .distcp whose items were not scanned is unknown, never safe', () => {
    const r = checkFolder(files('.metadata', '__0_0.distcp'), {
      scans: {
        '.metadata': { ...safetensors(), format: 'pickle', imports: [{ module: 'torch', name: 'Size' }] },
      },
    });
    assert.deepEqual(rules(r), ['unknown:distcp-items-unscanned']);
    assert.equal(r.verdict, 'unknown');
  });

  it('DCP: storage_data naming a file outside the checkpoint is dangerous; an item disagreeing with .metadata too', () => {
    const metadata = {
      items: [
        { fqn: 'w', chunkOffsets: [0], relativePath: '__0_0.distcp', offset: 0, length: 8 },
        { fqn: 'w2', chunkOffsets: [0], relativePath: '../../../etc/shadow', offset: 0, length: 8 },
      ],
      tensors: [{ fqn: 'w', dtype: 'float32', size: [4], chunks: [{ offsets: [0], sizes: [4] }] }],
      bytes: [],
    };
    const meta = {
      ...safetensors(),
      format: 'pickle' as const,
      imports: [{ module: 'torch', name: 'Size' }],
    };
    const item = (shape: number[]) => ({
      fqn: 'w',
      chunkOffsets: [0],
      scan: { ...safetensors(['', 'float32', shape]), format: 'torch-zip' as const },
    });
    const r = checkFolder(files('.metadata', '__0_0.distcp'), {
      scans: { '.metadata': meta },
      distcpItems: { '__0_0.distcp': [item([4])] },
      dcp: { '.metadata': { metadata } },
    });
    assert.deepEqual(rules(r), ['dangerous:dcp-storage-outside']);
    assert.match(r.findings[0].message, /"\.\.\/\.\.\/\.\.\/etc\/shadow"/);
    const bad = checkFolder(files('.metadata', '__0_0.distcp'), {
      scans: { '.metadata': meta },
      distcpItems: { '__0_0.distcp': [item([5])] },
      dcp: { '.metadata': { metadata: { ...metadata, items: [metadata.items[0]] } } },
    });
    assert.deepEqual(rules(bad), ['dangerous:dcp-item-disagree']);
    assert.match(
      bad.files[1].findings[0].message,
      /\.metadata says float32\[4\], the item holds float32\[5\]/,
    );
  });

  it('a full unpickle keeps what weights_only would refuse, except what the vetted list proves harmless', () => {
    const scan = (cls: 'harmless' | 'suspicious'): FileScan => ({
      ...safetensors(),
      format: 'torch-zip',
      verdict: 'suspicious',
      imports: [{ module: 'argparse', name: 'Namespace', class: cls }],
      findings: [
        {
          severity: 'suspicious',
          rule: 'weights-only-refused',
          module: null,
          name: null,
          message: 'refused',
        },
        {
          severity: 'suspicious',
          rule: 'import-not-allowed',
          module: 'argparse',
          name: 'Namespace',
          message: 'imports',
        },
      ],
    });
    const p = 'last.ckpt';
    assert.equal(checkFolder(files(p), { scans: { [p]: scan('harmless') } }).verdict, 'safe');
    const r = checkFolder(files(p), { scans: { [p]: scan('suspicious') } });
    assert.equal(r.verdict, 'suspicious');
    assert.deepEqual(rules(r), ['info:full-unpickle', 'suspicious:import-not-allowed']);
  });

  it('auto_map naming code in another repository is named as such', () => {
    const r = checkFolder(files('config.json', 'model.safetensors'), {
      scans: { 'model.safetensors': safetensors(['w', 'F32', [1]]) },
      json: {
        'config.json': {
          value: {
            auto_map: { AutoModel: 'evil/repo--modeling_x.Model', AutoTokenizer: ['tok.Slow', null] },
          },
        },
      },
    });
    const f = r.findings.find((x) => x.rule === 'remote-code');
    assert.match(f?.message ?? '', /modeling_x\.py from the repository evil\/repo/);
    assert.match(f?.message ?? '', /tok\.py, which the version does not hold/);
  });

  it('a config not parsed, or not JSON, is unknown: its auto_map is unchecked', () => {
    const scans = { 'model.safetensors': safetensors(['w', 'F32', [1]]) };
    const unread = checkFolder(files('config.json', 'model.safetensors'), { scans });
    assert.deepEqual(rules(unread), ['unknown:json-unread']);
    const invalid = checkFolder(files('config.json', 'model.safetensors'), {
      scans,
      json: { 'config.json': { error: 'bad' } },
    });
    assert.deepEqual(rules(invalid), ['unknown:json-invalid']);
    assert.equal(invalid.verdict, 'unknown');
  });

  it('an unparsable index leaves the shards unchecked: unknown', () => {
    const r = checkFolder(files(IDX, A), {
      scans: { [A]: safetensors(['a', 'F32', [2]]) },
      json: { [IDX]: { error: 'Unexpected token' } },
    });
    assert.deepEqual(rules(r), ['unknown:index-unread']);
    assert.equal(r.verdict, 'unknown');
  });
});
