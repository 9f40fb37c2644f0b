import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemorySource } from '@brine/bytes';
import { LocalFileSource } from '@brine/storage';
import { gather, prepareTwin, safetensorsLayout, type TwinPlan } from '@brine/twin';
import { FIXTURES, REPO_ROOT } from '../helpers/paths';
import { ORACLE, torchMissing } from '../helpers/torch-python';

/**
 * The safetensors twin, converted by the same code the worker runs, checked against real torch: every tensor of
 * every twin equals the original as Debian's torch 1.13 loads it (and, where torch-oracle's 2.14 root is set up,
 * as torch 2.14 loads it and the real safetensors package reads the twin).
 */
const PYTHON = process.env.BRINE_PYTHON ?? '/usr/bin/python3';
const DIR = join(FIXTURES, 'twin');

interface Made {
  file: string;
  twin: string;
  plan: TwinPlan;
  key: string;
}

interface Comparison {
  id: string;
  reader: string;
  torch: string;
  compared: string[];
  differ: string[];
  missing: string[];
  metadata: Record<string, string>;
}

let work: string;
const made = new Map<string, Made>();

async function convert(name: string): Promise<Made> {
  const file = join(DIR, name);
  const src = await LocalFileSource.open(file);
  try {
    const prep = await prepareTwin(src, { path: file, filename: file }, { 'brine.source': name });
    assert.ok(prep.plan, `${name}: ${prep.plan === null ? prep.reason : ''}`);
    const chunks: Buffer[] = [];
    for await (const c of prep.bytes()) chunks.push(Buffer.from(c));
    const bytes = Buffer.concat(chunks);
    assert.equal(bytes.length, prep.plan.layout.size, `${name}: the bytes match the layout's size`);
    const twin = join(work, name.replace(/\.pt$/, '.safetensors'));
    writeFileSync(twin, bytes);
    return { file, twin, plan: prep.plan, key: prep.plan.source };
  } finally {
    await src.close();
  }
}

function compare(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, items: object[]) {
  return new Promise<Comparison[]>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`compare_twin.py exited ${code}: ${err.slice(-3000)}`));
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '[]') as Comparison[]);
    });
    child.stdin.end(JSON.stringify(items));
  });
}

const FILES = ['sd_dtypes.pt', 'sd_views.pt', 'ckpt_training.pt', 'sd_left_out.pt'];
/** written by torch 2.14 (uint16/32/64, float8): only torch 2.x can load them */
const FILES_2X = ['sd_new_dtypes_t2.14.pt'];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'brine-twin-'));
  for (const f of [...FILES, ...FILES_2X]) made.set(f, await convert(f));
});
after(() => rmSync(work, { recursive: true, force: true }));

function checkComparisons(results: Comparison[], torch: string, files: string[]): void {
  assert.equal(results.length, files.length);
  for (const r of results) {
    const m = made.get(r.id)!;
    assert.deepEqual(r.differ, [], `${r.id} on torch ${torch}`);
    const expected = [...m.plan.layout.tensors.map((t) => t.name), ...Object.keys(m.plan.aliases)].sort();
    assert.deepEqual(r.compared, expected, `${r.id}: every tensor of the twin was compared`);
    assert.deepEqual(
      r.missing,
      m.plan.leftOut
        .map((x) => x.key)
        .filter((k) => r.missing.includes(k))
        .sort(),
    );
    assert.equal(r.metadata['brine.source'], r.id);
    assert.equal(r.metadata.format, 'pt');
  }
}

describe('safetensors twin', () => {
  it('keeps every tensor of every dtype equal to what torch 1.13 loads', async () => {
    const items = FILES.map((f) => ({
      id: f,
      original: made.get(f)!.file,
      twin: made.get(f)!.twin,
      key: made.get(f)!.key,
    }));
    const results = await compare(
      PYTHON,
      [join(REPO_ROOT, 'test', 'twin', 'compare_twin.py')],
      REPO_ROOT,
      {
        PYTHONPATH: join(REPO_ROOT, 'clients', 'python'),
      },
      items,
    );
    checkComparisons(results, '1.13', FILES);
    const dtypes = results.find((r) => r.id === 'sd_dtypes.pt')!;
    assert.deepEqual(dtypes.compared, [
      '0',
      'bf16',
      'bool',
      'c64',
      'empty',
      'f16',
      'f32',
      'f64',
      'i16',
      'i32',
      'i64',
      'i8',
      'scalar',
      'u8',
    ]);
    assert.deepEqual(dtypes.missing, []);
  });

  it('stores views in logical order and tied weights once, with the alias in __metadata__', () => {
    const views = made.get('sd_views.pt')!.plan;
    assert.deepEqual(views.aliases, { 'head.weight': 'embed.weight' });
    const byName = new Map(views.layout.tensors.map((t) => [t.name, t]));
    assert.equal(byName.get('transposed')?.contiguous, false);
    assert.equal(byName.get('offset')?.contiguous, true);
    assert.ok((byName.get('offset')?.offset ?? 0) > 0, 'the offset view starts inside its storage');
    assert.deepEqual(byName.get('expanded')?.stride, [1, 0]);
    assert.ok(!byName.has('head.weight'), 'the alias holds no bytes of its own');
    const header = JSON.parse(views.layout.header.subarray(8).toString('utf8')) as Record<string, unknown>;
    assert.deepEqual((header.__metadata__ as Record<string, string>)['head.weight'], 'embed.weight');
  });

  it('takes a training checkpoint’s model state dict and lists what it leaves out', () => {
    const ckpt = made.get('ckpt_training.pt')!.plan;
    assert.equal(ckpt.source, 'model');
    assert.ok(ckpt.layout.tensors.some((t) => t.name === '1.running_mean'));
    const left = made.get('sd_left_out.pt')!.plan;
    assert.deepEqual(left.leftOut.map((x) => x.key).sort(), ['q', 'sparse']);
    assert.deepEqual(left.layout.tensors.map((t) => t.name).sort(), ['b', 'w']);
    const meta = JSON.parse(left.layout.header.subarray(8).toString('utf8')).__metadata__ as Record<
      string,
      string
    >;
    assert.deepEqual(
      JSON.parse(meta['brine.left_out'])
        .map((x: { key: string }) => x.key)
        .sort(),
      ['q', 'sparse'],
    );
  });

  it('writes the header as the reference serializer does: sorted by alignment then name, padded to 8', () => {
    const l = safetensorsLayout(
      [
        { name: 'b', dtype: 'F16', shape: [2], bytes: 4 },
        { name: 'a', dtype: 'F16', shape: [1], bytes: 2 },
        { name: 'z', dtype: 'F32', shape: [1], bytes: 4 },
        { name: '10', dtype: 'BOOL', shape: [1], bytes: 1 },
      ],
      { k: 'v' },
    );
    assert.deepEqual(
      l.tensors.map((t) => [t.name, t.begin, t.end]),
      [
        ['z', 0, 4],
        ['a', 4, 6],
        ['b', 6, 10],
        ['10', 10, 11],
      ],
    );
    const n = Number(l.header.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    assert.equal(l.header.length, 8 + n);
    const text = l.header.subarray(8).toString('utf8');
    assert.ok(text.startsWith('{"__metadata__":{"k":"v"},"z":'), text);
    assert.equal(l.size, 8 + n + 11);
  });

  it('gathers strided views element by element in row-major order', () => {
    // a 3x4 int16 matrix 0..11; its transpose, a column, and an expanded row
    const src = new Uint8Array(24);
    for (let i = 0; i < 12; i++) new DataView(src.buffer).setInt16(i * 2, i, true);
    const read = (shape: number[], stride: number[], chunk = 1 << 20) => {
      const out = Buffer.concat([...gather(src, shape, stride, 2, chunk)]);
      return Array.from({ length: out.length / 2 }, (_, i) => out.readInt16LE(i * 2));
    };
    assert.deepEqual(read([4, 3], [1, 4]), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    assert.deepEqual(read([4, 3], [1, 4], 6), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], 'across small chunks');
    assert.deepEqual(read([3], [4]), [0, 4, 8]);
    assert.deepEqual(read([2, 4], [0, 1]), [0, 1, 2, 3, 0, 1, 2, 3]);
    assert.deepEqual(read([], []), [0]);
    assert.deepEqual(read([0, 3], [3, 1]), []);
  });

  it('writes no twin for what is not a safe torch zip state dict', async () => {
    for (const f of ['files/b_legacy_state_dict.pt', 'files/b_array.npy']) {
      const prep = await prepareTwin(new MemorySource(readFileSync(join(FIXTURES, f))), { path: f }, {});
      assert.equal(prep.plan, null, f);
    }
  });

  it(
    'matches torch 2.14 and the real safetensors package (torch-oracle)',
    { skip: torchMissing('2.14') ?? false },
    async () => {
      const rel = (p: string) => `/src/${p.slice(REPO_ROOT.length + 1)}`;
      // the twins are written inside the repository for the root to see them (under dist/, removed after)
      const inRepo = join(REPO_ROOT, 'dist', 'twin-check');
      rmSync(inRepo, { recursive: true, force: true });
      const items = [...FILES, ...FILES_2X].map((f) => {
        const m = made.get(f)!;
        const twin = join(inRepo, f.replace(/\.pt$/, '.safetensors'));
        mkdirSync(inRepo, { recursive: true });
        writeFileSync(twin, readFileSync(m.twin));
        return { id: f, original: rel(m.file), twin: rel(twin), key: m.key };
      });
      try {
        const results = await compare(
          ORACLE,
          [
            'run',
            '2.14',
            'env',
            'PYTHONPATH=/src/clients/python',
            'python3',
            '/src/test/twin/compare_twin.py',
          ],
          REPO_ROOT,
          {},
          items,
        );
        assert.ok(results.every((r) => r.reader === 'safetensors'));
        checkComparisons(results, '2.14', [...FILES, ...FILES_2X]);
        const fresh = results.find((r) => r.id === FILES_2X[0])!;
        assert.deepEqual(fresh.compared, ['f32_t', 'f8e4', 'f8e5', 'u16', 'u32', 'u64']);
      } finally {
        rmSync(inRepo, { recursive: true, force: true });
      }
    },
  );
});
