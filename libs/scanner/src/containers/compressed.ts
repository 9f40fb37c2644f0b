import {
  bzip2Streams,
  DecodeError,
  gzipMembers,
  InputCursor,
  lzmaAuto,
  openDecompressed,
  pyBytes,
  zlibStream,
  zstdFrames,
  type ByteSource,
  type Bzip2Facts,
  type DecompressedStream,
  type GzipFacts,
  type LzmaFacts,
  type StreamBudget,
} from '@brine/bytes';
import type { ScanLimits } from '../scan-context';

/**
 * Compressed pickles, opened the way the loaders that open them transparently do:
 *
 * - `joblib.load` looks at the first bytes (numpy_pickle_utils._detect_compressor): `ZF` is its pre-0.10 format
 *   (a hexadecimal length, then one zlib stream decompressed whole); otherwise the first registered compressor
 *   whose prefix matches, in registration order: zlib `\x78`, gzip `\x1f\x8b`, bz2 `BZ`, lzma `\x5d\x00`,
 *   xz `\xfd7zXZ`, lz4 `\x04\x22\x4d\x18`. zlib and gzip go through zlib.decompressobj (one stream or member; a
 *   stream cut short is read up to where it stops), bz2 through bz2.BZ2File, lzma and xz through lzma.LZMAFile
 *   (FORMAT_AUTO: either kind), lz4 through lz4.frame when that package is installed.
 * - `pandas.read_pickle` (compression="infer") goes by the path's lower-cased ending (io/common.py): `.tar`,
 *   `.tar.gz`, `.tar.bz2`, `.tar.xz` are tar archives with exactly one member (tarfile.open "r:*"), `.gz`
 *   gzip.GzipFile, `.bz2` bz2.BZ2File, `.zip` a zip with exactly one member, `.xz` lzma.LZMAFile, `.zst`
 *   zstandard's stream reader.
 *
 * Zip and tar are read by their own readers (they start with what those recognise); this module opens the
 * streams, within the scan's budgets, and the scanner then scans what they hold like any file.
 */

export type Codec = 'zlib' | 'joblib-zfile' | 'gzip' | 'bz2' | 'lzma' | 'xz' | 'zstd' | 'lz4';

export interface CompressionCandidate {
  codec: Codec;
  /** the loaders that decompress the file this way */
  loaders: string[];
}

/** joblib's prefixes, in its registration order ('ZF' is checked first) */
const JOBLIB_PREFIXES: Array<[Codec, number[]]> = [
  ['zlib', [0x78]],
  ['gzip', [0x1f, 0x8b]],
  ['bz2', [0x42, 0x5a]],
  ['lzma', [0x5d, 0x00]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
];

/** pandas' _extension_to_compression, in its order (the first ending that matches wins) */
const PANDAS_EXTENSIONS: Array<[string, Codec | 'tar' | 'zip']> = [
  ['.tar', 'tar'],
  ['.tar.gz', 'tar'],
  ['.tar.bz2', 'tar'],
  ['.tar.xz', 'tar'],
  ['.gz', 'gzip'],
  ['.bz2', 'bz2'],
  ['.zip', 'zip'],
  ['.xz', 'xz'],
  ['.zst', 'zstd'],
];

/** what joblib.load detects from the first bytes (null: it reads the file as a plain pickle) */
export function joblibCodec(head: Uint8Array): Codec | null {
  if (head.length >= 2 && head[0] === 0x5a && head[1] === 0x46) return 'joblib-zfile';
  for (const [codec, prefix] of JOBLIB_PREFIXES)
    if (head.length >= prefix.length && prefix.every((b, i) => head[i] === b)) return codec;
  return null;
}

/** what pandas.read_pickle infers from the path (null: none) */
export function pandasCompression(filename: string | undefined): Codec | 'tar' | 'zip' | null {
  if (!filename) return null;
  const lower = filename.toLowerCase();
  for (const [ext, c] of PANDAS_EXTENSIONS) if (lower.endsWith(ext)) return c;
  return null;
}

/** the streams to open: joblib's by content, pandas' by name (tar and zip are left to their readers) */
export function compressionCandidates(
  head: Uint8Array,
  filename: string | undefined,
): CompressionCandidate[] {
  const out: CompressionCandidate[] = [];
  const j = joblibCodec(head);
  if (j) out.push({ codec: j, loaders: ['joblib.load'] });
  const p = pandasCompression(filename);
  if (p && p !== 'tar' && p !== 'zip') {
    // pandas' ".xz" is lzma.LZMAFile with FORMAT_AUTO, as joblib's lzma and xz are
    const same = out.find((c) => c.codec === p || (p === 'xz' && c.codec === 'lzma'));
    if (same) same.loaders.push('pandas.read_pickle');
    else out.push({ codec: p, loaders: ['pandas.read_pickle'] });
  }
  return out;
}

export const CODEC_NAMES: Readonly<Record<Codec, string>> = {
  zlib: 'zlib stream',
  'joblib-zfile': "joblib's pre-0.10 zlib file",
  gzip: 'gzip stream',
  bz2: 'bzip2 stream',
  lzma: 'LZMA stream',
  xz: 'xz stream',
  zstd: 'zstd stream',
  lz4: 'LZ4 frame',
};

export interface OpenedStream extends DecompressedStream {
  codec: Codec;
  loaders: string[];
  /** what the container said about itself (members, streams, check type, joblib's stated length) */
  facts: Record<string, unknown>;
  /** why joblib refuses it before unpickling anything, when it does */
  refusedBy: string[];
  /** the first bytes are a well-formed header of this kind of stream (not a coincidence of one or two bytes) */
  headerValid: boolean;
}

/** whether the first bytes are a well-formed header of the codec's stream */
export function headerValid(codec: Codec, h: Uint8Array): boolean {
  const is = (bytes: number[]) => h.length >= bytes.length && bytes.every((b, i) => h[i] === b);
  switch (codec) {
    case 'gzip':
      return is([0x1f, 0x8b, 0x08]);
    case 'bz2':
      return is([0x42, 0x5a, 0x68]) && h.length > 3 && h[3] >= 0x31 && h[3] <= 0x39;
    case 'xz':
      return is([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
    case 'lzma':
      return is([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) || (h.length >= 13 && h[0] <= 224);
    case 'zstd':
      return is([0x28, 0xb5, 0x2f, 0xfd]);
    case 'lz4':
      return is([0x04, 0x22, 0x4d, 0x18]);
    case 'zlib':
      return h.length >= 2 && (h[0] & 0x0f) === 8 && h[0] >> 4 <= 7 && ((h[0] << 8) | h[1]) % 31 === 0;
    case 'joblib-zfile':
      return h.length >= 21 && pythonHex(Buffer.from(h.subarray(2, 21)).toString('latin1')) !== null;
  }
}

/** Python's int(text, 16) */
function pythonHex(text: string): number | null {
  const m = /^\s*([+-]?)(?:0[xX])?([0-9a-fA-F](?:_?[0-9a-fA-F])*)\s*$/.exec(text);
  if (!m || m[1] === '-') return null;
  return parseInt(m[2].replace(/_/g, ''), 16);
}

export function streamBudget(limits: ScanLimits): StreamBudget {
  return {
    maxBytes: limits.maxDecompressedBytes,
    maxRatio: limits.maxCompressionRatio,
    ratioFloor: limits.compressionRatioFloor,
  };
}

/** decodes the stream within the budgets (see DecompressedSource) */
export async function openCompressed(
  src: ByteSource,
  cand: CompressionCandidate,
  limits: ScanLimits,
): Promise<OpenedStream> {
  const facts: Record<string, unknown> = {};
  const refusedBy: string[] = [];
  let skip = 0;
  if (cand.codec === 'joblib-zfile') {
    // read_zfile: "ZF", the length in 19 characters of hex, an optional space, then zlib data decompressed whole
    const head = await src.read(0, 22);
    const stated = pythonHex(Buffer.from(head.subarray(2, 21)).toString('latin1'));
    facts.statedLength = stated;
    skip = head.length >= 22 && head[21] === 0x20 ? 22 : 21;
    if (stated === null)
      refusedBy.push(`joblib: invalid literal for int() with base 16: ${pyBytes(head.subarray(2, 21))}`);
  }
  const window = Math.min(1024 * 1024, Math.max(64 * 1024, src.size));
  const gz: GzipFacts = { members: 0, reservedFlags: false, headerCrcMismatch: false, padding: 0 };
  const bz: Bzip2Facts = { streams: 0, blocks: 0 };
  const lz: LzmaFacts = { format: null, streams: 0 };
  // the first run's facts are the ones reported; a later run (reading again from the start) keeps its own
  let firstRun = true;
  const start = () => {
    const cursor = new InputCursor(src, Math.min(skip, src.size), window);
    const mine = firstRun;
    firstRun = false;
    const chunks = mine
      ? decoder(cand.codec, cursor, limits, gz, bz, lz)
      : decoder(
          cand.codec,
          cursor,
          limits,
          { ...gz, members: 0 },
          { streams: 0, blocks: 0 },
          { format: null, streams: 0 },
        );
    return { chunks, consumed: () => cursor.pos };
  };
  const opened = await openDecompressed(start, src.size, streamBudget(limits));
  if (cand.codec === 'gzip') Object.assign(facts, gz);
  if (cand.codec === 'bz2') Object.assign(facts, bz);
  if (cand.codec === 'lzma' || cand.codec === 'xz') Object.assign(facts, lz);
  if (cand.codec === 'joblib-zfile') {
    if (opened.error === null && facts.statedLength !== null && facts.statedLength !== opened.size)
      refusedBy.push(
        `joblib: the file states ${String(facts.statedLength)} bytes and holds ${opened.size} ("Incorrect data length while decompressing")`,
      );
  }
  if (cand.codec === 'gzip' && cand.loaders.includes('joblib.load')) {
    if (gz.reservedFlags) refusedBy.push('joblib (zlib): unknown header flags set');
    if (gz.headerCrcMismatch) refusedBy.push('joblib (zlib): header crc mismatch');
  }
  const head = await src.read(0, 32);
  return {
    ...opened,
    codec: cand.codec,
    loaders: cand.loaders,
    facts,
    refusedBy,
    headerValid: headerValid(cand.codec, head),
  };
}

function decoder(
  codec: Codec,
  cursor: InputCursor,
  limits: ScanLimits,
  gz: GzipFacts,
  bz: Bzip2Facts,
  lz: LzmaFacts,
): AsyncGenerator<Uint8Array, void> {
  switch (codec) {
    case 'zlib':
    case 'joblib-zfile':
      return zlibStream(cursor);
    case 'gzip':
      return gzipMembers(cursor, gz);
    case 'bz2':
      return bzip2Streams(cursor, bz);
    case 'lzma':
    case 'xz':
      return lzmaAuto(cursor, { maxWindow: limits.maxLzmaWindow }, lz);
    case 'zstd':
      return zstdFrames(cursor);
    case 'lz4':
      return unsupported('LZ4 frames (joblib reads them with the lz4 package) are not read by Brine');
  }
}

async function* unsupported(why: string): AsyncGenerator<Uint8Array, void> {
  throw new DecodeError(why);
}
