import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkManifest, collisionKey, type ManifestEntry } from '@brine/layouts';

const SHA = 'a'.repeat(64);
const entry = (path: string, extra: Partial<ManifestEntry> = {}): ManifestEntry => ({
  path,
  size: 1,
  sha256: SHA,
  ...extra,
});

/** the rules a one-file manifest is refused for (empty when accepted) */
function rulesOf(path: string): string[] {
  const r = checkManifest([entry(path)]);
  return r.ok ? [] : r.problems.map((p) => p.rule);
}

function refused(entries: unknown, rule: string, limits = {}): string {
  const r = checkManifest(entries, limits);
  assert.equal(r.ok, false, `expected a refusal (${rule})`);
  if (r.ok) return '';
  assert.ok(
    r.problems.some((p) => p.rule === rule),
    `expected rule ${rule}, got ${r.problems.map((p) => p.rule).join(', ')}`,
  );
  return r.message;
}

describe('layouts: checkManifest', () => {
  it('accepts plain relative POSIX paths, nested ones and Unicode names', () => {
    const r = checkManifest([
      entry('model.safetensors'),
      entry('checkpoint-6/optimizer.pt', { size: 0 }),
      entry('dcp/.metadata'),
      entry('tokenizer/vocab-é.txt'),
    ]);
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.equal(r.entries.length, 4);
  });

  it('refuses ".." segments, saying the path leaves its folder', () => {
    assert.match(refused([entry('../secrets/x.bin')], 'path-dotdot'), /leaves its folder/);
    assert.deepEqual(rulesOf('a/../../b'), ['path-dotdot']);
    // a name that merely contains dots is fine
    assert.deepEqual(rulesOf('a/..b/c..'), []);
  });

  it('refuses absolute paths (POSIX and Windows drive letters)', () => {
    assert.match(refused([entry('/etc/passwd')], 'path-absolute'), /relative to the folder/);
    assert.deepEqual(rulesOf('C:/x/model.bin'), ['path-absolute']);
  });

  it('refuses backslashes', () => {
    assert.match(refused([entry('a\\b.bin')], 'path-backslash'), /use "\/"/);
    assert.ok(rulesOf('..\\..\\x').includes('path-backslash'));
  });

  it('refuses empty and "." segments and an empty path', () => {
    assert.deepEqual(rulesOf('a//b'), ['path-empty-segment']);
    assert.deepEqual(rulesOf('a/b/'), ['path-empty-segment']);
    assert.deepEqual(rulesOf('./a'), ['path-dot']);
    assert.deepEqual(rulesOf('a/./b'), ['path-dot']);
    assert.deepEqual(rulesOf(''), ['path-empty']);
  });

  it('refuses NUL and control characters, and lone surrogates', () => {
    assert.deepEqual(rulesOf('a\u0000.bin'), ['path-nul']);
    assert.deepEqual(rulesOf('a\nb.bin'), ['path-control']);
    assert.deepEqual(rulesOf('a\u001b[31m.bin'), ['path-control']);
    assert.deepEqual(rulesOf('a\u0085.bin'), ['path-control']);
    assert.deepEqual(rulesOf('a\ud800.bin'), ['path-encoding']);
  });

  it('refuses duplicates after NFC normalisation and case folding, naming both paths', () => {
    const nfc = 'caf\u00e9.bin';
    const nfd = 'cafe\u0301.bin';
    assert.notEqual(nfc, nfd);
    const m1 = refused([entry(nfc), entry(nfd)], 'path-collision');
    assert.ok(m1.includes(JSON.stringify(nfc)) && m1.includes(JSON.stringify(nfd)), m1);
    const m2 = refused([entry('Model.bin'), entry('model.BIN')], 'path-collision');
    assert.match(m2, /"Model\.bin" and "model\.BIN"/);
    // folding beyond toLowerCase: ß and SS, the Kelvin sign and K
    assert.equal(collisionKey('STRASSE'), collisionKey('straße'));
    refused([entry('\u212a.bin'), entry('k.bin')], 'path-collision');
    refused([entry('a/x.bin'), entry('A/x.bin')], 'path-collision');
    assert.match(refused([entry('x.bin'), entry('x.bin')], 'path-duplicate'), /listed twice/);
  });

  it('refuses a file that another path uses as a folder', () => {
    assert.match(refused([entry('a'), entry('A/b.bin')], 'path-file-is-folder'), /uses it as a folder/);
  });

  it('bounds depth, count and path length (defaults 16, 10 000, 1024 bytes; overridable)', () => {
    const deep = Array.from({ length: 17 }, (_, i) => `d${i}`).join('/');
    assert.match(refused([entry(deep)], 'path-depth'), /17 levels deep; at most 16/);
    assert.deepEqual(rulesOf(Array.from({ length: 16 }, (_, i) => `d${i}`).join('/')), []);
    assert.match(refused([entry('x'.repeat(1025))], 'path-length'), /1025 bytes long; at most 1024/);
    // bytes, not characters: 513 two-byte characters are 1026 bytes
    refused([entry('é'.repeat(513))], 'path-length');
    const many = Array.from({ length: 10_001 }, (_, i) => entry(`f${i}`));
    assert.match(refused(many, 'manifest-count'), /10001 files; at most 10000/);
    assert.ok(checkManifest(many.slice(0, 10_000)).ok);
    refused([entry('a/b/c')], 'path-depth', { maxDepth: 2 });
    refused([entry('a'), entry('b')], 'manifest-count', { maxFiles: 1 });
  });

  it('refuses an empty manifest and entries of the wrong shape', () => {
    refused([], 'manifest-empty');
    refused({ path: 'x' }, 'manifest-shape');
    refused([{ path: 3, size: 1, sha256: SHA }], 'entry-shape');
  });

  it('wants SHA-256 as 64 lowercase hex digits', () => {
    assert.match(refused([entry('x', { sha256: 'A'.repeat(64) })], 'sha256'), /64 lowercase hex/);
    refused([entry('x', { sha256: 'a'.repeat(63) })], 'sha256');
    refused([entry('x', { sha256: 'g'.repeat(64) })], 'sha256');
  });

  it('wants sizes as non-negative safe integers', () => {
    assert.match(refused([entry('x', { size: -1 })], 'size'), /whole number of bytes/);
    refused([entry('x', { size: 1.5 })], 'size');
    refused([entry('x', { size: 2 ** 53 })], 'size');
    refused([{ path: 'x', size: '1', sha256: SHA }], 'size');
  });

  it('reports every problem at once, each message naming its path', () => {
    const r = checkManifest([entry('../a'), entry('/b'), entry('c', { size: -1 })]);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.problems.map((p) => [p.index, p.rule]),
      [
        [0, 'path-dotdot'],
        [1, 'path-absolute'],
        [2, 'size'],
      ],
    );
    assert.match(r.message, /^3 problems: "\.\.\/a"/);
  });
});
