import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listTarfile, ZipArchive, type TarPython } from '@brine/archives';
import { TORCH_VERSIONS, type TorchVersion } from '@brine/scanner';
import { LocalFileSource } from '@brine/storage';
import { readNpyHeader } from '../../libs/scanner/src/formats/numpy';
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
type Labels = Record<string, Record<TorchVersion, TorchLabel & { tar: TarLabel }>>;
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
      if (f.startsWith('s_')) assert.equal(r.verdict, 'suspicious', r.summary);
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

  it('grades TorchScript by what its code does, and when', async () => {
    const load = await scanFile(join(DIR, 'zip', 'h_ts_setstate_from_file.pt'));
    const f = load.findings.find((x) => x.rule === 'torchscript-load-time-effect');
    assert.match(f?.message ?? '', /torch\.from_file .*torch\.jit\.load/);
    assert.match(load.weightsOnly.byVersion['1.13'].note ?? '', /torch\.jit\.load/);
    assert.equal(load.weightsOnly.byVersion['2.14'].note, undefined);
    const run = await scanFile(join(DIR, 'zip', 'h_ts_forward_save.pt'));
    assert.ok(
      run.findings.some((x) => x.rule === 'torchscript-side-effect' && /torch\.save/.test(x.message)),
    );
    const plain = await scanFile(join(DIR, 'zip', 's_ts_scripted.pt'));
    assert.match(
      plain.findings.find((x) => x.rule === 'torchscript-code')?.message ?? '',
      /runs TorchScript code/,
    );
    const pkg = await scanFile(join(DIR, 'zip', 'h_package_module.pt'));
    assert.match(
      pkg.findings.find((x) => x.rule === 'torch-package-code')?.message ?? '',
      /brine_packaged_model/,
    );
  });

  it('says which entry torch reads when names collide', async () => {
    const r = await scanFile(join(DIR, 'zip', 'h_zip_upper_datapkl_first.pt'));
    const f = r.findings.find((x) => x.rule === 'zip-case-collision');
    assert.match(f?.message ?? '', /PyTorch \(miniz\) reads #0/);
  });
});

interface TarLabel {
  opens: boolean;
  error?: string;
  listError?: string;
  members?: Array<[string, string, number, number, number, string]>;
}
const PYTHON_OF: Record<TorchVersion, TarPython> = { '1.13': '3.11', '2.6': '3.13', '2.14': '3.14' };

describe("tar files are listed as each Python's tarfile lists them", () => {
  for (const f of files('tar')) {
    it(f, async () => {
      const path = join(DIR, 'tar', f);
      const label = labels[`tar/${f}`] as Record<TorchVersion, TorchLabel & { tar: TarLabel }>;
      const src = await LocalFileSource.open(path);
      try {
        for (const v of TORCH_VERSIONS) {
          const real = label[v].tar;
          const mine = await listTarfile(src, PYTHON_OF[v]);
          assert.equal(mine.opens, real.opens, `Python ${PYTHON_OF[v]} opens: ${real.error ?? ''}`);
          assert.equal(
            mine.listError !== null,
            real.listError !== undefined,
            `Python ${PYTHON_OF[v]} listing`,
          );
          assert.deepEqual(
            mine.members.map((m) => [m.name, m.type, m.size, m.offset, m.offsetData, m.linkname]),
            real.members ?? [],
            `Python ${PYTHON_OF[v]} members`,
          );
        }
      } finally {
        await src.close();
      }
      const r = await scanFile(path);
      for (const v of TORCH_VERSIONS) {
        assert.equal(
          r.weightsOnly.byVersion[v].loads,
          label[v].load.ok,
          `torch ${v}: ${label[v].load.error ?? 'loads'}`,
        );
        if (label[v].executes) assert.equal(r.verdict, 'dangerous', `its payload runs under torch ${v}`);
      }
      if (f.startsWith('h_')) assert.equal(r.verdict, 'dangerous', r.summary);
      else
        assert.ok(!r.findings.some((x) => x.severity === 'dangerous'), 'nothing dangerous in a benign tar');
    });
  }

  it('reports readers that disagree, and names the Pythons', async () => {
    const r = await scanFile(join(DIR, 'tar', 'h_tar_negative_size.pt'));
    assert.ok(r.findings.some((x) => x.rule === 'tar-parser-differential' && /3\.11/.test(x.message)));
    const link = await scanFile(join(DIR, 'tar', 'h_tar_hardlink.pt'));
    assert.match(link.findings.find((x) => x.rule === 'tar-link-member')?.message ?? '', /"evil"/);
  });
});

interface NpyLabel {
  header: {
    error?: string;
    shape?: Array<number | boolean>;
    fortran?: boolean;
    objects?: boolean;
    dataOffset?: number;
  };
  executes?: boolean;
}

describe('.npy headers are read as numpy reads them', () => {
  for (const f of files('npy')) {
    it(f, async () => {
      const path = join(DIR, 'npy', f);
      const label = labels[`npy/${f}`] as unknown as Record<TorchVersion, NpyLabel>;
      const src = await LocalFileSource.open(path);
      let h;
      try {
        h = await readNpyHeader(src);
      } finally {
        await src.close();
      }
      for (const v of TORCH_VERSIONS) {
        const real = label[v].header;
        if (real.error) {
          assert.equal(typeof h, 'string', `numpy (with torch ${v}) refuses it: ${real.error}`);
          continue;
        }
        assert.notEqual(typeof h, 'string', `numpy reads it: ${String(h)}`);
        const mine = h as Exclude<typeof h, string>;
        assert.deepEqual(mine.shape, real.shape!.map(Number));
        assert.equal(mine.fortranOrder, real.fortran);
        assert.equal(mine.objects, real.objects);
        assert.equal(mine.dataOffset, real.dataOffset);
      }
      const r = await scanFile(path);
      if (label['2.14'].executes) assert.equal(r.verdict, 'dangerous', r.summary);
      if (f.startsWith('u_')) assert.equal(r.verdict, 'unknown');
      if (f.startsWith('b_')) assert.ok(!r.findings.some((x) => x.severity === 'dangerous'));
    });
  }

  it('reports a repeated header key that changes the array', async () => {
    const r = await scanFile(join(DIR, 'npy', 'h_npy_duplicate_descr.npy'));
    assert.match(
      r.findings.find((x) => x.rule === 'numpy-header-differential')?.message ?? '',
      /numpy takes the last/,
    );
  });
});

describe('gadgets are graded by what they do', () => {
  for (const f of files('pickle')) {
    it(f, async () => {
      const r = await scanFile(join(DIR, 'pickle', f));
      const label = labels[`pickle/${f}`];
      if (f.startsWith('h_')) {
        assert.ok(
          TORCH_VERSIONS.some((v) => label[v].executes),
          'the fixture really runs its payload under some modelled interpreter',
        );
        assert.equal(r.verdict, 'dangerous', r.summary);
        const imp = r.imports.find((i) => i.class === 'dangerous');
        assert.ok(imp?.reason && imp.source, 'a dangerous import says why and where that is known from');
        if (f.startsWith('h_gadget_scan_')) assert.match(imp.source, /call-graph scan/);
      } else {
        assert.equal(r.verdict, 'suspicious', r.summary);
        assert.ok(!r.imports.some((i) => i.class === 'dangerous'));
      }
    });
  }
});

describe('joblib files are read the way joblib reads them', () => {
  for (const f of files('joblib')) {
    it(f, async () => {
      const r = await scanFile(join(DIR, 'joblib', f));
      const label = labels[`joblib/${f}`];
      assert.equal(r.imports.find((i) => i.name === 'NumpyArrayWrapper')?.class, 'suspicious');
      if (f.startsWith('h_')) {
        assert.ok(label['1.13'].executes, 'joblib.load runs the payload');
        assert.equal(r.verdict, 'dangerous', r.summary);
      } else {
        assert.equal(r.verdict, 'suspicious', r.summary);
        assert.ok(
          !r.findings.some((x) => x.rule === 'pickle-error'),
          'the raw array bytes are skipped, not parsed',
        );
      }
    });
  }
});
