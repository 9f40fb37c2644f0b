import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { bzip2Streams, InputCursor, lzmaAuto, MemorySource, zstdAvailable } from '@brine/bytes';
import { DEFAULT_SCAN_LIMITS, scan } from '@brine/scanner';
import { compressionCandidates, openCompressed } from '../../libs/scanner/src/containers/compressed';
import { FIXTURES } from '../helpers/paths';
import { scanFile } from '../helpers/scan-file';

/**
 * Compressed pickles (test/fixtures/generate_containers.py), labelled by the real loaders: joblib 1.2.0 and
 * pandas 1.5.3 from Debian's packages on Debian's Python 3.11 (joblib.load / pandas.read_pickle, each in its own
 * process: did it load, did the payload run), and the Python module they decompress with (gzip, bz2, lzma, zlib,
 * zstandard: the SHA-256 of what it gives). Where no label says a loader ran a payload, the file is still held to
 * what its bytes are.
 */
const DIR = join(FIXTURES, 'containers');
interface LoaderLabel {
  loads: true | string;
  executes?: boolean;
}
interface Label {
  module: { sha256?: string; size?: number; error?: string };
  joblib?: LoaderLabel;
  pandas?: LoaderLabel;
}
const labels = (
  JSON.parse(readFileSync(join(DIR, 'labels.json'), 'utf8')) as { files: Record<string, Label> }
).files;
const files = readdirSync(join(DIR, 'compressed')).sort();

async function decodedBytes(path: string): Promise<{ sha256: string; size: number; complete: boolean }[]> {
  const bytes = readFileSync(path);
  const src = new MemorySource(bytes);
  const out = [];
  for (const c of compressionCandidates(bytes.subarray(0, 16), basename(path))) {
    const s = await openCompressed(src, c, DEFAULT_SCAN_LIMITS);
    const all = await s.source.read(0, s.size);
    out.push({
      sha256: createHash('sha256').update(all).digest('hex'),
      size: s.size,
      complete: s.error === null && s.budget === null && s.limit === null,
    });
  }
  return out;
}

describe('compressed pickles are opened as joblib and pandas open them', () => {
  it('every fixture is labelled', () => {
    assert.deepEqual(
      files.map((f) => `compressed/${f}`),
      Object.keys(labels).filter((k) => k.startsWith('compressed/')),
    );
  });

  for (const f of files) {
    it(f, async () => {
      const path = join(DIR, 'compressed', f);
      const label = labels[`compressed/${f}`];
      const r = await scanFile(path);
      const ran = [label.joblib, label.pandas].some((l) => l?.executes);
      const loaded = [label.joblib, label.pandas].some((l) => l?.loads === true);
      if (f.startsWith('h_')) {
        if (f.includes('zstd') && !zstdAvailable()) {
          assert.equal(r.verdict, 'unknown', `${r.summary} (this Node has no zstd decoder)`);
          return;
        }
        assert.ok(ran || f.includes('zstd'), 'a real loader runs the payload');
        assert.equal(r.verdict, 'dangerous', r.summary);
        assert.ok(
          r.imports.some((i) => i.module === 'posix' || i.module === 'os'),
          'the payload is found inside the stream',
        );
      } else if (f.startsWith('b_')) {
        assert.ok(loaded, 'a real loader loads it');
        assert.equal(
          r.verdict,
          'suspicious',
          `torch.load refuses it, nothing in it is hostile: ${r.summary}`,
        );
        assert.equal(r.format, 'pickle');
      } else {
        assert.equal(r.verdict, 'unknown', r.summary);
      }
      assert.ok(
        r.entries.some((e) => e.role === 'compressed-stream'),
        'the report says a stream was opened',
      );
      assert.ok(Array.isArray(r.details.compressed), 'the report describes the stream');
      if (f.includes('bomb')) assert.ok(r.findings.some((x) => x.rule === 'decompression-budget'));
      // what Brine decodes is what the Python module decodes, byte for byte
      if (label.module.sha256) {
        const mine = await decodedBytes(path);
        const whole = mine.find((m) => m.complete);
        if (whole) assert.equal(whole.sha256, label.module.sha256, 'the same bytes as the Python module');
        // only a budget, or a filter Brine does not decode (x86 BCJ: unknown, never safe), stops the decoding
        else assert.ok(mine.length > 0 && (f.startsWith('u_') || f.includes('bomb')), 'decoded to the end');
      }
    });
  }

  it('a bomb without a payload is unknown, naming the ratio budget', async () => {
    const r = await scanFile(join(DIR, 'compressed', 'u_gzip_bomb.pkl.gz'));
    const f = r.findings.find((x) => x.rule === 'decompression-budget');
    assert.ok(f && /200 times/.test(f.message), JSON.stringify(r.findings));
  });

  it('the size budget is named when it is the one reached', async () => {
    const r = await scanFile(join(DIR, 'compressed', 'h_gzip_system.pkl.gz'), {
      limits: { maxDecompressedBytes: 20 },
    });
    const f = r.findings.find((x) => x.rule === 'decompression-budget');
    assert.ok(f && /budget of 20 bytes/.test(f.message), JSON.stringify(r.findings));
    assert.notEqual(r.verdict, 'safe');
  });

  it('a stream longer than what is kept in memory is read again block by block', async () => {
    const r = await scanFile(join(DIR, 'compressed', 'h_gzip_bomb_payload.pkl.gz'));
    assert.equal(r.verdict, 'dangerous', r.summary);
  });

  it('NUL padding between gzip members is skipped in bulk, as GzipFile skips it', async () => {
    const payload = readFileSync(join(DIR, 'compressed', 'h_gzip_system.pkl.gz'));
    const bytes = Buffer.concat([
      payload,
      Buffer.alloc(16 * 1024 * 1024),
      gzipSync(Buffer.from('\x80\x02N.', 'latin1')),
    ]);
    const started = Date.now();
    const r = await scan(new MemorySource(bytes), { filename: 'padded.pkl.gz' });
    assert.equal(r.verdict, 'dangerous', r.summary);
    const facts = (r.details.compressed as Array<{ padding: number; members: number }>)[0];
    assert.equal(facts.padding, 16 * 1024 * 1024);
    assert.equal(facts.members, 2);
    assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
  });

  it('a file of endless empty streams stops at the stream limit', async () => {
    // 13 zero bytes are a valid "alone" header (lc=lp=pb=0, dictionary 0, size 0) and 5 more an empty stream
    const payload = readFileSync(join(DIR, 'compressed', 'h_xz_system.pkl.xz'));
    const bytes = Buffer.concat([payload, Buffer.alloc(18 * 20_000)]);
    const started = Date.now();
    const r = await scan(new MemorySource(bytes), { filename: 'streams.pkl.xz' });
    assert.equal(r.verdict, 'dangerous', r.summary);
    assert.ok(
      r.findings.some((x) => x.rule === 'decompression-limit' && /10000 concatenated/.test(x.message)),
    );
    assert.ok(Date.now() - started < 20_000, `${Date.now() - started} ms`);
  });

  it('the name alone does not open a stream that is not there', async () => {
    const r = await scanFile(join(FIXTURES, 'files', 'b_state_dict.pt'), { filename: 'b_state_dict.pt.gz' });
    assert.equal(r.format, 'torch-zip');
    assert.ok(!r.details.compressed);
  });
});

/** the decoders against Python's modules on random inputs (the vectors are made by Python at test time) */
describe('bounded decoders agree with CPython', () => {
  const vectors = JSON.parse(
    execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        `import bz2, lzma, json, random, base64
random.seed(7)
out = []
for i in range(40):
    n = random.choice([0, 1, 17, 1000, 70000, 300000])
    kind = random.choice(['rand', 'runs', 'text'])
    if kind == 'rand': data = random.randbytes(n)
    elif kind == 'runs': data = b''.join(bytes([random.randrange(4)]) * random.randrange(1, 400) for _ in range(n // 100 + 1))[:n]
    else: data = b' '.join(random.choice([b'tensor', b'weight', b'bias', b'\\x80\\x02']) for _ in range(n // 6 + 1))[:n]
    codec = random.choice(['bz2', 'xz', 'alone', 'xz-crc32', 'xz-none'])
    if codec == 'bz2': comp = bz2.compress(data, random.randint(1, 9))
    elif codec == 'alone': comp = lzma.compress(data, format=lzma.FORMAT_ALONE, preset=random.randint(0, 9))
    elif codec == 'xz': comp = lzma.compress(data, preset=random.randint(0, 9))
    elif codec == 'xz-crc32': comp = lzma.compress(data, check=lzma.CHECK_CRC32)
    else: comp = lzma.compress(data, check=lzma.CHECK_NONE)
    out.append([codec, base64.b64encode(comp).decode(), base64.b64encode(data).decode()])
print(json.dumps(out))`,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    ).toString(),
  ) as Array<[string, string, string]>;

  it(`${vectors.length} streams of random, run-heavy and text-like data decode byte for byte`, async () => {
    for (const [codec, comp, data] of vectors) {
      const c = new InputCursor(new MemorySource(Buffer.from(comp, 'base64')), 0);
      const parts: Uint8Array[] = [];
      const gen =
        codec === 'bz2'
          ? bzip2Streams(c, { streams: 0, blocks: 0 })
          : lzmaAuto(c, { maxWindow: 64 << 20 }, { format: null, streams: 0 });
      for await (const p of gen) parts.push(Uint8Array.from(p));
      assert.ok(Buffer.concat(parts).equals(Buffer.from(data, 'base64')), codec);
    }
  });

  it('damaged streams stop with an error, never with other bytes', async () => {
    for (const [codec, comp, data] of vectors.slice(0, 20)) {
      const bytes = Buffer.from(comp, 'base64');
      if (bytes.length < 40) continue;
      bytes[Math.floor(bytes.length / 2)] ^= 0x55;
      const c = new InputCursor(new MemorySource(bytes), 0);
      const parts: Uint8Array[] = [];
      let failed = false;
      try {
        const gen =
          codec === 'bz2'
            ? bzip2Streams(c, { streams: 0, blocks: 0 })
            : lzmaAuto(c, { maxWindow: 64 << 20 }, { format: null, streams: 0 });
        for await (const p of gen) parts.push(Uint8Array.from(p));
      } catch {
        failed = true;
      }
      // a check (CRC, SHA-256) or the format catches the damage; xz without a check may decode other bytes
      if (!failed && codec !== 'xz-none' && codec !== 'alone')
        assert.ok(
          Buffer.concat(parts).equals(Buffer.from(data, 'base64')),
          `${codec}: damage went unnoticed`,
        );
    }
  });
});
