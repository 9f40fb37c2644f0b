import { crc32, inflateRawSync } from 'node:zlib';
import { readExactly, type ByteSource } from '../source';

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
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
  readonly centralOffset: number;
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
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;

const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FLAG_UTF8 = 0x0800;
const FLAG_MASKED_LOCAL = 0x2000;
const KNOWN_FLAGS = 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0040 | 0x0800 | 0x2000;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

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
  /** name → first entry in central-directory order (miniz's lookup) */
  private readonly byName = new Map<string, ZipEntry>();
  /** offset of the central directory, and bytes before the first local header */
  centralDirectoryOffset = 0;
  comment = '';
  zip64 = false;

  private constructor(private readonly src: ByteSource) {}

  static async open(src: ByteSource, opts: ZipOpenOptions = {}): Promise<ZipArchive> {
    const z = new ZipArchive(src);
    await z.readCentralDirectory(opts.maxEntries ?? 1_000_000, opts.allowPrefix ?? false);
    return z;
  }

  get source(): ByteSource {
    return this.src;
  }

  find(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** entries sharing a name with an earlier one (ignored by PyTorch, used by zipfile) */
  duplicatesOf(name: string): ZipEntry[] {
    return this.entries.filter((e) => e.name === name);
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

  /** bytes prepended to the archive (non-zero only with allowPrefix) */
  prefixLength = 0;

  private async readCentralDirectory(maxEntries: number, allowPrefix: boolean): Promise<void> {
    const size = this.src.size;
    if (size < EOCD_SIZE) throw new ZipError('failed finding central directory');
    // miniz searches backwards for the end-of-central-directory signature over the last 64 KiB; most archives
    // have no comment, so a small tail is read first and the full window only when the record is not in it
    let tailLen = 0;
    let tailStart = 0;
    let tail: Uint8Array = new Uint8Array(0);
    let tv = new DataView(tail.buffer);
    let eocd = -1;
    for (const want of [Math.min(size, 4096), Math.min(size, EOCD_SIZE + MAX_COMMENT)]) {
      if (want <= tailLen) continue;
      tailLen = want;
      tailStart = size - tailLen;
      tail = await readExactly(this.src, tailStart, tailLen);
      tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
      for (let i = tailLen - EOCD_SIZE; i >= 0; i--) {
        if (tv.getUint32(i, true) === SIG_EOCD) {
          eocd = i;
          break;
        }
      }
      if (eocd >= 0) break;
    }
    if (eocd < 0) throw new ZipError('failed finding central directory');
    const eocdOffset = tailStart + eocd;
    let diskNum = tv.getUint16(eocd + 4, true);
    let cdDisk = tv.getUint16(eocd + 6, true);
    let entriesOnDisk: number = tv.getUint16(eocd + 8, true);
    let totalEntries: number = tv.getUint16(eocd + 10, true);
    let cdSize: number = tv.getUint32(eocd + 12, true);
    let cdOffset: number = tv.getUint32(eocd + 16, true);
    const commentLen = tv.getUint16(eocd + 20, true);
    this.comment = Buffer.from(tail.subarray(eocd + EOCD_SIZE, eocd + EOCD_SIZE + commentLen)).toString(
      'latin1',
    );
    if (eocd + EOCD_SIZE + commentLen !== tailLen) {
      this.note(
        'zip-trailing-data',
        null,
        eocdOffset,
        `${tailLen - eocd - EOCD_SIZE - commentLen} bytes follow the end-of-central-directory record`,
        false,
      );
    }

    // ZIP64: a locator just before the EOCD points at the ZIP64 end record
    if (eocdOffset >= 20) {
      const loc = await readExactly(this.src, eocdOffset - 20, 20);
      const lv = new DataView(loc.buffer, loc.byteOffset, 20);
      if (lv.getUint32(0, true) === SIG_EOCD64_LOCATOR) {
        const e64Offset = Number(lv.getBigUint64(8, true));
        if (e64Offset + 56 > size) throw new ZipError('invalid header or archive is corrupted');
        const e64 = await readExactly(this.src, e64Offset, 56);
        const ev = new DataView(e64.buffer, e64.byteOffset, 56);
        if (ev.getUint32(0, true) !== SIG_EOCD64)
          throw new ZipError('invalid header or archive is corrupted');
        this.zip64 = true;
        diskNum = ev.getUint32(16, true);
        cdDisk = ev.getUint32(20, true);
        entriesOnDisk = safeNumber(ev.getBigUint64(24, true));
        totalEntries = safeNumber(ev.getBigUint64(32, true));
        cdSize = safeNumber(ev.getBigUint64(40, true));
        cdOffset = safeNumber(ev.getBigUint64(48, true));
      }
    }
    if (totalEntries !== entriesOnDisk || diskNum > 1 || cdDisk > 1) {
      throw new ZipError('unsupported multidisk archive');
    }
    if (allowPrefix) {
      const shift = eocdOffset - (this.zip64 ? 76 : 0) - cdSize - cdOffset;
      if (shift > 0) {
        this.prefixLength = shift;
        cdOffset += shift;
      }
    }
    if (cdSize < totalEntries * CENTRAL_SIZE) throw new ZipError('invalid header or archive is corrupted');
    if (cdOffset + cdSize > size) throw new ZipError('invalid header or archive is corrupted');
    if (totalEntries > maxEntries)
      throw new ZipError(`archive has ${totalEntries} entries (limit ${maxEntries})`);
    this.centralDirectoryOffset = cdOffset;

    const cd = await readExactly(this.src, cdOffset, cdSize);
    const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
    let p = 0;
    for (let index = 0; index < totalEntries; index++) {
      if (p + CENTRAL_SIZE > cdSize || cv.getUint32(p, true) !== SIG_CENTRAL) {
        throw new ZipError('invalid header or archive is corrupted');
      }
      const flags = cv.getUint16(p + 8, true);
      const method = cv.getUint16(p + 10, true);
      const crc = cv.getUint32(p + 16, true);
      let compressedSize: number = cv.getUint32(p + 20, true);
      let uncompressed: number = cv.getUint32(p + 24, true);
      const nameLen = cv.getUint16(p + 28, true);
      const extraLen = cv.getUint16(p + 30, true);
      const commentLen2 = cv.getUint16(p + 32, true);
      const disk = cv.getUint16(p + 34, true);
      let localOffset: number = cv.getUint32(p + 42, true);
      const end = p + CENTRAL_SIZE + nameLen + extraLen + commentLen2;
      if (end > cdSize) throw new ZipError('invalid header or archive is corrupted');
      const nameBytes = cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
      const name = decodeName(nameBytes, flags);
      // ZIP64 extended information replaces the fields that hold 0xFFFFFFFF, in this order
      const extra = cd.subarray(p + CENTRAL_SIZE + nameLen, p + CENTRAL_SIZE + nameLen + extraLen);
      const z64 = zip64Extra(extra);
      if (z64) {
        let k = 0;
        if (uncompressed === 0xffffffff && k < z64.length) uncompressed = z64[k++];
        if (compressedSize === 0xffffffff && k < z64.length) compressedSize = z64[k++];
        if (localOffset === 0xffffffff && k < z64.length) localOffset = z64[k++];
      }
      localOffset += this.prefixLength;
      if (flags & FLAG_MASKED_LOCAL) throw new ZipError('unsupported encryption');
      if (
        (method === METHOD_STORED && uncompressed !== compressedSize) ||
        (uncompressed > 0 && compressedSize === 0)
      ) {
        throw new ZipError('invalid header or archive is corrupted');
      }
      if (disk > 1) throw new ZipError('unsupported multidisk archive');
      if (localOffset + LOCAL_SIZE + compressedSize > size) {
        throw new ZipError('invalid header or archive is corrupted');
      }
      const entry: ZipEntry = {
        index,
        name,
        flags,
        method,
        crc32: crc,
        compressedSize,
        size: uncompressed,
        localHeaderOffset: localOffset,
        centralOffset: cdOffset + p,
      };
      this.entries.push(entry);
      if (this.byName.has(name)) {
        this.note(
          'zip-duplicate-name',
          name,
          entry.centralOffset,
          `"${name}" appears more than once; PyTorch uses the first entry, Python's zipfile the last`,
          true,
        );
      } else this.byName.set(name, entry);
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
      p = end;
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

  /** Reads the local header and returns where the entry's data starts, noting header/directory differences. */
  async dataOffset(e: ZipEntry): Promise<number> {
    const head = await this.src.read(e.localHeaderOffset, LOCAL_SIZE);
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
    const nameBytes = await this.src.read(e.localHeaderOffset + LOCAL_SIZE, nameLen);
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
    if (e.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) throw new ZipError('unsupported encryption');
    if (e.method !== METHOD_STORED && e.method !== METHOD_DEFLATED) throw new ZipError('unsupported method');
    if (e.size > maxBytes)
      throw new ZipError(`entry of ${e.size} bytes is larger than the scan limit of ${maxBytes}`);
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

function zip64Extra(extra: Uint8Array): number[] | null {
  const v = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = v.getUint16(p, true);
    const len = v.getUint16(p + 2, true);
    if (id === 0x0001) {
      const out: number[] = [];
      for (let k = 0; k + 8 <= len && p + 4 + k + 8 <= extra.length; k += 8)
        out.push(safeNumber(v.getBigUint64(p + 4 + k, true)));
      return out;
    }
    p += 4 + len;
  }
  return null;
}
