import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import {
  CENTRAL_DIRECTORY_HEADER,
  END_OF_CENTRAL_DIRECTORY,
  LOCAL_FILE_HEADER,
  ZIP64_END_OF_CENTRAL_DIRECTORY,
  ZIP64_LOCATOR,
  type RecordLayout,
} from '@brine/archives';

/**
 * The zip record tables both readers read through (libs/archives/src/zip/layouts.ts), checked against the struct
 * formats of the CPython on this machine's zipfile: every field at the offset and of the width zipfile unpacks it
 * from, in zipfile's order, and the signature zipfile compares.
 */
const TABLES: Array<[string, string, RecordLayout<'signature'>]> = [
  ['structEndArchive', 'stringEndArchive', END_OF_CENTRAL_DIRECTORY],
  ['structEndArchive64Locator', 'stringEndArchive64Locator', ZIP64_LOCATOR],
  ['structEndArchive64', 'stringEndArchive64', ZIP64_END_OF_CENTRAL_DIRECTORY],
  ['structCentralDir', 'stringCentralDir', CENTRAL_DIRECTORY_HEADER],
  ['structFileHeader', 'stringFileHeader', LOCAL_FILE_HEADER],
];

const PY = `
import json, struct, sys, zipfile
out = {}
for fmt_name, sig_name in json.loads(sys.argv[1]):
    fmt = getattr(zipfile, fmt_name)
    fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
    items, offset = [], 0
    for count, code in __import__('re').findall(r'(\\d*)([a-zA-Z])', fmt[1:]):
        if code == 's':
            items.append([offset, int(count)]); offset += int(count)
        else:
            for _ in range(int(count or 1)):
                w = struct.calcsize('<' + code); items.append([offset, w]); offset += w
    assert offset == struct.calcsize(fmt)
    out[fmt_name] = {'fields': items, 'signature': int.from_bytes(getattr(zipfile, sig_name), 'little')}
print(json.dumps(out))
`;

describe('zip record layouts', () => {
  const cpython = JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', PY, JSON.stringify(TABLES.map(([f, s]) => [f, s]))], {
      encoding: 'utf8',
    }),
  ) as Record<string, { fields: Array<[number, number]>; signature: number }>;

  for (const [fmt, , table] of TABLES) {
    it(`${table.name} matches zipfile.${fmt}`, () => {
      const ours = Object.values(table.fields).map((f) => [f.offset, f.width]);
      assert.deepEqual(ours, cpython[fmt].fields);
      assert.equal(
        table.size,
        cpython[fmt].fields.reduce((n, [, w]) => n + w, 0),
      );
      assert.equal(table.signature, cpython[fmt].signature);
    });
  }
});
