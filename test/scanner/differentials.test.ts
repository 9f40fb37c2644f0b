import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TORCH_VERSIONS, type TorchVersion } from '@brine/scanner';
import { LocalFileSource } from '@brine/storage';
import { ZipArchive } from '../../libs/scanner/src/zip/zip-archive';
import { FIXTURES } from '../helpers/paths';
import { scanFile } from '../helpers/scan-file';

/**
 * Container differentials (test/fixtures/generate_differentials.py), labelled by the real loaders with
 * label_differentials.py: torch.load under torch 1.13, 2.6 and 2.14 (which entry it read, whether it loaded,
 * whether a payload ran), and CPython's tarfile and numpy under the Pythons those torches run on.
 */
const DIR = join(FIXTURES, 'differentials');
interface TorchLabel {
  load: { ok: boolean; value?: unknown; error?: string };
  executes?: boolean;
}
type Labels = Record<string, Record<TorchVersion, TorchLabel>>;
const labels = (JSON.parse(readFileSync(join(DIR, 'labels.json'), 'utf8')) as { files: Labels }).files;
const files = (kind: string) => readdirSync(join(DIR, kind)).sort();

async function locateIndex(path: string, name: string): Promise<number | undefined> {
  const src = await LocalFileSource.open(path);
  try {
    return (await ZipArchive.open(src)).locate(name)?.index;
  } finally {
    await src.close();
  }
}

describe('zip records are read as miniz finds them', () => {
  it('every fixture is labelled', () => {
    assert.deepEqual(
      files('zip').map((f) => `zip/${f}`),
      Object.keys(labels)
        .filter((f) => f.startsWith('zip/'))
        .sort(),
    );
  });

  for (const f of files('zip')) {
    it(f, async () => {
      const path = join(DIR, 'zip', f);
      const label = labels[`zip/${f}`];
      const r = await scanFile(path);
      for (const v of TORCH_VERSIONS) {
        const real = label[v].load;
        assert.equal(r.weightsOnly.byVersion[v].loads, real.ok, `torch ${v}: ${real.error ?? 'loads'}`);
        // each data.pkl variant returns 1000 + its central-directory index, each storage holds its index
        if (real.ok && f.startsWith('case_datapkl'))
          assert.equal(1000 + (await locateIndex(path, 'archive/data.pkl'))!, real.value, `torch ${v} read`);
        if (real.ok && f.startsWith('case_storage')) {
          const picked = (real.value as { tensor: number[] }).tensor[0];
          assert.equal(await locateIndex(path, 'archive/data/0'), picked, `torch ${v} read`);
        }
        if (label[v].executes) assert.equal(r.verdict, 'dangerous', `its payload runs under torch ${v}`);
      }
      if (f.startsWith('h_')) assert.equal(r.verdict, 'dangerous', r.summary);
      const variants = f.startsWith('case_')
        ? r.findings.filter((x) => /^zip-(case-collision|duplicate-name)$/.test(x.rule))
        : [];
      if (f.startsWith('case_'))
        assert.ok(variants.length > 0 && variants.every((x) => x.severity === 'dangerous'));
    });
  }

  it('scans a pickle that torch never reads, whatever its name and first byte', async () => {
    const r = await scanFile(join(DIR, 'zip', 'h_zip_stray_proto0_pickle.pt'));
    const f = r.findings.find((x) => x.rule === 'import-dangerous');
    assert.equal(f?.entry, 'archive/notes');
    assert.equal(r.weightsOnly.byVersion['2.14'].loads, true, 'torch itself loads data.pkl');
  });

  it('says which entry torch reads when names collide', async () => {
    const r = await scanFile(join(DIR, 'zip', 'h_zip_upper_datapkl_first.pt'));
    const f = r.findings.find((x) => x.rule === 'zip-case-collision');
    assert.match(f?.message ?? '', /PyTorch \(miniz\) reads #0/);
  });
});
