import { crc32, inflateRawSync } from 'node:zlib';
import { readExactly, type ByteSource } from '../source';
import { foldedKey, MinizIndex } from './miniz-index';

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

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const EOCD64_SIZE = 56;
const EOCD64_LOCATOR_SIZE = 20;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
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
  /**
   * read archives preceded by other data the way Python's zipfile does (offsets shifted by the prefix length);
   * miniz, and so PyTorch, does not — use only to find what zip-based tools would see
   */
  allowPrefix?: boolean;
}

export class ZipArchive {
  readonly entries: ZipEntry[] = [];
  readonly inconsistencies: ZipInconsistency[] = [];
  /** offset of the central directory, and bytes before the first local header */
  centralDirectoryOffset = 0;
  comment = '';
  zip64 = false;
  /** miniz's sorted index, built once the central directory is read */
  private index: MinizIndex | null = null;

  private constructor(private readonly src: ByteSource) {}

  static async open(src: ByteSource, opts: ZipOpenOptions = {}): Promise<ZipArchive> {
    const z = new ZipArchive(src);
    await z.readCentralDirectory(opts.maxEntries ?? 1_000_000, opts.allowPrefix ?? false);
    z.index = new MinizIndex(z.entries.map((e) => e.nameBytes));
    z.noteCaseCollisions();
    return z;
  }

  get source(): ByteSource {
    return this.src;
  }

  /** the entry PyTorch reads for `name`: miniz's case-folding binary search (mz_zip_reader_locate_file, flags 0) */
  locate(name: string): ZipEntry | undefined {
    if (this.index === null) return undefined;
    const i = this.index.locate(Buffer.from(name, 'latin1'));
    return i < 0 ? undefined : this.entries[i];
  }

  /** entries whose names fold (ASCII case) to the same name as `e`'s, `e` included */
  sameFoldedName(e: ZipEntry): ZipEntry[] {
    const key = foldedKey(e.nameBytes);
    return this.entries.filter(
      (x) => x.nameBytes.length === e.nameBytes.length && foldedKey(x.nameBytes) === key,
    );
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

  /** two names that fold to one: which entry a reader gets depends on the reader (and, for miniz, on the layout) */
  private noteCaseCollisions(): void {
    const groups = new Map<string, ZipEntry[]>();
    for (const e of this.entries) {
      const k = foldedKey(e.nameBytes);
      const g = groups.get(k);
      if (g) g.push(e);
      else groups.set(k, [e]);
    }
    for (const g of groups.values()) {
      if (g.length < 2) continue;
      const picked = this.locate(g[0].name);
      const names = g.map((e) => `"${e.name}" (#${e.index})`).join(', ');
      this.note(
        g.every((e) => e.name === g[0].name) ? 'zip-duplicate-name' : 'zip-case-collision',
        g[0].name,
        g[1].centralOffset,
        `${g.length} entries share the name ${names} once letters are folded to lower case; PyTorch (miniz) reads ` +
          `#${picked?.index ?? '?'}, Python's zipfile the last exact match, other tools the first`,
        true,
      );
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
        if (v.getUint32(i, true) === SIG_EOCD && size - (cur + i) >= EOCD_SIZE) return cur + i;
      }
      if (cur === 0 || size - cur >= U16_MAX + EOCD_SIZE) return -1;
      cur = Math.max(cur - (chunk - 3), 0);
    }
  }

  /** mz_zip_reader_read_central_dir, check for check (miniz 3.0.2 as built into PyTorch 2.x; 2.1.0 agrees) */
  private async readCentralDirectory(maxEntries: number, allowPrefix: boolean): Promise<void> {
    const size = this.src.size;
    if (size < EOCD_SIZE) throw new ZipError(NOT_AN_ARCHIVE);
    const eocdOffset = await this.findEndRecord(size);
    if (eocdOffset < 0) throw new ZipError(NO_CENTRAL_DIR);
    const eocd = await readExactly(this.src, eocdOffset, EOCD_SIZE);
    const ev = new DataView(eocd.buffer, eocd.byteOffset, EOCD_SIZE);
    const commentLen = ev.getUint16(20, true);
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
      if (lv.getUint32(0, true) === SIG_EOCD64_LOCATOR) {
        const e64Offset = lv.getBigUint64(8, true);
        if (e64Offset > BigInt(size - EOCD64_SIZE)) throw new ZipError(NOT_AN_ARCHIVE);
        const rec = await readExactly(this.src, Number(e64Offset), EOCD64_SIZE);
        const rv = new DataView(rec.buffer, rec.byteOffset, EOCD64_SIZE);
        if (rv.getUint32(0, true) === SIG_EOCD64) {
          locator = lv;
          e64 = rv;
          this.zip64 = true;
        }
      }
    }
    let totalEntries: number = ev.getUint16(10, true);
    let entriesOnDisk: number = ev.getUint16(8, true);
    let diskNum: number = ev.getUint16(4, true);
    let cdDisk: number = ev.getUint16(6, true);
    let cdSize: number = ev.getUint32(12, true);
    let cdOffset: number = ev.getUint32(16, true);
    if (e64 && locator) {
      if (e64.getBigUint64(4, true) < BigInt(EOCD64_SIZE - 12)) throw new ZipError(CORRUPTED);
      if (locator.getUint32(16, true) !== 1) throw new ZipError(MULTIDISK);
      const total = e64.getBigUint64(32, true);
      const onDisk = e64.getBigUint64(24, true);
      const dirSize = e64.getBigUint64(40, true);
      if (total > BigInt(U32_MAX) || onDisk > BigInt(U32_MAX)) throw new ZipError('too many files');
      if (dirSize > BigInt(U32_MAX)) throw new ZipError('unsupported central directory size');
      totalEntries = Number(total);
      entriesOnDisk = Number(onDisk);
      cdSize = Number(dirSize);
      diskNum = e64.getUint32(16, true);
      cdDisk = e64.getUint32(20, true);
      cdOffset = safeNumber(e64.getBigUint64(48, true));
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

    const cd = await readExactly(this.src, cdOffset, cdSize);
    const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    let p = 0;
    for (let index = 0; index < totalEntries; index++) {
      const n = cdSize - p;
      if (n < CENTRAL_SIZE || cv.getUint32(p, true) !== SIG_CENTRAL) throw new ZipError(CORRUPTED);
      const flags = cv.getUint16(p + 8, true);
      const method = cv.getUint16(p + 10, true);
      const crc = cv.getUint32(p + 16, true);
      let compressedSize: number = cv.getUint32(p + 20, true);
      let uncompressed: number = cv.getUint32(p + 24, true);
      let localOffset: number = cv.getUint32(p + 42, true);
      const nameLen = cv.getUint16(p + 28, true);
      const extraLen = cv.getUint16(p + 30, true);
      const commentLen2 = cv.getUint16(p + 32, true);
      const disk = cv.getUint16(p + 34, true);
      const external = cv.getUint32(p + 38, true);
      let statError: string | null = null;
      if (extraLen > 0 && Math.max(compressedSize, uncompressed, localOffset) === U32_MAX) {
        // the ZIP64 extended information field replaces the fields that hold 0xFFFFFFFF, in this order
        const extraStart = CENTRAL_SIZE + nameLen;
        if (p + extraStart + extraLen > cdSize) throw new ZipError(CORRUPTED);
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
              statError = CORRUPTED;
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
      const nameBytes = cd.slice(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
      const name = Buffer.from(nameBytes).toString('latin1');
      const entry: ZipEntry = {
        index,
        name,
        nameBytes,
        flags,
        method,
        crc32: crc,
        compressedSize,
        size: uncompressed,
        localHeaderOffset: localOffset,
        centralOffset: cdOffset + p,
        externalAttributes: external,
        isDirectory: name.endsWith('/') || (external & DOS_DIRECTORY) !== 0,
        statError,
      };
      this.entries.push(entry);
      if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) {
        this.note('zip-encrypted', name, entry.centralOffset, `"${name}" is flagged as encrypted`, true);
      }
      if (flags & ~KNOWN_FLAGS) {
        this.note(
          'zip-odd-flags',
          name,
          entry.centralOffset,
          `"${name}" has unusual general-purpose flags 0x${flags.toString(16)}`,
          true,
        );
      }
      if (method !== METHOD_STORED && method !== METHOD_DEFLATED) {
        this.note(
          'zip-unsupported-method',
          name,
          entry.centralOffset,
          `"${name}" uses compression method ${method}, which PyTorch cannot read`,
          true,
        );
      }
      if (/(^|\/)\.\.(\/|$)/.test(name) || name.startsWith('/')) {
        this.note(
          'zip-path-traversal',
          name,
          entry.centralOffset,
          `"${name}" escapes the extraction folder`,
          true,
        );
      }
      if (name.includes('\0')) {
        this.note(
          'zip-nul-in-name',
          name,
          entry.centralOffset,
          `"${name.replace(/\0/g, '\\0')}" holds a NUL byte: C string readers see "${name.slice(0, name.indexOf('\0'))}"`,
          true,
        );
      }
      p += total;
    }
    if (p !== cdSize) {
      this.note(
        'zip-central-directory-slack',
        null,
        cdOffset + p,
        `${cdSize - p} unexplained bytes in the central directory`,
        false,
      );
    }
    const first = this.entries.reduce(
      (min, e) => Math.min(min, e.localHeaderOffset),
      Number.POSITIVE_INFINITY,
    );
    if (Number.isFinite(first) && first > 0 && this.prefixLength === 0) {
      this.note('zip-leading-data', null, 0, `${first} bytes precede the first local header`, true);
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
    if (hv.getUint32(0, true) !== SIG_LOCAL) throw new ZipError('invalid header or archive is corrupted');
    const flags = hv.getUint16(6, true);
    const method = hv.getUint16(8, true);
    const crc = hv.getUint32(14, true);
    const csize = hv.getUint32(18, true);
    const usize = hv.getUint32(22, true);
    const nameLen = hv.getUint16(26, true);
    const extraLen = hv.getUint16(28, true);
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

function safeNumber(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** miniz compares names byte for byte: Latin-1 maps each byte to one character, so distinct names stay distinct */
function decodeName(b: Uint8Array, _flags: number): string {
  return Buffer.from(b).toString('latin1');
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
    if (remaining < 4) return 'corrupt';
    const id = v.getUint16(p, true);
    const len = v.getUint16(p + 2, true);
    if (len + 4 > remaining) return 'corrupt';
    if (id === 0x0001) return extra.subarray(p + 4, p + 4 + len);
    p += 4 + len;
    remaining -= 4 + len;
  }
  return null;
}
