import { crc32, inflateRawSync } from 'node:zlib';
import { readExactly, type ByteSource } from '@brine/bytes';
import {
  CENTRAL_DIRECTORY_HEADER,
  END_OF_CENTRAL_DIRECTORY,
  EXTRA_FIELD_HEADER,
  EXTRA_ZIP64,
  hasSignature,
  LOCAL_FILE_HEADER,
  u,
  u64,
  ZIP64_END_OF_CENTRAL_DIRECTORY,
  ZIP64_LOCATOR,
} from './layouts';
import { MinizIndex } from './miniz-index';

/**
 * A zip reader that reads archives the way PyTorch's PyTorchStreamReader (miniz) does:
 * the central directory is the truth (method, sizes, CRC, order), the local header is used only to find where the
 * data starts, duplicate names resolve to the first central-directory entry, CRCs are not enforced.
 * Everything another reader (Python's zipfile, a scanner) would see differently is recorded as an inconsistency,
 * because such differentials are how payloads slip past scanners (CVE-2025-1944/1945/10156).
 *
 * Only the central directory and the entries asked for are read: a 20 GB checkpoint costs a few KB.
 */

export class ZipError extends Error {
  /** miniz's error string, as PyTorch prints it after "PytorchStreamReader failed reading zip archive: " */
  constructor(readonly minizMessage: string) {
    super(minizMessage);
  }
}

export interface ZipEntry {
  readonly index: number;
  /** the name's bytes as Latin-1 characters (one character per byte, so distinct names stay distinct) */
  readonly name: string;
  readonly nameBytes: Uint8Array;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
  readonly centralOffset: number;
  readonly externalAttributes: number;
  /**
   * mz_zip_reader_is_file_a_directory: the name ends with "/" or the DOS directory attribute is set. miniz's
   * extraction returns no bytes for such an entry (PyTorch then reads an uninitialised buffer of `size` bytes).
   */
  readonly isDirectory: boolean;
  /** miniz's mz_zip_reader_file_stat fails for this entry (a ZIP64 field it needs is missing) */
  readonly statError: string | null;
}

export interface ZipInconsistency {
  readonly rule: string;
  readonly entry: string | null;
  readonly offset: number | null;
  readonly message: string;
  /** whether the difference can make two readers extract different bytes */
  readonly differential: boolean;
}

/** the records' fields (layouts.ts) */
const E = END_OF_CENTRAL_DIRECTORY.fields;
const L64 = ZIP64_LOCATOR.fields;
const E64 = ZIP64_END_OF_CENTRAL_DIRECTORY.fields;
const C = CENTRAL_DIRECTORY_HEADER.fields;
const H = LOCAL_FILE_HEADER.fields;
const X = EXTRA_FIELD_HEADER.fields;
const EOCD_SIZE = END_OF_CENTRAL_DIRECTORY.size;
const EOCD64_SIZE = ZIP64_END_OF_CENTRAL_DIRECTORY.size;
const EOCD64_LOCATOR_SIZE = ZIP64_LOCATOR.size;
const CENTRAL_SIZE = CENTRAL_DIRECTORY_HEADER.size;
const LOCAL_SIZE = LOCAL_FILE_HEADER.size;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_COMPRESSED_PATCH = 0x0020;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FLAG_UTF8 = 0x0800;
const FLAG_MASKED_LOCAL = 0x2000;
const KNOWN_FLAGS = 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0040 | 0x0800 | 0x2000;
const DOS_DIRECTORY = 0x10;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

/** miniz's error strings (mz_zip_get_error_string), as PyTorch prints them */
const NOT_AN_ARCHIVE = 'not a ZIP archive';
const NO_CENTRAL_DIR = 'failed finding central directory';
const CORRUPTED = 'invalid header or archive is corrupted';
const MULTIDISK = 'unsupported multidisk archive';

export interface ZipOpenOptions {
  /** refuse central directories with more entries than this */
  maxEntries?: number;
  /** refuse central directories whose names add up to more bytes than this */
  maxNameBytes?: number;
  /**
   * read archives preceded by other data the way Python's zipfile does (offsets shifted by the prefix length);
   * miniz, and so PyTorch, does not — use only to find what zip-based tools would see
   */
  allowPrefix?: boolean;
}

/**
 * The central directory, one column per field: an archive of 200 000 entries costs its central directory's bytes
 * plus about 60 bytes an entry, not an object, a name string and a name buffer each. ZipEntry objects are made
 * when asked for (entry(i), iteration, locate) and not kept.
 */
class Columns {
  readonly nameStart: Uint32Array;
  readonly nameLength: Uint16Array;
  readonly flags: Uint16Array;
  readonly method: Uint16Array;
  readonly crc32: Uint32Array;
  readonly external: Uint32Array;
  readonly compressedSize: Float64Array;
  readonly size: Float64Array;
  readonly localHeaderOffset: Float64Array;
  readonly centralOffset: Float64Array;
  /** 1: miniz's mz_zip_reader_file_stat fails (a ZIP64 field it needs is missing) */
  readonly statError: Uint8Array;
  count = 0;

  constructor(capacity: number) {
    this.nameStart = new Uint32Array(capacity);
    this.nameLength = new Uint16Array(capacity);
    this.flags = new Uint16Array(capacity);
    this.method = new Uint16Array(capacity);
    this.crc32 = new Uint32Array(capacity);
    this.external = new Uint32Array(capacity);
    this.compressedSize = new Float64Array(capacity);
    this.size = new Float64Array(capacity);
    this.localHeaderOffset = new Float64Array(capacity);
    this.centralOffset = new Float64Array(capacity);
    this.statError = new Uint8Array(capacity);
  }
}

export class ZipArchive {
  readonly inconsistencies: ZipInconsistency[] = [];
  /** offset of the central directory, and bytes before the first local header */
  centralDirectoryOffset = 0;
  comment = '';
  zip64 = false;
  /** every entry's name, one after the other */
  private names: Uint8Array = new Uint8Array(0);
  private cols = new Columns(0);
  /** miniz's sorted index, built once the central directory is read */
  private index: MinizIndex | null = null;

  private constructor(private readonly src: ByteSource) {}

  static async open(src: ByteSource, opts: ZipOpenOptions = {}): Promise<ZipArchive> {
    const z = new ZipArchive(src);
    await z.readCentralDirectory(
      opts.maxEntries ?? 1_000_000,
      opts.allowPrefix ?? false,
      opts.maxNameBytes ?? 64 * 1024 * 1024,
    );
    z.index = new MinizIndex({ buf: z.names, start: z.cols.nameStart, length: z.cols.nameLength });
    z.noteCaseCollisions();
    return z;
  }

  get source(): ByteSource {
    return this.src;
  }

  /** number of entries in the central directory */
  get entryCount(): number {
    return this.cols.count;
  }

  /** entry `i` of the central directory (a new object each time: compare entries by index) */
  entry(i: number): ZipEntry {
    const c = this.cols;
    if (i < 0 || i >= c.count) throw new RangeError(`no entry ${i}`);
    const nameBytes = this.names.subarray(c.nameStart[i], c.nameStart[i] + c.nameLength[i]);
    const name = latin1(nameBytes);
    return {
      index: i,
      name,
      nameBytes,
      flags: c.flags[i],
      method: c.method[i],
      crc32: c.crc32[i],
      compressedSize: c.compressedSize[i],
      size: c.size[i],
      localHeaderOffset: c.localHeaderOffset[i],
      centralOffset: c.centralOffset[i],
      externalAttributes: c.external[i],
      isDirectory: name.endsWith('/') || (c.external[i] & DOS_DIRECTORY) !== 0,
      statError: c.statError[i] ? CORRUPTED : null,
    };
  }

  /** an entry's name (Latin-1) without making the entry */
  entryName(i: number): string {
    const c = this.cols;
    return latin1(this.names.subarray(c.nameStart[i], c.nameStart[i] + c.nameLength[i]));
  }

  /** entry i's sizes and method, without making the entry */
  entrySizes(i: number): { compressedSize: number; size: number; method: number } {
    const c = this.cols;
    return { compressedSize: c.compressedSize[i], size: c.size[i], method: c.method[i] };
  }

  /** where entry i's local header is (prefix included) */
  localHeaderOffsetOf(i: number): number {
    return this.cols.localHeaderOffset[i];
  }

  /** the entries in central-directory order, made one at a time */
  *entries(): IterableIterator<ZipEntry> {
    for (let i = 0; i < this.cols.count; i++) yield this.entry(i);
  }

  /** the entry PyTorch reads for `name`: miniz's case-folding binary search (mz_zip_reader_locate_file, flags 0) */
  locate(name: string): ZipEntry | undefined {
    if (this.index === null) return undefined;
    const i = this.index.locate(Buffer.from(name, 'latin1'));
    return i < 0 ? undefined : this.entry(i);
  }

  /** entries whose names fold (ASCII case) to the same name as `e`'s, `e` included */
  sameFoldedName(e: ZipEntry): ZipEntry[] {
    const out: ZipEntry[] = [];
    if (this.index === null) return [e];
    for (let i = 0; i < this.cols.count; i++) if (this.index.sameFolded(i, e.index)) out.push(this.entry(i));
    return out;
  }

  private note(
    rule: string,
    entry: string | null,
    offset: number | null,
    message: string,
    differential: boolean,
  ): void {
    this.inconsistencies.push({ rule, entry, offset, message, differential });
  }

  /**
   * two names that fold to one: which entry a reader gets depends on the reader (and, for miniz, on the layout).
   * Names that fold to one are neighbours in miniz's sorted order, so one pass over it finds every group.
   */
  private noteCaseCollisions(): void {
    const index = this.index;
    if (index === null) return;
    const sorted = index.sorted;
    for (let k = 0; k < sorted.length;) {
      let end = k + 1;
      while (end < sorted.length && index.sameFolded(sorted[k], sorted[end])) end++;
      if (end - k >= 2) {
        const g = [...sorted.subarray(k, end)].sort((a, b) => a - b);
        const first = this.entryName(g[0]);
        const picked = index.locate(Buffer.from(first, 'latin1'));
        let exact = true;
        for (const i of g) if (exact && this.entryName(i) !== first) exact = false;
        const shown = g.slice(0, 8).map((i) => `"${this.entryName(i)}" (#${i})`);
        if (g.length > 8) shown.push(`${g.length - 8} more`);
        this.note(
          exact ? 'zip-duplicate-name' : 'zip-case-collision',
          first,
          this.cols.centralOffset[g[1]],
          `${g.length} entries share the name ${shown.join(', ')} once letters are folded to lower case; PyTorch ` +
            `(miniz) reads #${picked < 0 ? '?' : picked}, Python's zipfile the last exact match, other tools the first`,
          true,
        );
      }
      k = end;
    }
  }

  /** bytes prepended to the archive (non-zero only with allowPrefix) */
  prefixLength = 0;

  /** mz_zip_reader_locate_header_sig: the end record closest to the end, searched back over about 64 KiB */
  private async findEndRecord(size: number): Promise<number> {
    const chunk = 4096;
    let cur = Math.max(size - chunk, 0);
    for (;;) {
      const n = Math.min(chunk, size - cur);
      const buf = await readExactly(this.src, cur, n);
      const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      for (let i = n - 4; i >= 0; i--) {
        if (hasSignature(v, i, END_OF_CENTRAL_DIRECTORY) && size - (cur + i) >= EOCD_SIZE) return cur + i;
      }
      if (cur === 0 || size - cur >= U16_MAX + EOCD_SIZE) return -1;
      cur = Math.max(cur - (chunk - 3), 0);
    }
  }

  /** mz_zip_reader_read_central_dir, check for check (miniz 3.0.2 as built into PyTorch 2.x; 2.1.0 agrees) */
  private async readCentralDirectory(
    maxEntries: number,
    allowPrefix: boolean,
    maxNameBytes: number,
  ): Promise<void> {
    const size = this.src.size;
    if (size < EOCD_SIZE) throw new ZipError(NOT_AN_ARCHIVE);
    const eocdOffset = await this.findEndRecord(size);
    if (eocdOffset < 0) throw new ZipError(NO_CENTRAL_DIR);
    const eocd = await readExactly(this.src, eocdOffset, EOCD_SIZE);
    const ev = new DataView(eocd.buffer, eocd.byteOffset, EOCD_SIZE);
    const commentLen = u(ev, 0, E.commentLength);
    const commentEnd = Math.min(size, eocdOffset + EOCD_SIZE + commentLen);
    if (commentLen > 0) {
      const c = await readExactly(this.src, eocdOffset + EOCD_SIZE, commentEnd - eocdOffset - EOCD_SIZE);
      this.comment = Buffer.from(c).toString('latin1');
    }
    if (eocdOffset + EOCD_SIZE + commentLen !== size) {
      this.note(
        'zip-trailing-data',
        null,
        eocdOffset,
        `${size - eocdOffset - EOCD_SIZE - commentLen} bytes follow the end-of-central-directory record and its comment`,
        false,
      );
    }

    // ZIP64: a locator just before the end record points at the ZIP64 end record; a locator whose record does not
    // carry the signature is ignored, one that points past the end is an error
    let locator: DataView | null = null;
    let e64: DataView | null = null;
    if (eocdOffset >= EOCD64_LOCATOR_SIZE + EOCD64_SIZE) {
      const loc = await readExactly(this.src, eocdOffset - EOCD64_LOCATOR_SIZE, EOCD64_LOCATOR_SIZE);
      const lv = new DataView(loc.buffer, loc.byteOffset, EOCD64_LOCATOR_SIZE);
      if (hasSignature(lv, 0, ZIP64_LOCATOR)) {
        const e64Offset = u64(lv, 0, L64.zip64RecordOffset);
        if (e64Offset > BigInt(size - EOCD64_SIZE)) throw new ZipError(NOT_AN_ARCHIVE);
        const rec = await readExactly(this.src, Number(e64Offset), EOCD64_SIZE);
        const rv = new DataView(rec.buffer, rec.byteOffset, EOCD64_SIZE);
        if (hasSignature(rv, 0, ZIP64_END_OF_CENTRAL_DIRECTORY)) {
          locator = lv;
          e64 = rv;
          this.zip64 = true;
        }
      }
    }
    let totalEntries: number = u(ev, 0, E.totalEntries);
    let entriesOnDisk: number = u(ev, 0, E.entriesOnDisk);
    let diskNum: number = u(ev, 0, E.diskNumber);
    let cdDisk: number = u(ev, 0, E.centralDirectoryDisk);
    let cdSize: number = u(ev, 0, E.centralDirectorySize);
    let cdOffset: number = u(ev, 0, E.centralDirectoryOffset);
    if (e64 && locator) {
      if (u64(e64, 0, E64.recordSize) < BigInt(EOCD64_SIZE - 12)) throw new ZipError(CORRUPTED);
      if (u(locator, 0, L64.totalDisks) !== 1) throw new ZipError(MULTIDISK);
      const total = u64(e64, 0, E64.totalEntries);
      const onDisk = u64(e64, 0, E64.entriesOnDisk);
      const dirSize = u64(e64, 0, E64.centralDirectorySize);
      if (total > BigInt(U32_MAX) || onDisk > BigInt(U32_MAX)) throw new ZipError('too many files');
      if (dirSize > BigInt(U32_MAX)) throw new ZipError('unsupported central directory size');
      totalEntries = Number(total);
      entriesOnDisk = Number(onDisk);
      cdSize = Number(dirSize);
      diskNum = u(e64, 0, E64.diskNumber);
      cdDisk = u(e64, 0, E64.centralDirectoryDisk);
      cdOffset = safeNumber(u64(e64, 0, E64.centralDirectoryOffset));
    }
    if (totalEntries !== entriesOnDisk) throw new ZipError(MULTIDISK);
    if ((diskNum | cdDisk) !== 0 && (diskNum !== 1 || cdDisk !== 1)) throw new ZipError(MULTIDISK);
    if (allowPrefix) {
      const shift = eocdOffset - (this.zip64 ? EOCD64_SIZE + EOCD64_LOCATOR_SIZE : 0) - cdSize - cdOffset;
      if (shift > 0) {
        this.prefixLength = shift;
        cdOffset += shift;
      }
    }
    if (cdSize < totalEntries * CENTRAL_SIZE) throw new ZipError(CORRUPTED);
    if (cdOffset + cdSize > size) throw new ZipError(CORRUPTED);
    if (totalEntries > maxEntries)
      throw new ZipError(`archive has ${totalEntries} entries (limit ${maxEntries})`);
    this.centralDirectoryOffset = cdOffset;
    if (totalEntries === 0) return;

    const cols = new Columns(totalEntries);
    this.cols = cols;
    // the central directory is read in windows and only its names are kept (one buffer for all of them)
    const names = new NameBuffer(maxNameBytes);
    let cd: Uint8Array = new Uint8Array(0);
    let cdAt = 0;
    let cv = new DataView(cd.buffer);
    /** makes cd hold bytes [at, at + n) of the central directory (clamped to its end); returns the position in cd */
    const window = async (at: number, n: number): Promise<number> => {
      if (at >= cdAt && at + n <= cdAt + cd.length) return at - cdAt;
      const len = Math.min(Math.max(n, CD_WINDOW), cdSize - at);
      cd = await readExactly(this.src, cdOffset + at, len);
      cdAt = at;
      cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
      return 0;
    };
    let first = Number.POSITIVE_INFINITY;
    let at = 0;
    for (let index = 0; index < totalEntries; index++) {
      const n = cdSize - at;
      if (n < CENTRAL_SIZE) throw new ZipError(CORRUPTED);
      let p = await window(at, CENTRAL_SIZE);
      if (!hasSignature(cv, p, CENTRAL_DIRECTORY_HEADER)) throw new ZipError(CORRUPTED);
      const variable = u(cv, p, C.nameLength) + u(cv, p, C.extraLength);
      p = await window(at, Math.min(n, CENTRAL_SIZE + variable));
      if (n < CENTRAL_SIZE || !hasSignature(cv, p, CENTRAL_DIRECTORY_HEADER)) throw new ZipError(CORRUPTED);
      const flags = u(cv, p, C.flags);
      const method = u(cv, p, C.method);
      const crc = u(cv, p, C.crc32);
      let compressedSize: number = u(cv, p, C.compressedSize);
      let uncompressed: number = u(cv, p, C.uncompressedSize);
      let localOffset: number = u(cv, p, C.localHeaderOffset);
      const nameLen = u(cv, p, C.nameLength);
      const extraLen = u(cv, p, C.extraLength);
      const commentLen2 = u(cv, p, C.commentLength);
      const disk = u(cv, p, C.diskNumberStart);
      const external = u(cv, p, C.externalAttributes);
      let statError = 0;
      if (extraLen > 0 && Math.max(compressedSize, uncompressed, localOffset) === U32_MAX) {
        // the ZIP64 extended information field replaces the fields that hold 0xFFFFFFFF, in this order
        const extraStart = CENTRAL_SIZE + nameLen;
        if (at + extraStart + extraLen > cdSize) throw new ZipError(CORRUPTED);
        const z64 = zip64Field(cd.subarray(p + extraStart, p + extraStart + extraLen));
        if (z64 === 'corrupt') throw new ZipError(CORRUPTED);
        if (z64 !== null) {
          const fields: number[] = [];
          const fv = new DataView(z64.buffer, z64.byteOffset, z64.byteLength);
          for (let k = 0; k + 8 <= z64.length; k += 8) fields.push(safeNumber(fv.getBigUint64(k, true)));
          let k = 0;
          const take = (v: number): number => {
            if (v !== U32_MAX) return v;
            if (k >= fields.length) {
              statError = 1;
              return v;
            }
            return fields[k++];
          };
          uncompressed = take(uncompressed);
          compressedSize = take(compressedSize);
          localOffset = take(localOffset);
        }
      }
      if (compressedSize !== U32_MAX && uncompressed !== U32_MAX) {
        if (
          (method === METHOD_STORED && uncompressed !== compressedSize) ||
          (uncompressed > 0 && compressedSize === 0)
        )
          throw new ZipError(CORRUPTED);
      }
      if (disk === U16_MAX || (disk !== diskNum && disk !== 1)) throw new ZipError(MULTIDISK);
      localOffset += this.prefixLength;
      if (compressedSize !== U32_MAX && localOffset + LOCAL_SIZE + compressedSize > size)
        throw new ZipError(CORRUPTED);
      if (flags & FLAG_MASKED_LOCAL) throw new ZipError('unsupported encryption');
      const total = CENTRAL_SIZE + nameLen + extraLen + commentLen2;
      if (total > n) throw new ZipError(CORRUPTED);
      if (CENTRAL_SIZE + nameLen > n) throw new ZipError(CORRUPTED);
      const nameBytes = cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
      cols.nameStart[index] = names.add(nameBytes);
      cols.nameLength[index] = nameLen;
      cols.flags[index] = flags;
      cols.method[index] = method;
      cols.crc32[index] = crc;
      cols.external[index] = external;
      cols.compressedSize[index] = compressedSize;
      cols.size[index] = uncompressed;
      cols.localHeaderOffset[index] = localOffset;
      cols.centralOffset[index] = cdOffset + at;
      cols.statError[index] = statError;
      cols.count = index + 1;
      if (localOffset < first) first = localOffset;
      this.noteEntry(index, nameBytes);
      at += total;
    }
    this.names = names.bytes();
    if (at !== cdSize) {
      this.note(
        'zip-central-directory-slack',
        null,
        cdOffset + at,
        `${cdSize - at} unexplained bytes in the central directory`,
        false,
      );
    }
    if (Number.isFinite(first) && first > 0 && this.prefixLength === 0) {
      this.note('zip-leading-data', null, 0, `${first} bytes precede the first local header`, true);
    }
  }

  /** what one central-directory record says that readers disagree on (names are decoded only when needed) */
  private noteEntry(index: number, nameBytes: Uint8Array): void {
    const c = this.cols;
    const flags = c.flags[index];
    const method = c.method[index];
    const at = c.centralOffset[index];
    const odd = flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | ~KNOWN_FLAGS);
    const traversal = nameBytes[0] === 0x2f || hasDotDot(nameBytes);
    const nul = nameBytes.indexOf(0) >= 0;
    if (!odd && !traversal && !nul && (method === METHOD_STORED || method === METHOD_DEFLATED)) return;
    const name = latin1(nameBytes);
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) {
      this.note('zip-encrypted', name, at, `"${name}" is flagged as encrypted`, true);
    }
    if (flags & ~KNOWN_FLAGS) {
      this.note(
        'zip-odd-flags',
        name,
        at,
        `"${name}" has unusual general-purpose flags 0x${flags.toString(16)}`,
        true,
      );
    }
    if (method !== METHOD_STORED && method !== METHOD_DEFLATED) {
      this.note(
        'zip-unsupported-method',
        name,
        at,
        `"${name}" uses compression method ${method}, which PyTorch cannot read`,
        true,
      );
    }
    if (/(^|\/)\.\.(\/|$)/.test(name) || name.startsWith('/')) {
      this.note('zip-path-traversal', name, at, `"${name}" escapes the extraction folder`, true);
    }
    if (nul) {
      this.note(
        'zip-nul-in-name',
        name,
        at,
        `"${name.replace(/\0/g, '\\0')}" holds a NUL byte: C string readers see "${name.slice(0, name.indexOf('\0'))}"`,
        true,
      );
    }
  }

  /**
   * Reads the local header and returns where the entry's data starts, noting header/directory differences.
   * `via` reads the same bytes another way (a cache of prefetched ranges of this archive's source).
   */
  async dataOffset(e: ZipEntry, via: ByteSource = this.src): Promise<number> {
    const head = await via.read(e.localHeaderOffset, LOCAL_SIZE);
    if (head.length < LOCAL_SIZE) throw new ZipError('invalid header or archive is corrupted');
    const hv = new DataView(head.buffer, head.byteOffset, LOCAL_SIZE);
    if (!hasSignature(hv, 0, LOCAL_FILE_HEADER)) throw new ZipError('invalid header or archive is corrupted');
    const flags = u(hv, 0, H.flags);
    const method = u(hv, 0, H.method);
    const crc = u(hv, 0, H.crc32);
    const csize = u(hv, 0, H.compressedSize);
    const usize = u(hv, 0, H.uncompressedSize);
    const nameLen = u(hv, 0, H.nameLength);
    const extraLen = u(hv, 0, H.extraLength);
    const dataStart = e.localHeaderOffset + LOCAL_SIZE + nameLen + extraLen;
    if (dataStart + e.compressedSize > this.src.size)
      throw new ZipError('invalid header or archive is corrupted');
    const nameBytes = await via.read(e.localHeaderOffset + LOCAL_SIZE, nameLen);
    const localName = decodeName(nameBytes, flags);
    if (localName !== e.name) {
      this.note(
        'zip-name-mismatch',
        e.name,
        e.localHeaderOffset,
        `local header names "${localName}" but the central directory names "${e.name}"`,
        true,
      );
    }
    if (method !== e.method) {
      this.note(
        'zip-method-mismatch',
        e.name,
        e.localHeaderOffset,
        `local header method ${method}, central directory ${e.method}`,
        true,
      );
    }
    if ((flags & ~FLAG_UTF8) !== (e.flags & ~FLAG_UTF8)) {
      this.note(
        'zip-flag-mismatch',
        e.name,
        e.localHeaderOffset,
        `local flags 0x${flags.toString(16)}, central 0x${e.flags.toString(16)}`,
        true,
      );
    }
    const descriptor = (flags & FLAG_DATA_DESCRIPTOR) !== 0;
    const sizesMasked = csize === 0xffffffff || usize === 0xffffffff;
    if (!descriptor && !sizesMasked && (crc !== e.crc32 || csize !== e.compressedSize || usize !== e.size)) {
      this.note(
        'zip-size-mismatch',
        e.name,
        e.localHeaderOffset,
        'local header CRC or sizes differ from the central directory',
        true,
      );
    }
    return dataStart;
  }

  /**
   * Reads an entry's content as miniz would (no CRC enforcement), up to maxBytes uncompressed.
   * Throws ZipError with miniz's wording for what PyTorch cannot read.
   */
  async read(e: ZipEntry, maxBytes: number): Promise<Uint8Array> {
    if (e.statError) throw new ZipError(e.statError);
    if (e.size > maxBytes)
      throw new ZipError(`entry of ${e.size} bytes is larger than the scan limit of ${maxBytes}`);
    // a directory, or nothing compressed: miniz succeeds without writing (PyTorch sees an uninitialised buffer)
    if (e.isDirectory || e.compressedSize === 0) return new Uint8Array(e.size);
    if (e.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_COMPRESSED_PATCH))
      throw new ZipError('unsupported encryption');
    if (e.method !== METHOD_STORED && e.method !== METHOD_DEFLATED) throw new ZipError('unsupported method');
    const start = await this.dataOffset(e);
    const raw = await readExactly(this.src, start, e.compressedSize);
    let data: Uint8Array;
    if (e.method === METHOD_STORED) data = raw;
    else {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
      } catch {
        throw new ZipError('decompression failed or archive is corrupted');
      }
      if (data.length !== e.size) throw new ZipError('decompression failed or archive is corrupted');
    }
    if (crc32(data) >>> 0 !== e.crc32) {
      this.note(
        'zip-crc-mismatch',
        e.name,
        e.localHeaderOffset,
        `CRC-32 of "${e.name}" does not match; PyTorch does not check it, zipfile refuses it`,
        true,
      );
    }
    return data;
  }
}

/** bytes of the central directory read at a time */
const CD_WINDOW = 1024 * 1024;

/** entry names, appended into one growing buffer (up to a limit) */
class NameBuffer {
  private buf = new Uint8Array(64 * 1024);
  private used = 0;
  constructor(private readonly limit: number) {}
  /** appends a name; returns where it starts */
  add(name: Uint8Array): number {
    const at = this.used;
    if (at + name.length > this.buf.length) {
      if (at + name.length > this.limit)
        throw new ZipError(`the central directory's names exceed the scan limit of ${this.limit} bytes`);
      const next = new Uint8Array(Math.min(this.limit, Math.max(this.buf.length * 2, at + name.length)));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
    }
    this.buf.set(name, at);
    this.used = at + name.length;
    return at;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.used);
  }
}

/** bytes as Latin-1 characters: one character per byte, so distinct names stay distinct */
function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function hasDotDot(b: Uint8Array): boolean {
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 0x2e && b[i + 1] === 0x2e) return true;
  return false;
}

function safeNumber(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** miniz compares names byte for byte: Latin-1 maps each byte to one character, so distinct names stay distinct */
function decodeName(b: Uint8Array, _flags: number): string {
  return latin1(b);
}

/**
 * The data of the ZIP64 extended information field (id 0x0001) in an entry's extra data: null when there is
 * none, 'corrupt' when the fields' framing does not fit (miniz refuses the archive)
 */
function zip64Field(extra: Uint8Array): Uint8Array | null | 'corrupt' {
  const v = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
  let p = 0;
  let remaining = extra.length;
  while (remaining > 0) {
    if (remaining < EXTRA_FIELD_HEADER.size) return 'corrupt';
    const id = u(v, p, X.id);
    const len = u(v, p, X.length);
    const data = p + EXTRA_FIELD_HEADER.size;
    if (len + EXTRA_FIELD_HEADER.size > remaining) return 'corrupt';
    if (id === EXTRA_ZIP64) return extra.subarray(data, data + len);
    p = data + len;
    remaining -= EXTRA_FIELD_HEADER.size + len;
  }
  return null;
}
