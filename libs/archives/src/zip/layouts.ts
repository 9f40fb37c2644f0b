/**
 * The zip records, declared once as tables of (field, offset, width) — what CPython's zipfile declares as struct
 * formats (structEndArchive "<4s4H2LH", structEndArchive64Locator "<4sLQL", structEndArchive64 "<4sQ2H2L4Q",
 * structCentralDir "<4s4B4HL2L5H2L", structFileHeader "<4s2B4HL2L2H") and APPNOTE.TXT sections 4.3.7–4.3.16
 * describe. Every reader here (miniz's in zip-archive.ts, zipfile's in zipfile.ts) reads fields through these
 * tables, so an offset is written once and the two readers cannot disagree on where a field lies. All fields are
 * little-endian unsigned integers.
 */

export type FieldWidth = 1 | 2 | 4 | 8;

export interface Field {
  readonly offset: number;
  readonly width: FieldWidth;
}

export interface RecordLayout<K extends string> {
  /** the record's name in APPNOTE / zipfile */
  readonly name: string;
  /** the 4-byte signature the record starts with (null: the record has none) */
  readonly signature: number | null;
  /** the fixed part's size in bytes (variable-length data follows it) */
  readonly size: number;
  readonly fields: { readonly [P in K]: Field };
}

/**
 * Builds a layout from its rows, checking that they tile the record from byte 0 without gaps or overlaps (a
 * mistyped offset fails when the module loads, not when an archive is read).
 */
function layout<K extends string>(
  name: string,
  signature: number | null,
  rows: ReadonlyArray<readonly [K, number, FieldWidth]>,
): RecordLayout<K> {
  const fields = {} as { [P in K]: Field };
  let next = 0;
  for (const [field, offset, width] of rows) {
    if (offset !== next) throw new Error(`${name}.${field} is declared at ${offset}, expected ${next}`);
    fields[field] = { offset, width };
    next = offset + width;
  }
  return { name, signature, size: next, fields };
}

/** end of central directory record (structEndArchive, 22 bytes, then the comment) */
export const END_OF_CENTRAL_DIRECTORY = layout('end of central directory record', 0x06054b50, [
  ['signature', 0, 4],
  ['diskNumber', 4, 2],
  ['centralDirectoryDisk', 6, 2],
  ['entriesOnDisk', 8, 2],
  ['totalEntries', 10, 2],
  ['centralDirectorySize', 12, 4],
  ['centralDirectoryOffset', 16, 4],
  ['commentLength', 20, 2],
] as const);

/** zip64 end of central directory locator (structEndArchive64Locator, 20 bytes), just before the end record */
export const ZIP64_LOCATOR = layout('zip64 end of central directory locator', 0x07064b50, [
  ['signature', 0, 4],
  ['zip64RecordDisk', 4, 4],
  ['zip64RecordOffset', 8, 8],
  ['totalDisks', 16, 4],
] as const);

/** zip64 end of central directory record (structEndArchive64, 56 bytes; an extensible data sector may follow) */
export const ZIP64_END_OF_CENTRAL_DIRECTORY = layout('zip64 end of central directory record', 0x06064b50, [
  ['signature', 0, 4],
  /** the size of the rest of the record: the record's size less 12 */
  ['recordSize', 4, 8],
  ['createVersion', 12, 2],
  ['extractVersion', 14, 2],
  ['diskNumber', 16, 4],
  ['centralDirectoryDisk', 20, 4],
  ['entriesOnDisk', 24, 8],
  ['totalEntries', 32, 8],
  ['centralDirectorySize', 40, 8],
  ['centralDirectoryOffset', 48, 8],
] as const);

/** central directory file header (structCentralDir, 46 bytes, then the name, the extra field and the comment) */
export const CENTRAL_DIRECTORY_HEADER = layout('central directory file header', 0x02014b50, [
  ['signature', 0, 4],
  ['createVersion', 4, 1],
  ['createSystem', 5, 1],
  ['extractVersion', 6, 1],
  ['extractSystem', 7, 1],
  ['flags', 8, 2],
  ['method', 10, 2],
  ['modTime', 12, 2],
  ['modDate', 14, 2],
  ['crc32', 16, 4],
  ['compressedSize', 20, 4],
  ['uncompressedSize', 24, 4],
  ['nameLength', 28, 2],
  ['extraLength', 30, 2],
  ['commentLength', 32, 2],
  ['diskNumberStart', 34, 2],
  ['internalAttributes', 36, 2],
  ['externalAttributes', 38, 4],
  ['localHeaderOffset', 42, 4],
] as const);

/** local file header (structFileHeader, 30 bytes, then the name, the extra field and the data) */
export const LOCAL_FILE_HEADER = layout('local file header', 0x04034b50, [
  ['signature', 0, 4],
  ['extractVersion', 4, 1],
  ['extractSystem', 5, 1],
  ['flags', 6, 2],
  ['method', 8, 2],
  ['modTime', 10, 2],
  ['modDate', 12, 2],
  ['crc32', 14, 4],
  ['compressedSize', 18, 4],
  ['uncompressedSize', 22, 4],
  ['nameLength', 26, 2],
  ['extraLength', 28, 2],
] as const);

/** one block of an extra field: a header id and the length of the data that follows (APPNOTE 4.5.1) */
export const EXTRA_FIELD_HEADER = layout('extra field header', null, [
  ['id', 0, 2],
  ['length', 2, 2],
] as const);

/** the Info-ZIP Unicode Path extra field's data (0x7075): a version and the CRC-32 of the raw name, then the UTF-8 name */
export const UNICODE_PATH_FIELD = layout('Info-ZIP Unicode Path extra field', null, [
  ['version', 0, 1],
  ['nameCrc32', 1, 4],
] as const);

/** header id of the ZIP64 extended information extra field: 8-byte values for the fields that hold 0xFFFFFFFF */
export const EXTRA_ZIP64 = 0x0001;
/** header id of the Info-ZIP Unicode Path extra field */
export const EXTRA_UNICODE_PATH = 0x7075;

/** the field of width 1, 2 or 4 at `base` (the record's first byte) in `view` */
export function u(view: DataView, base: number, field: Field): number {
  const at = base + field.offset;
  switch (field.width) {
    case 1:
      return view.getUint8(at);
    case 2:
      return view.getUint16(at, true);
    case 4:
      return view.getUint32(at, true);
    case 8:
      throw new TypeError('an 8-byte field is read with u64()');
  }
}

/** the 8-byte field at `base` in `view`, exactly */
export function u64(view: DataView, base: number, field: Field): bigint {
  if (field.width !== 8) throw new TypeError(`a ${field.width}-byte field is read with u()`);
  return view.getBigUint64(base + field.offset, true);
}

/** whether the record at `base` in `view` starts with its layout's signature */
export function hasSignature(view: DataView, base: number, record: RecordLayout<'signature'>): boolean {
  return record.signature !== null && view.getUint32(base, true) === record.signature;
}

/** the record's signature as the 4 bytes it is written as */
export function signatureBytes(record: RecordLayout<'signature'>): Uint8Array {
  const b = new Uint8Array(4);
  if (record.signature !== null) new DataView(b.buffer).setUint32(0, record.signature, true);
  return b;
}
