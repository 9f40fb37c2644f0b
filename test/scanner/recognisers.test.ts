import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MemorySource } from '@brine/bytes';
import { scan } from '@brine/scanner';
import { RECOGNISERS } from '../../libs/scanner/src/scanner';
import { PickleAsm, torchZipOf } from '../helpers/pickle-asm';
import { HOST_PYTHON, torchMissing } from '../helpers/torch-python';

/**
 * The order in which formats are recognised is a security property: the bytes are judged as what torch.load reads
 * them as, whatever else they also are. These tests pin the order and check it on files that are two formats at once.
 */

/** a ustar header whose name field starts with `name` (any bytes), checksum set, no data, then the end blocks */
function tarWithName(name: Buffer): Buffer {
  const h = Buffer.alloc(512);
  name.copy(h, 0);
  const field = (at: number, text: string) => h.write(text, at, 'latin1');
  field(100, '0000644\0');
  field(108, '0000000\0');
  field(116, '0000000\0');
  field(124, '00000000000\0');
  field(136, '00000000000\0');
  field(148, '        ');
  field(156, '0');
  field(257, 'ustar\x0000');
  let sum = 0;
  for (const b of h) sum += b;
  field(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  return Buffer.concat([h, Buffer.alloc(1024)]);
}

describe('recogniser order', () => {
  it('is torch.load’s order first, then the other loaders’, a plain pickle and unknown last', () => {
    assert.deepEqual(
      RECOGNISERS.map((r) => r.name),
      [
        'safetensors-by-path',
        'torch-zip',
        'safetensors-header',
        'torch-tar',
        'torch-legacy',
        'compressed',
        'safetensors',
        'gguf',
        'numpy',
        'torchscript-preview',
        'torchscript-flatbuffer',
        'hdf5',
        'onnx',
        'zip-prefixed',
        'pickle',
        'pickle-header',
        'unrecognised',
      ],
    );
  });

  const dir = mkdtempSync(join(tmpdir(), 'brine-recognisers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'reads a torch zip that is also a valid npz as the torch checkpoint torch reads',
    { skip: torchMissing('1.13') ?? false },
    async () => {
      const path = join(dir, 'model.pt');
      // torch.save's zip with a .npy member added under its prefix: numpy.load opens it as an NpzFile, and torch
      // 1.13 loads it with weights_only=True
      const out = execFileSync(
        HOST_PYTHON,
        [
          '-c',
          `
import io, sys, zipfile, numpy, torch
path = sys.argv[1]
with open(path, 'wb') as f:
    torch.save({'w': torch.zeros(2)}, f)
b = io.BytesIO()
numpy.save(b, numpy.arange(3))
with zipfile.ZipFile(path, 'a') as z:
    z.writestr('archive/w.npy', b.getvalue())
npz = numpy.load(path)
print(type(npz).__name__, list(npz['archive/w']), sorted(torch.load(path, weights_only=True)))
`,
          path,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(out.trim(), "NpzFile [0, 1, 2] ['w']");
      const report = await scan(new MemorySource(readFileSync(path)), { filename: 'model.pt' });
      assert.equal(report.format, 'torch-zip');
      assert.equal(report.kind, 'state_dict');
      assert.equal(report.verdict, 'safe');
      assert.deepEqual(
        report.tensors.items.map((t) => t.name),
        ['w'],
      );
    },
  );

  it('judges a torch zip named .safetensors as torch 2.14 reads it: through the safetensors library', async () => {
    // torch 2.14 (torch-oracle, Debian sid) on a torch.save zip named model.safetensors raises
    // SafetensorError: Error while deserializing header: header too large; 1.13 and 2.6 read the zip
    const zip = torchZipOf(new PickleAsm().proto(2).int(1).op('STOP').bytes());
    const asPt = await scan(new MemorySource(zip), { filename: 'model.pt' });
    assert.equal(asPt.weightsOnly.byVersion['2.14'].loads, true);
    const named = await scan(new MemorySource(zip), { filename: 'model.safetensors' });
    assert.equal(named.format, 'torch-zip');
    assert.equal(named.weightsOnly.byVersion['1.13'].loads, true);
    assert.equal(named.weightsOnly.byVersion['2.6'].loads, true);
    assert.equal(named.weightsOnly.byVersion['2.14'].loads, false);
    assert.equal(
      named.weightsOnly.byVersion['2.14'].reason,
      'SafetensorError: Error while deserializing header: header too large',
    );
  });

  it('reads a tar whose first header is also a whole pickle as the tar torch.load takes it for', async () => {
    const pickle = Buffer.from([0x80, 0x02, 0x4b, 0x01, 0x2e]); // PROTO 2, BININT1 1, STOP
    const alone = await scan(new MemorySource(pickle), { filename: 'x.pt' });
    assert.equal(alone.format, 'pickle');

    const both = await scan(new MemorySource(tarWithName(pickle)), { filename: 'x.pt' });
    assert.notEqual(both.format, 'pickle');
    assert.equal(both.format, 'unknown');
    assert.ok(both.details.tar, 'read as a tar');
    assert.ok(both.findings.some((f) => f.rule === 'unrecognised-format' && /tar archive/.test(f.message)));
    assert.notEqual(both.verdict, 'safe');
  });
});
