import { crc32 } from 'node:zlib';
import {
  bzip2Streams,
  decodeProps,
  DecodeError,
  InputCursor,
  lzma1,
  openDecompressed,
  rawDeflate,
  readExactly,
  SliceSource,
  zstdFrames,
  type ByteSource,
  type DecoderRun,
  type StreamBudget,
} from '@brine/bytes';
import {
  CENTRAL_DIRECTORY_HEADER,
  END_OF_CENTRAL_DIRECTORY,
  EXTRA_FIELD_HEADER,
  EXTRA_UNICODE_PATH,
  EXTRA_ZIP64,
  hasSignature,
  LOCAL_FILE_HEADER,
  signatureBytes,
  u,
  u64,
  UNICODE_PATH_FIELD,
  ZIP64_END_OF_CENTRAL_DIRECTORY,
  ZIP64_LOCATOR,
} from './layouts';

/**
 * A zip archive as CPython's zipfile reads it — the reader numpy.load uses for .npz files and pandas.read_pickle
 * for .zip — so the scanner can see where it disagrees with miniz (PyTorch's reader, zip-archive.ts). Modelled from
 * Lib/zipfile of CPython 3.11 (Debian's 3.11.2), 3.13 and 3.14:
 *
 * - the end record: the last 22 bytes when they are one without a comment, else the last signature in the final
 *   64 KiB + 22 (a record cut by the end of the file: not a zip); ZIP64 records as each version reads them;
 * - `concat`: the end record's position less the central directory's stated size and offset (less the ZIP64
 *   records in 3.11) — the archive's start, which zipfile adds to every offset, where miniz takes them as stated;
 * - central-directory records parsed until their stated total size (the entry count is not used), names decoded
 *   as UTF-8 (flag 0x800) or cp437 and cut at a NUL, extract version > 6.3 refused, extra fields checked (ZIP64
 *   sizes; 3.13+: the Info-ZIP Unicode Path field 0x7075 renames the entry when its CRC matches the raw name);
 * - NameToInfo: the last entry of a name wins, names compared exactly (case-sensitive);
 * - open(): the local header's signature, its name against the central directory's, flag bits 5 and 6 and
 *   encryption refused, overlapping entries (3.11: refused; 3.13+: refused, or only warned when two entries share
 *   a header); data read for the central directory's compressed size and cut at its uncompressed size, in the
 *   methods zipfile decompresses (stored, deflate, bzip2, LZMA; zstd in 3.14).
 */

export type ZipfilePython = '3.11' | '3.13' | '3.14';
export const ZIPFILE_PYTHONS: readonly ZipfilePython[] = ['3.11', '3.13', '3.14'];

export interface ZipfileMember {
  /** position in zipfile's filelist */
  index: number;
  /** the NameToInfo key */
  filename: string;
  /** the central directory's name, decoded (compared with the local header's) */
  origFilename: string;
  flags: number;
  method: number;
  crc: number;
  compressSize: number;
  fileSize: number;
  /** absolute: the stated offset plus concat */
  headerOffset: number;
  endOffset: number;
}

/**
 * The listing, one column per field (an archive of 200 000 entries costs about 60 bytes an entry plus its name in
 * NameToInfo); members are made when asked for.
 */
export class ZipfileArchive {
  /** what ZipFile(path) raises, or null */
  error: string | null = null;
  concat = 0;
  startDir = 0;
  /** whether a ZIP64 record or a Unicode Path field was seen (3.11 may read the archive otherwise) */
  versionSensitive = false;
  /** NameToInfo: each name's last member */
  readonly byName = new Map<string, number>();
  count = 0;
  headerOffset = new Float64Array(0);
  compressSize = new Float64Array(0);
  fileSize = new Float64Array(0);
  endOffset = new Float64Array(0);
  crc = new Uint32Array(0);
  flags = new Uint16Array(0);
  method = new Uint16Array(0);
  /** members whose NameToInfo name is not their central-directory name (a NUL, a Unicode Path field) */
  readonly origNames = new Map<number, string>();
  /** names of members that lost their NameToInfo slot to a later member of the same name */
  readonly shadowedNames = new Map<number, string>();

  constructor(readonly python: ZipfilePython) {}

  grow(n: number): void {
    const g = <T extends Float64Array | Uint32Array | Uint16Array>(a: T, make: (k: number) => T): T => {
      const b = make(n);
      b.set(a.subarray(0, this.count) as never);
      return b;
    };
    this.headerOffset = g(this.headerOffset, (k) => new Float64Array(k));
    this.compressSize = g(this.compressSize, (k) => new Float64Array(k));
    this.fileSize = g(this.fileSize, (k) => new Float64Array(k));
    this.endOffset = g(this.endOffset, (k) => new Float64Array(k));
    this.crc = g(this.crc, (k) => new Uint32Array(k));
    this.flags = g(this.flags, (k) => new Uint16Array(k));
    this.method = g(this.method, (k) => new Uint16Array(k));
  }

  /** member i's NameToInfo name */
  nameOf(i: number): string {
    const shadowed = this.shadowedNames.get(i);
    if (shadowed !== undefined) return shadowed;
    for (const [name, j] of this.byName) if (j === i) return name;
    return '';
  }

  member(i: number, filename?: string): ZipfileMember {
    const name = filename ?? this.nameOf(i);
    return {
      index: i,
      filename: name,
      origFilename: this.origNames.get(i) ?? name,
      flags: this.flags[i],
      method: this.method[i],
      crc: this.crc[i],
      compressSize: this.compressSize[i],
      fileSize: this.fileSize[i],
      headerOffset: this.headerOffset[i],
      endOffset: this.endOffset[i],
    };
  }

  /** every member with its name, in filelist order */
  *members(): IterableIterator<ZipfileMember> {
    const names = new Array<string | undefined>(this.count);
    for (const [name, j] of this.byName) names[j] = name;
    for (const [j, name] of this.shadowedNames) names[j] = name;
    for (let i = 0; i < this.count; i++) yield this.member(i, names[i] ?? '');
  }
}

const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

/** bytes.decode('cp437') */
function cp437(b: Uint8Array): string {
  let ascii = true;
  for (const c of b) if (c >= 0x80) ascii = false;
  if (ascii) return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  let s = '';
  for (const c of b) s += c < 0x80 ? String.fromCharCode(c) : CP437_HIGH[c - 0x80];
  return s;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** a name as zipfile decodes it; throws the UnicodeDecodeError zipfile would */
function decodeName(b: Uint8Array, flags: number): string {
  if (!(flags & 0x800)) return cp437(b);
  try {
    return UTF8.decode(b);
  } catch {
    throw new Error("UnicodeDecodeError: 'utf-8' codec can't decode the file name");
  }
}

class BadZipFile extends Error {}

/** the records' fields and sizes (layouts.ts: structEndArchive, structEndArchive64Locator, structEndArchive64,
 * structCentralDir, structFileHeader) */
const E = END_OF_CENTRAL_DIRECTORY.fields;
const L64 = ZIP64_LOCATOR.fields;
const E64 = ZIP64_END_OF_CENTRAL_DIRECTORY.fields;
const C = CENTRAL_DIRECTORY_HEADER.fields;
const H = LOCAL_FILE_HEADER.fields;
const X = EXTRA_FIELD_HEADER.fields;
const UP = UNICODE_PATH_FIELD.fields;
const EOCD = END_OF_CENTRAL_DIRECTORY.signature;
const EOCD64 = ZIP64_END_OF_CENTRAL_DIRECTORY.signature;
const sizeEndCentDir = END_OF_CENTRAL_DIRECTORY.size;
const sizeEndCentDir64Locator = ZIP64_LOCATOR.size;
const sizeEndCentDir64 = ZIP64_END_OF_CENTRAL_DIRECTORY.size;
const sizeCentralDir = CENTRAL_DIRECTORY_HEADER.size;
const sizeFileHeader = LOCAL_FILE_HEADER.size;

interface EndRecord {
  signature: number | null;
  disk: number;
  diskStart: number;
  size: number;
  offset: number;
  location: number;
}

/** _EndRecData: null when there is no end record */
async function endRecord(src: ByteSource, python: ZipfilePython): Promise<EndRecord | null> {
  const size = src.size;
  if (size < sizeEndCentDir) return null;
  const tail = await readExactly(src, size - sizeEndCentDir, sizeEndCentDir);
  const tv = new DataView(tail.buffer, tail.byteOffset, sizeEndCentDir);
  let at: number;
  let rec: DataView;
  // a record with an empty comment (the comment length's two bytes are zero) ends the file
  if (hasSignature(tv, 0, END_OF_CENTRAL_DIRECTORY) && u(tv, 0, E.commentLength) === 0) {
    at = size - sizeEndCentDir;
    rec = tv;
  } else {
    const from = Math.max(size - 65535 - sizeEndCentDir, 0);
    const data = await readExactly(src, from, size - from);
    const sig = signatureBytes(END_OF_CENTRAL_DIRECTORY);
    const start = Buffer.from(data.buffer, data.byteOffset, data.length).lastIndexOf(sig);
    if (start < 0 || data.length - start < sizeEndCentDir) return null;
    at = from + start;
    rec = new DataView(data.buffer, data.byteOffset + start, sizeEndCentDir);
  }
  const end: EndRecord = {
    signature: EOCD,
    disk: u(rec, 0, E.diskNumber),
    diskStart: u(rec, 0, E.centralDirectoryDisk),
    size: u(rec, 0, E.centralDirectorySize),
    offset: u(rec, 0, E.centralDirectoryOffset),
    location: at,
  };
  return python === '3.11' ? zip64End311(src, at, end) : zip64End(src, at, end);
}

function num(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** 3.11's _EndRecData64: the locator just before, the record just before it; anything amiss: no ZIP64 */
async function zip64End311(src: ByteSource, at: number, end: EndRecord): Promise<EndRecord> {
  if (at - sizeEndCentDir64Locator < 0) return end;
  const loc = await readExactly(src, at - sizeEndCentDir64Locator, sizeEndCentDir64Locator);
  const lv = new DataView(loc.buffer, loc.byteOffset, sizeEndCentDir64Locator);
  if (!hasSignature(lv, 0, ZIP64_LOCATOR)) return end;
  if (u(lv, 0, L64.zip64RecordDisk) !== 0 || u(lv, 0, L64.totalDisks) > 1)
    throw new BadZipFile('zipfiles that span multiple disks are not supported');
  const recordAt = at - sizeEndCentDir64Locator - sizeEndCentDir64;
  if (recordAt < 0) return end;
  const r = await readExactly(src, recordAt, sizeEndCentDir64);
  const rv = new DataView(r.buffer, r.byteOffset, sizeEndCentDir64);
  if (!hasSignature(rv, 0, ZIP64_END_OF_CENTRAL_DIRECTORY)) return end;
  return {
    signature: EOCD64,
    disk: u(rv, 0, E64.diskNumber),
    diskStart: u(rv, 0, E64.centralDirectoryDisk),
    size: num(u64(rv, 0, E64.centralDirectorySize)),
    offset: num(u64(rv, 0, E64.centralDirectoryOffset)),
    location: end.location,
  };
}

/** 3.13+'s _EndRecData64: the locator's offset is checked, and the location becomes the ZIP64 record's */
async function zip64End(src: ByteSource, at: number, end: EndRecord): Promise<EndRecord> {
  let offset = at - sizeEndCentDir64Locator;
  if (offset < 0) return end;
  const loc = await readExactly(src, offset, sizeEndCentDir64Locator);
  const lv = new DataView(loc.buffer, loc.byteOffset, sizeEndCentDir64Locator);
  if (!hasSignature(lv, 0, ZIP64_LOCATOR)) return end;
  if (u(lv, 0, L64.zip64RecordDisk) !== 0 || u(lv, 0, L64.totalDisks) > 1)
    throw new BadZipFile('zipfiles that span multiple disks are not supported');
  const reloff = num(u64(lv, 0, L64.zip64RecordOffset));
  offset -= sizeEndCentDir64;
  if (reloff > offset) throw new BadZipFile('Corrupt zip64 end of central directory locator');
  let extrasz = offset - reloff;
  let r = await src.read(reloff, sizeEndCentDir64);
  if (r.length !== sizeEndCentDir64) throw new Error('Unknown I/O error');
  const isRecord = (b: Uint8Array) =>
    b.length >= 4 && hasSignature(new DataView(b.buffer, b.byteOffset, 4), 0, ZIP64_END_OF_CENTRAL_DIRECTORY);
  if (!isRecord(r) && reloff !== offset) {
    extrasz = 0;
    r = await readExactly(src, offset, sizeEndCentDir64);
  }
  if (!isRecord(r)) throw new BadZipFile('Zip64 end of central directory record not found');
  const rv = new DataView(r.buffer, r.byteOffset, sizeEndCentDir64);
  const sz = num(u64(rv, 0, E64.recordSize));
  const dirsize = num(u64(rv, 0, E64.centralDirectorySize));
  const diroffset = num(u64(rv, 0, E64.centralDirectoryOffset));
  // the record size counts what follows its own field (12 bytes in): zipfile's `sz + 12 != sizeEndCentDir64 + extrasz`
  if (diroffset + dirsize !== reloff || sz + 12 !== sizeEndCentDir64 + extrasz)
    throw new BadZipFile('Corrupt zip64 end of central directory record');
  return {
    signature: EOCD64,
    disk: u(rv, 0, E64.diskNumber),
    diskStart: u(rv, 0, E64.centralDirectoryDisk),
    size: dirsize,
    offset: diroffset,
    location: offset - extrasz,
  };
}

/** ZipFile(path) for reading: _RealGetContents */
export async function openZipfile(
  src: ByteSource,
  python: ZipfilePython,
  maxMembers: number,
  visit?: (m: ZipfileMember, rawName: Uint8Array) => void,
): Promise<ZipfileArchive> {
  const z = new ZipfileArchive(python);
  try {
    await readContents(src, python, maxMembers, z, visit);
  } catch (e) {
    if (!(e instanceof BadZipFile) && !/^(UnicodeDecodeError|NotImplementedError)/.test((e as Error).message))
      throw e;
    z.error = e instanceof BadZipFile ? `BadZipFile: ${e.message}` : (e as Error).message;
  }
  return z;
}

/** where the central directory starts as `python` computes it, and concat (null: not a zip) */
export async function zipfileStart(
  src: ByteSource,
  python: ZipfilePython,
): Promise<{ concat: number; startDir: number; size: number } | null> {
  try {
    const end = await endRecord(src, python);
    if (!end) return null;
    let concat = end.location - end.size - end.offset;
    if (python === '3.11' && end.signature === EOCD64) concat -= sizeEndCentDir64 + sizeEndCentDir64Locator;
    return { concat, startDir: end.offset + concat, size: end.size };
  } catch (e) {
    if (e instanceof BadZipFile) return null;
    throw e;
  }
}

/**
 * _RealGetContents. With `visit`, each member is handed over as it is read and nothing is kept (a pass that only
 * compares); without, the listing is kept in `z`.
 */
async function readContents(
  src: ByteSource,
  python: ZipfilePython,
  maxMembers: number,
  z: ZipfileArchive,
  visit?: (m: ZipfileMember, rawName: Uint8Array) => void,
) {
  const end = await endRecord(src, python);
  if (!end) throw new BadZipFile('File is not a zip file');
  if (end.signature === EOCD64) z.versionSensitive = true;
  let concat = end.location - end.size - end.offset;
  if (python === '3.11' && end.signature === EOCD64) concat -= sizeEndCentDir64 + sizeEndCentDir64Locator;
  z.concat = concat;
  const startDir = end.offset + concat;
  z.startDir = startDir;
  if (startDir < 0) throw new BadZipFile('Bad offset for central directory');
  // fp.read(size_cd): what the file holds of it
  const cdSize = Math.max(0, Math.min(end.size, src.size - startDir));
  const cur = new InputCursor(src, startDir, 1024 * 1024, startDir + cdSize);
  let total = 0;
  const claimed = end.size;
  z.grow(1024);
  while (total < claimed) {
    await cur.ensure(sizeCentralDir);
    const head = cur.take(sizeCentralDir);
    if (head.length !== sizeCentralDir) throw new BadZipFile('Truncated central directory');
    const v = new DataView(head.buffer, head.byteOffset, sizeCentralDir);
    if (!hasSignature(v, 0, CENTRAL_DIRECTORY_HEADER))
      throw new BadZipFile('Bad magic number for central directory');
    const nameLen = u(v, 0, C.nameLength);
    const extraLen = u(v, 0, C.extraLength);
    const commentLen = u(v, 0, C.commentLength);
    await cur.ensure(nameLen + extraLen + commentLen);
    const rawName = cur.take(nameLen);
    const extra = cur.take(extraLen);
    cur.take(commentLen);
    const flags = u(v, 0, C.flags);
    const origFilename = decodeName(rawName, flags);
    const extractVersion = u(v, 0, C.extractVersion);
    if (extractVersion > 63)
      throw new Error(`NotImplementedError: zip file version ${(extractVersion / 10).toFixed(1)}`);
    const nul = origFilename.indexOf('\0');
    const m: ZipfileMember = {
      index: z.count,
      filename: nul >= 0 ? origFilename.slice(0, nul) : origFilename,
      origFilename,
      flags,
      method: u(v, 0, C.method),
      crc: u(v, 0, C.crc32),
      compressSize: u(v, 0, C.compressedSize),
      fileSize: u(v, 0, C.uncompressedSize),
      headerOffset: u(v, 0, C.localHeaderOffset),
      endOffset: 0,
    };
    decodeExtra(m, extra, rawName, python, z);
    m.headerOffset += concat;
    if (z.count >= maxMembers) throw new BadZipFile(`more than ${maxMembers} entries (the scan's limit)`);
    total += sizeCentralDir + nameLen + extraLen + commentLen;
    if (visit) {
      visit(m, rawName);
      z.count++;
      continue;
    }
    if (z.count >= z.headerOffset.length) z.grow(z.headerOffset.length * 2);
    const i = z.count++;
    z.headerOffset[i] = m.headerOffset;
    z.compressSize[i] = m.compressSize;
    z.fileSize[i] = m.fileSize;
    z.crc[i] = m.crc;
    z.flags[i] = m.flags;
    z.method[i] = m.method;
    if (m.filename !== origFilename) z.origNames.set(i, origFilename);
    const before = z.byName.get(m.filename);
    if (before !== undefined) z.shadowedNames.set(before, m.filename);
    z.byName.set(m.filename, i);
  }
  if (visit) return;
  // _end_offset: the next local header (or the central directory) in offset order; equal offsets as each
  // version's sort leaves them (3.11: sorted(reverse=True) keeps their order, 3.13+: reversed(sorted()) turns it)
  const order = new Uint32Array(z.count);
  for (let i = 0; i < z.count; i++) order[i] = i;
  const off = z.headerOffset;
  if (python === '3.11') order.sort((a, b) => off[b] - off[a] || a - b);
  else order.sort((a, b) => off[b] - off[a] || b - a);
  let endOffset = startDir;
  for (const i of order) {
    z.endOffset[i] = endOffset;
    endOffset = off[i];
  }
}

/** ZipInfo._decodeExtra */
function decodeExtra(
  m: ZipfileMember,
  extra: Uint8Array,
  rawName: Uint8Array,
  python: ZipfilePython,
  z: ZipfileArchive,
): void {
  let p = 0;
  const v = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
  while (extra.length - p >= EXTRA_FIELD_HEADER.size) {
    const tp = u(v, p, X.id);
    const ln = u(v, p, X.length);
    if (ln + EXTRA_FIELD_HEADER.size > extra.length - p)
      throw new BadZipFile(`Corrupt extra field ${tp.toString(16).padStart(4, '0')} (size=${ln})`);
    const data = extra.subarray(p + EXTRA_FIELD_HEADER.size, p + EXTRA_FIELD_HEADER.size + ln);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (tp === EXTRA_ZIP64) {
      z.versionSensitive = true;
      let k = 0;
      const take = (field: string) => {
        if (k + 8 > data.length) throw new BadZipFile(`Corrupt zip64 extra field. ${field} not found.`);
        const val = num(dv.getBigUint64(k, true));
        k += 8;
        return val;
      };
      if (m.fileSize === 0xffffffff) m.fileSize = take('File size');
      if (m.compressSize === 0xffffffff) m.compressSize = take('Compress size');
      if (m.headerOffset === 0xffffffff) m.headerOffset = take('Header offset');
    } else if (tp === EXTRA_UNICODE_PATH && python !== '3.11') {
      z.versionSensitive = true;
      if (data.length < UNICODE_PATH_FIELD.size)
        throw new BadZipFile('Corrupt unicode path extra field (0x7075)');
      if (u(dv, 0, UP.version) === 1 && u(dv, 0, UP.nameCrc32) === crc32(rawName) >>> 0) {
        let name: string;
        try {
          name = UTF8.decode(data.subarray(UNICODE_PATH_FIELD.size));
        } catch {
          throw new BadZipFile('Corrupt unicode path extra field (0x7075): invalid utf-8 bytes');
        }
        if (name) {
          const nul = name.indexOf('\0');
          m.filename = nul >= 0 ? name.slice(0, nul) : name;
        }
      }
    } else if (tp === EXTRA_UNICODE_PATH) z.versionSensitive = true;
    p += EXTRA_FIELD_HEADER.size + ln;
  }
}

export interface MemberOpening {
  /** where the member's data starts, when open() gets that far */
  dataStart: number | null;
  /** what open() raises, or null */
  error: string | null;
  /** what it only warns about */
  warning: string | null;
}

/** ZipFile.open(name) */
export async function openMember(
  src: ByteSource,
  z: ZipfileArchive,
  m: ZipfileMember,
): Promise<MemberOpening> {
  const fail = (error: string): MemberOpening => ({ dataStart: null, error, warning: null });
  const head = await src.read(m.headerOffset, sizeFileHeader);
  if (head.length !== sizeFileHeader) return fail('BadZipFile: Truncated file header');
  const v = new DataView(head.buffer, head.byteOffset, sizeFileHeader);
  if (!hasSignature(v, 0, LOCAL_FILE_HEADER)) return fail('BadZipFile: Bad magic number for file header');
  const nameLen = u(v, 0, H.nameLength);
  const extraLen = u(v, 0, H.extraLength);
  const fname = await src.read(m.headerOffset + sizeFileHeader, nameLen);
  if (m.flags & 0x20) return fail('NotImplementedError: compressed patched data (flag bit 5)');
  if (m.flags & 0x40) return fail('NotImplementedError: strong encryption (flag bit 6)');
  let local: string;
  try {
    local = decodeName(fname, u(v, 0, H.flags));
  } catch (e) {
    return fail((e as Error).message);
  }
  if (local !== m.origFilename)
    return fail(`BadZipFile: File name in directory '${m.origFilename}' and header '${local}' differ.`);
  const dataStart = m.headerOffset + sizeFileHeader + nameLen + extraLen;
  let warning: string | null = null;
  if (dataStart + m.compressSize > m.endOffset) {
    if (z.python !== '3.11' && m.endOffset === m.headerOffset)
      warning = `Overlapped entries: '${m.origFilename}' (possible zip bomb)`;
    else return fail(`BadZipFile: Overlapped entries: '${m.origFilename}' (possible zip bomb)`);
  }
  if (m.flags & 0x1)
    return fail(`RuntimeError: File '${m.filename}' is encrypted, password required for extraction`);
  const supported = [0, 8, 12, 14, ...(z.python === '3.14' ? [93] : [])];
  if (!supported.includes(m.method))
    return fail(
      m.method === 93
        ? `NotImplementedError: That compression method is not supported`
        : `NotImplementedError: compression type ${m.method}`,
    );
  return { dataStart, error: null, warning };
}

/**
 * The member's bytes as ZipExtFile reads them: the central directory's compressed size from dataStart,
 * decompressed, cut at its uncompressed size. Stored members are a window of the file; the others are decoded
 * within the budget (see DecompressedSource).
 */
export async function memberBytes(
  src: ByteSource,
  m: ZipfileMember,
  dataStart: number,
  budget: StreamBudget,
  maxLzmaWindow: number,
): Promise<{ source: ByteSource; error: string | null; complete: boolean }> {
  const end = Math.min(src.size, dataStart + m.compressSize);
  if (m.method === 0) {
    const n = Math.min(m.fileSize, end - dataStart);
    return {
      source: new SliceSource(src, dataStart, Math.max(0, n)),
      error: null,
      complete: n === m.fileSize,
    };
  }
  const start = (): DecoderRun => {
    const cursor = new InputCursor(src, dataStart, 1024 * 1024, end);
    return { chunks: cut(decode(m, cursor, maxLzmaWindow), m.fileSize), consumed: () => cursor.pos };
  };
  const s = await openDecompressed(start, Math.max(1, end - dataStart), budget);
  const error = s.error ?? s.limit ?? (s.budget ? `the ${s.budget} budget` : null);
  return { source: s.source, error, complete: error === null && s.size === m.fileSize };
}

async function* cut(gen: AsyncGenerator<Uint8Array, void>, limit: number): AsyncGenerator<Uint8Array, void> {
  let left = limit;
  for await (const c of gen) {
    if (left <= 0) return;
    const part = c.length > left ? c.subarray(0, left) : c;
    left -= part.length;
    yield part;
  }
}

async function* decode(
  m: ZipfileMember,
  cursor: InputCursor,
  maxWindow: number,
): AsyncGenerator<Uint8Array, void> {
  switch (m.method) {
    case 8:
      yield* rawDeflate(cursor);
      return;
    case 12:
      yield* bzip2Streams(cursor, { streams: 0, blocks: 0 });
      return;
    case 14: {
      // zipfile's LZMADecompressor: a 4-byte header (version, properties size), the properties, raw LZMA1
      await cursor.ensure(9);
      const h = cursor.take(4);
      if (h.length < 4)
        throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
      const psize = h[2] | (h[3] << 8);
      await cursor.ensure(psize);
      const props = cursor.take(psize);
      const p = props.length >= 5 ? decodeProps(props[0]) : null;
      if (!p || psize < 5) throw new DecodeError('Invalid or unsupported options');
      const dict = (props[1] | (props[2] << 8) | (props[3] << 16) | (props[4] << 24)) >>> 0;
      yield* lzma1(cursor, p, dict, (m.flags & 0x2) === 0 ? m.fileSize : null, { maxWindow });
      return;
    }
    case 93:
      yield* zstdFrames(cursor);
      return;
    default:
      throw new DecodeError(`compression method ${m.method}`);
  }
}
