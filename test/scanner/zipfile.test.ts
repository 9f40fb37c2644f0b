import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { memberBytes, openMember, openZipfile, ZIPFILE_PYTHONS, type ZipfilePython } from '@brine/archives';
import { MemorySource } from '@brine/bytes';
import { DEFAULT_SCAN_LIMITS } from '@brine/scanner';
import { streamBudget } from '../../libs/scanner/src/containers/compressed';
import { FIXTURES } from '../helpers/paths';
import { scanFile } from '../helpers/scan-file';

/**
 * npz archives that only CPython's zipfile reads right (test/fixtures/generate_containers.py), labelled under each
 * Python Brine models — Debian's 3.11 with numpy 1.24, and the torch-oracle roots' 3.13 with numpy 2.2 and 3.14
 * with numpy 2.4: what zipfile lists and reads for every name (SHA-256), what numpy.load(allow_pickle=False) gives
 * for every key, and whether numpy.load(allow_pickle=True) ran the payload.
 */
const DIR = join(FIXTURES, 'containers');
interface NpzLabel {
  zipfile: { names?: string[]; reads?: Record<string, string>; error?: string };
  load: Record<string, string> | string;
  executes: boolean;
}
const labels = (
  JSON.parse(readFileSync(join(DIR, 'labels.json'), 'utf8')) as {
    files: Record<string, Record<ZipfilePython, NpzLabel>>;
  }
).files;
const files = readdirSync(join(DIR, 'npz')).sort();
const DIFFERENTIALS = ['zip-reader-differential', 'zip-name-differential', 'zip-duplicate-name'];

describe("npz archives are read as numpy's zipfile reads them", () => {
  it('every fixture is labelled under 3.11, 3.13 and 3.14', () => {
    assert.deepEqual(
      files.map((f) => `npz/${f}`),
      Object.keys(labels).filter((k) => k.startsWith('npz/')),
    );
    for (const f of files) assert.deepEqual(Object.keys(labels[`npz/${f}`]).sort(), [...ZIPFILE_PYTHONS]);
  });

  for (const f of files) {
    it(`${f}: the model lists and reads what zipfile does, on each Python`, async () => {
      const bytes = readFileSync(join(DIR, 'npz', f));
      const src = new MemorySource(bytes);
      for (const py of ZIPFILE_PYTHONS) {
        const label = labels[`npz/${f}`][py].zipfile;
        const z = await openZipfile(src, py, 1000);
        assert.equal(z.error, label.error ?? null, `${py}: opens`);
        if (!label.names) continue;
        assert.deepEqual(
          [...z.members()].map((m) => m.filename),
          label.names,
          `${py}: namelist()`,
        );
        for (const [name, k] of z.byName) {
          const m = z.member(k, name);
          const o = await openMember(src, z, m);
          assert.equal(o.error, null, `${py}: open(${name})`);
          const read = await memberBytes(src, m, o.dataStart!, streamBudget(DEFAULT_SCAN_LIMITS), 1 << 20);
          const all = await read.source.read(0, read.source.size);
          assert.equal(
            createHash('sha256').update(all).digest('hex'),
            label.reads?.[name],
            `${py}: read(${name})`,
          );
        }
      }
    });

    it(`${f}: the verdict`, async () => {
      const r = await scanFile(join(DIR, 'npz', f));
      const label = labels[`npz/${f}`];
      const differential = r.findings.filter((x) => DIFFERENTIALS.includes(x.rule));
      if (f.startsWith('h_')) {
        assert.ok(
          ZIPFILE_PYTHONS.some((py) => label[py].executes),
          'numpy.load(allow_pickle=True) runs the payload',
        );
        assert.equal(r.verdict, 'dangerous', r.summary);
        assert.ok(
          differential.some((x) => x.severity === 'dangerous'),
          `the disagreement between zipfile and miniz is named: ${JSON.stringify(r.findings.map((x) => x.rule))}`,
        );
        assert.ok(
          r.imports.some((i) => i.module === 'os' && i.name === 'system'),
          'the payload is found',
        );
      } else {
        assert.ok(!ZIPFILE_PYTHONS.some((py) => label[py].executes));
        assert.deepEqual(differential, [], 'both readers agree');
        assert.notEqual(r.verdict, 'dangerous');
      }
    });
  }

  it('a prefixed archive: zipfile shifts every offset by concat, miniz reads the decoy', async () => {
    const r = await scanFile(join(DIR, 'npz', 'h_npz_prefixed.npz'));
    const d = r.findings.find((x) => x.rule === 'zip-reader-differential');
    assert.ok(d && /plus 287/.test(d.message), d?.message);
    assert.deepEqual(r.details.zipfile, { '3.11+': { members: 1, names: 1, concat: 287 } });
    assert.ok(r.entries.some((e) => e.name === 'zipfile:arr_0.npy' && e.role === 'numpy-object-array'));
  });

  it('a Unicode Path field renames an entry on 3.13+ only', async () => {
    const src = new MemorySource(readFileSync(join(DIR, 'npz', 'h_npz_unicode_path.npz')));
    assert.deepEqual([...(await openZipfile(src, '3.11', 10)).byName.keys()], ['arr_0.npy', 'zzzzz.npy']);
    assert.deepEqual([...(await openZipfile(src, '3.13', 10)).byName.entries()], [['arr_0.npy', 1]]);
    const r = await scanFile(join(DIR, 'npz', 'h_npz_unicode_path.npz'));
    assert.ok(r.findings.some((x) => x.rule === 'zip-name-differential' && /3\.13/.test(x.message)));
  });

  it('ordinary archives are compared record by record and cost no listing', async () => {
    const r = await scanFile(join(FIXTURES, 'files', 'b_state_dict.pt'));
    assert.equal(r.details.zipfile, 'reads what miniz reads');
    assert.equal(r.verdict, 'safe');
  });
});
