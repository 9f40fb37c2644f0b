import {
  memberBytes,
  openMember,
  openZipfile,
  zipfileStart,
  type ZipArchive,
  type ZipfileArchive,
  type ZipfileMember,
} from '@brine/archives';
import type { ByteSource } from '@brine/bytes';
import type { NestedPayload, ScanContext } from '../scan-context';
import type { ZipRecords } from '../torch/judge';
import { streamBudget } from './compressed';
import { scanEntryBytes } from './torch-zip';

/**
 * The archive as CPython's zipfile reads it (numpy.load for .npz, pandas.read_pickle for .zip), set against what
 * miniz (PyTorch) reads. Every member zipfile reads is matched with the miniz entry at the same local header and
 * the same sizes and method: those bytes were scanned already. A member with no such twin is bytes only zipfile
 * reads — a prefixed archive whose offsets zipfile shifts, a central directory miniz does not parse the same way —
 * so it is scanned (as `zipfile:NAME`) and the disagreement is reported as an attack. For names both readers
 * know, a name that resolves to different bytes (zipfile: the last entry of that exact name; miniz: its
 * case-folding binary search) is reported too.
 */
export async function scanZipfileView(
  ctx: ScanContext,
  src: ByteSource,
  zip: ZipArchive | null,
  records: ZipRecords,
  nested: NestedPayload[],
): Promise<void> {
  if (zip && (await agrees(src, zip, ctx.limits.maxEntries))) {
    ctx.details.zipfile = 'reads what miniz reads';
    return;
  }
  if (zip && zip.entryCount > FULL_MODEL_LIMIT) {
    ctx.add({
      severity: 'unknown',
      rule: 'zipfile-not-compared',
      message: `Python's zipfile reads this archive of ${zip.entryCount} entries otherwise than miniz; past ${FULL_MODEL_LIMIT} entries the scan does not work out how`,
    });
    ctx.incomplete = true;
    return;
  }
  const latest = await openZipfile(src, '3.14', ctx.limits.maxEntries);
  // 3.13 lists archives as 3.14 does; 3.11 differs only on ZIP64 records (where the archive starts) and Unicode
  // Path fields: read again only when those make a difference
  let older: ZipfileArchive | null = null;
  if (latest.versionSensitive) {
    const start = await zipfileStart(src, '3.11');
    if (
      latest.error !== null ||
      latest.origNames.size > 0 ||
      start?.concat !== latest.concat ||
      start?.startDir !== latest.startDir
    )
      older = await openZipfile(src, '3.11', ctx.limits.maxEntries);
  }
  const models = older ? [latest, older] : [latest];
  ctx.details.zipfile = Object.fromEntries(
    models.map((z) => [
      z.python === '3.11' ? '3.11' : models.length > 1 ? '3.13+' : '3.11+',
      z.error ?? { members: z.count, names: z.byName.size, concat: z.concat },
    ]),
  );
  const byOffset = new Map<number, number>();
  if (zip) for (let i = 0; i < zip.entryCount; i++) byOffset.set(zip.localHeaderOffsetOf(i), i);
  const done = new Set<string>();
  for (const z of models) {
    const who =
      models.length === 1
        ? "Python's zipfile"
        : z.python === '3.11'
          ? "Python 3.11's zipfile"
          : "Python 3.13's and 3.14's zipfile";
    if (z.error) {
      if (zip)
        ctx.add({
          severity: 'info',
          rule: 'zipfile-refuses',
          message: `${who} cannot open the archive (${z.error}): numpy.load and pandas.read_pickle fail on it`,
        });
      continue;
    }
    for (let k = 0; k < z.count; k++) {
      const i = byOffset.get(z.headerOffset[k]);
      if (
        i !== undefined &&
        zip!.entrySizes(i).compressedSize === z.compressSize[k] &&
        zip!.entrySizes(i).size === z.fileSize[k] &&
        zip!.entrySizes(i).method === z.method[k]
      )
        continue;
      const key = `${z.headerOffset[k]}:${z.compressSize[k]}:${z.fileSize[k]}:${z.method[k]}`;
      if (done.has(key)) continue;
      done.add(key);
      const e = i === undefined ? undefined : zip!.entry(i);
      await scanMember(
        ctx,
        src,
        z,
        z.member(k),
        e
          ? `"${e.name}" there with other sizes or method`
          : zip
            ? 'no entry there'
            : 'nothing (it cannot open the archive)',
        who,
        records,
        nested,
      );
    }
    if (zip) noteNameResolution(ctx, zip, z, byOffset, who);
  }
}

/** archives this large are compared record by record only; a difference past it is not worked out */
const FULL_MODEL_LIMIT = 250_000;

/**
 * The cheap pass: when zipfile (3.11 and 3.13+) finds the central directory where miniz does and each of its
 * records points at miniz's entry of the same index with the same sizes and method, with names that decode to
 * themselves (ASCII, no NUL, no Unicode Path field) and no collision among them, both read the same file.
 */
async function agrees(src: ByteSource, zip: ZipArchive, maxEntries: number): Promise<boolean> {
  if (zip.prefixLength !== 0) return false;
  if (zip.inconsistencies.some((i) => i.rule === 'zip-duplicate-name' || i.rule === 'zip-case-collision'))
    return false;
  for (const python of ['3.14', '3.11'] as const) {
    const start = await zipfileStart(src, python);
    if (!start || start.concat !== 0 || start.startDir !== zip.centralDirectoryOffset) return false;
  }
  let same = true;
  let k = 0;
  const z = await openZipfile(src, '3.14', maxEntries, (m, raw) => {
    if (!same) return;
    const i = k++;
    if (i >= zip.entryCount || zip.localHeaderOffsetOf(i) !== m.headerOffset) same = false;
    else {
      const e = zip.entrySizes(i);
      if (e.compressedSize !== m.compressSize || e.size !== m.fileSize || e.method !== m.method) same = false;
    }
    if (m.filename !== m.origFilename || m.filename.length !== raw.length) same = false;
    else for (const c of raw) if (c >= 0x80 || c === 0) same = false;
  });
  return same && z.error === null && z.count === zip.entryCount;
}

async function scanMember(
  ctx: ScanContext,
  src: ByteSource,
  z: ZipfileArchive,
  m: ZipfileMember,
  miniz: string,
  who: string,
  records: ZipRecords,
  nested: NestedPayload[],
): Promise<void> {
  const opening = await openMember(src, z, m);
  if (opening.error !== null || opening.dataStart === null) {
    ctx.add({
      severity: 'info',
      rule: 'zipfile-member-refused',
      entry: m.filename,
      offset: m.headerOffset,
      message: `${who} lists "${m.filename}" at offset ${m.headerOffset} but will not read it (${opening.error})`,
    });
    return;
  }
  const entry = `zipfile:${m.filename}`;
  ctx.add({
    severity: 'dangerous',
    rule: 'zip-reader-differential',
    entry,
    offset: m.headerOffset,
    message:
      `${who} (numpy.load, pandas.read_pickle) reads "${m.filename}" from the local header at ${m.headerOffset}` +
      `${z.concat !== 0 ? ` (the stated offset plus ${z.concat}: it takes the archive to start after other data)` : ''}, ` +
      `${m.compressSize} bytes of method ${m.method}; PyTorch's miniz reads ${miniz}. The two readers see different files`,
  });
  const bytes = await memberBytes(
    src,
    m,
    opening.dataStart,
    streamBudget(ctx.limits),
    ctx.limits.maxLzmaWindow,
  );
  if (bytes.error) {
    ctx.add({
      severity: 'unknown',
      rule: 'entry-unreadable',
      entry,
      message: `${who} reads "${m.filename}" only in part: ${bytes.error}`,
    });
    ctx.incomplete = true;
  }
  await scanEntryBytes(
    ctx,
    bytes.source,
    { name: entry, size: m.fileSize, compressed: m.method !== 0, offset: m.headerOffset },
    records,
    nested,
  );
}

/**
 * For each name zipfile knows: does the entry it picks (the last of that exact name, after decoding and the
 * Unicode Path field) hold the same bytes as the entry miniz picks for that name (its case-folding search)?
 */
function noteNameResolution(
  ctx: ScanContext,
  zip: ZipArchive,
  z: ZipfileArchive,
  byOffset: Map<number, number>,
  who: string,
): void {
  for (const [name, k] of z.byName) {
    const mine = byOffset.get(z.headerOffset[k]);
    const candidates = [
      mine === undefined ? undefined : zip.locate(zip.entryName(mine)),
      zip.locate(Buffer.from(name, 'utf8').toString('latin1')),
    ];
    for (const picked of candidates) {
      if (!picked || picked.localHeaderOffset === z.headerOffset[k]) continue;
      if (picked.crc32 === z.crc[k] && picked.size === z.fileSize[k] && picked.method === z.method[k])
        continue;
      ctx.add({
        severity: 'dangerous',
        rule: 'zip-name-differential',
        entry: name,
        offset: z.headerOffset[k],
        message: `for "${name}", ${who} (numpy.load, pandas.read_pickle) reads the entry at ${z.headerOffset[k]}${mine === undefined ? '' : ` (#${mine})`}; PyTorch's miniz reads #${picked.index} ("${picked.name}"): different bytes`,
      });
      break;
    }
  }
}
