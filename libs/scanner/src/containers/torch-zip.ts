import { PyGlobal, PyInstance, PyTensor, type PyValue } from '@brine/pickle';
import { isNpy, readNpyHeader } from '../formats/numpy';
import { walkPickle } from '../pickle-scan';
import type { Format, Kind, Severity } from '../report';
import type { NestedPayload, ScanContext } from '../scan-context';
import { MemorySource, SliceSource, SourceReadError, type ByteSource } from '../source';
import { opening, runtime, type Failure } from '../torch/messages';
import { METHOD_STORED, ZipArchive, ZipError, type ZipEntry } from '../zip/zip-archive';

/**
 * torch.load's zip branch, replayed: PyTorchStreamReader's checks (central directory, archive prefix, version
 * record), the TorchScript test, `byteorder` and `.storage_alignment`, then `data.pkl` through the weights-only
 * unpickler with `data/<key>` records as storages. Independently of what torch reads, every pickle in the archive
 * (including duplicates and entries torch ignores) is scanned, and nested archives are queued for scanning.
 */

export interface ZipOutcome {
  format: Format;
  kind: Kind | null;
  root: PyValue | undefined;
  zip: ZipArchive | null;
}

const DIFFERENTIAL_SEVERITY: Readonly<Record<string, Severity>> = {
  'zip-name-mismatch': 'dangerous',
  'zip-duplicate-name': 'suspicious',
  'zip-crc-mismatch': 'suspicious',
  'zip-method-mismatch': 'suspicious',
  'zip-flag-mismatch': 'suspicious',
  'zip-size-mismatch': 'suspicious',
  'zip-encrypted': 'suspicious',
  'zip-odd-flags': 'suspicious',
  'zip-unsupported-method': 'suspicious',
  'zip-path-traversal': 'dangerous',
  'zip-leading-data': 'suspicious',
};

const RESERVED = new Set([
  'version',
  '.data/version',
  'byteorder',
  '.format_version',
  '.storage_alignment',
  '.data/serialization_id',
]);

function readerFailure(what: string, e: unknown, beforeLoad = false): Failure {
  const msg = e instanceof ZipError ? e.minizMessage : (e as Error).message;
  return { ...runtime('RuntimeError', `PytorchStreamReader failed ${what}: ${msg}`), beforeLoad };
}

/** std::stoull as PyTorch uses it on the version record */
function parseVersion(text: string): number | null {
  const m = /^\s*\+?(\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}

/** Python's int() on bytes */
function pythonInt(text: string): number | null {
  const t = text.trim();
  return /^[+-]?\d+(_\d+)*$/.test(t) ? Number(t.replace(/_/g, '')) : null;
}

export async function scanZip(
  ctx: ScanContext,
  src: ByteSource,
  nested: NestedPayload[],
  allowPrefix = false,
): Promise<ZipOutcome> {
  const judge = ctx.judge;
  let zip: ZipArchive;
  try {
    zip = await ZipArchive.open(src, { maxEntries: ctx.limits.maxEntries, allowPrefix });
  } catch (e) {
    if (e instanceof SourceReadError) throw e;
    judge.failAll(readerFailure('reading zip archive', e, true));
    ctx.incomplete = true;
    ctx.add({
      severity: 'unknown',
      rule: 'zip-unreadable',
      message: `the zip archive cannot be read: ${(e as Error).message}`,
    });
    return { format: 'unknown', kind: 'unknown', root: undefined, zip: null };
  }
  ctx.details.zip = { entries: zip.entries.length, zip64: zip.zip64, comment: zip.comment || undefined };

  // ---- PyTorchStreamReader (identical in 1.13, 2.6, 2.14) ----
  let prefix: string | null = null;
  if (zip.entries.length === 0) judge.failAll(opening('archive does not contain any files'));
  else {
    const first = zip.entries[0].name;
    const slash = first.indexOf('/');
    if (slash < 0) judge.failAll(opening(`file in archive is not in a subdirectory: ${first}`));
    else prefix = first.slice(0, slash + 1);
  }
  const rel = (e: ZipEntry): string | null =>
    prefix !== null && e.name.startsWith(prefix) ? e.name.slice(prefix.length) : null;
  const record = (name: string): ZipEntry | undefined =>
    prefix === null ? undefined : zip.find(prefix + name);
  const readSmall = async (e: ZipEntry): Promise<string> =>
    Buffer.from(await zip.read(e, 4096)).toString('latin1');

  if (prefix !== null) {
    const versionEntry = record('.data/version') ?? record('version');
    if (!versionEntry) {
      judge.failAll(
        opening(
          'Expected hasRecord("version") to be true, but got false.  (Could this error message be improved?  If so, please report an enhancement request to PyTorch.)',
        ),
      );
    } else {
      try {
        const text = await readSmall(versionEntry);
        const v = parseVersion(text);
        if (v === null) judge.failAll(opening(`Couldn't parse the version ${text} as Long Long.`));
        else if (v < 1) {
          judge.failAll(
            opening(
              `Attempted to read a PyTorch file with version ${v}, but the minimum supported version for reading is 1. Your PyTorch script module file is too old. Please regenerate it with latest version of PyTorch to mitigate this issue.`,
            ),
          );
        } else if (v > 10) {
          judge.failAll(
            opening(
              `Attempted to read a PyTorch file with version ${v}, but the maximum supported version for reading is 10. The version of your PyTorch installation may be too old, please upgrade PyTorch to latest version to mitigate this issue.`,
            ),
          );
        }
        ctx.details.torchZipVersion = v;
      } catch (e) {
        if (e instanceof SourceReadError) throw e;
        judge.failAll(readerFailure(`reading file ${versionEntry.name.slice(prefix.length)}`, e, true));
      }
    }
    // get_all_records: every entry must live under the prefix
    const stray = zip.entries.find((e) => !e.name.startsWith(prefix as string));
    if (stray) judge.failAll(opening(`file in archive is not in a subdirectory ${prefix}: ${stray.name}`));
  }

  // ---- what kind of archive ----
  const names = new Set(zip.entries.map((e) => rel(e)).filter((n): n is string => n !== null));
  const allNames = zip.entries.map((e) => e.name);
  const torchscript = names.has('constants.pkl');
  let format: Format = 'unknown';
  let kind: Kind | null = null;
  if (torchscript) {
    format = 'torchscript';
    kind = 'torchscript';
  } else if (names.has('.data/extern_modules')) format = 'torch-package';
  else if (
    allNames.includes('serialized_exported_program.json') ||
    names.has('archive_format') ||
    [...names].some((n) => /^models\/[^/]+\.json$/.test(n))
  ) {
    format = 'torch-export';
    kind = 'full_model';
  } else if (names.has('data.pkl')) format = 'torch-zip';
  else if (
    zip.entries.length > 0 &&
    zip.entries.every((e) => e.name.endsWith('.npy') || e.name.endsWith('/'))
  ) {
    format = 'numpy';
    kind = 'state_dict';
  }

  if (torchscript) {
    judge.failAll((p) =>
      p.refusesTorchScript
        ? opening(
            'Cannot use ``weights_only=True`` with TorchScript archives passed to ``torch.load``. In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` from `False` to `True`. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, but it can result in arbitrary code execution. Do it only if you got the file from a trusted source.',
          )
        : null,
    );
  }
  if (judge.anyAlive && !torchscript) {
    const byteorder = record('byteorder');
    if (byteorder) {
      try {
        const text = await readSmall(byteorder);
        if (text !== 'little' && text !== 'big') {
          judge.failAll((p) =>
            p.validatesByteorder ? runtime('ValueError', `Unknown endianness type: ${text}`) : null,
          );
        }
        if (text === 'big')
          ctx.add({
            severity: 'info',
            rule: 'big-endian',
            entry: byteorder.name,
            message: 'storages are big-endian; torch byte-swaps them on load',
          });
      } catch (e) {
        if (e instanceof SourceReadError) throw e;
        judge.failAll(readerFailure('reading file byteorder', e));
      }
    }
    const alignment = record('.storage_alignment');
    if (alignment) {
      try {
        const text = await readSmall(alignment);
        if (pythonInt(text) === null) {
          judge.failAll((p) =>
            p.parsesStorageAlignment
              ? runtime('ValueError', `invalid literal for int() with base 10: b'${text}'`)
              : null,
          );
        }
      } catch (e) {
        if (e instanceof SourceReadError) throw e;
        judge.failAll(readerFailure('reading file .storage_alignment', e));
      }
    }
  }

  // ---- data.pkl through the weights-only unpickler ----
  const records = new Map<string, number>();
  for (const e of zip.entries) {
    const r = rel(e);
    if (r !== null && !records.has(r)) records.set(r, e.size);
  }
  const dataPkl = record('data.pkl');
  if (!dataPkl)
    judge.failAll(
      runtime('RuntimeError', 'PytorchStreamReader failed locating file data.pkl: file not found'),
    );
  let root: PyValue | undefined;
  const scanned = new Set<ZipEntry>();
  if (dataPkl) {
    scanned.add(dataPkl);
    const judged = judge.anyAlive;
    const r = await walkEntry(ctx, zip, dataPkl, judged && !torchscript ? 'judged' : 'plain', records);
    if (r.readError) judge.failAll(readerFailure(`reading file data.pkl`, r.readError));
    root = r.value;
    if (torchscript) settleJitLoad(ctx, r.value, r.complete);
  }

  // ---- every other pickle in the archive, whatever torch does with it ----
  const storagePrefix = prefix ? `${prefix}data/` : 'data/';
  for (const e of zip.entries) {
    if (scanned.has(e) || e.name.endsWith('/')) continue;
    const r = rel(e) ?? e.name;
    const isStorage =
      e.name.startsWith(storagePrefix) ||
      (prefix !== null && e.name.startsWith(`${prefix}constants/`)) ||
      /^\.data\/\d+\.storage$/.test(r);
    if (isStorage || RESERVED.has(r)) continue;
    scanned.add(e);
    await scanOtherEntry(ctx, zip, e, records, nested);
  }
  // inconsistencies are found while reading entries, so they are reported last
  for (const inc of zip.inconsistencies) {
    ctx.add({
      severity: inc.differential ? (DIFFERENTIAL_SEVERITY[inc.rule] ?? 'suspicious') : 'info',
      rule: inc.rule,
      entry: inc.entry,
      offset: inc.offset,
      message: inc.message,
    });
  }
  if (kind === null && format === 'torch-package') kind = 'pickle';
  return { format, kind, root, zip };
}

/** TorchScript under 1.13: torch.load hands the file to torch.jit.load, which needs a scripted module object */
function settleJitLoad(ctx: ScanContext, value: PyValue | undefined, complete: boolean): void {
  if (!complete) return;
  const isObject =
    value instanceof PyInstance &&
    value.callee instanceof PyGlobal &&
    value.callee.module.startsWith('__torch__');
  const got = value instanceof PyTensor ? 'Tensor' : value instanceof PyInstance ? 'Object' : 'GenericDict';
  ctx.judge.settle(
    '1.13',
    isObject
      ? null
      : opening(
          `isObject() INTERNAL ASSERT FAILED at "./aten/src/ATen/core/ivalue_inl.h":120, please report a bug to PyTorch. Expected Object but got ${got}`,
        ),
    true,
  );
}

interface EntryWalk {
  value: PyValue | undefined;
  complete: boolean;
  readError: unknown;
}

async function entrySource(ctx: ScanContext, zip: ZipArchive, e: ZipEntry): Promise<ByteSource> {
  // stored entries too large to hold are streamed from the archive; the rest are read (and CRC-checked) whole
  if (e.method === METHOD_STORED && e.size > 64 * 1024 * 1024) {
    const start = await zip.dataOffset(e);
    return new SliceSource(zip.source, start, e.size);
  }
  return new MemorySource(await zip.read(e, ctx.limits.maxInflatedBytes));
}

async function walkEntry(
  ctx: ScanContext,
  zip: ZipArchive,
  e: ZipEntry,
  mode: 'judged' | 'plain',
  records: Map<string, number>,
): Promise<EntryWalk> {
  let source: ByteSource;
  try {
    source = await entrySource(ctx, zip, e);
  } catch (err) {
    if (err instanceof SourceReadError) throw err;
    ctx.incomplete = true;
    ctx.add({
      severity: 'unknown',
      rule: 'entry-unreadable',
      entry: e.name,
      message: `cannot read "${e.name}": ${(err as Error).message}`,
    });
    ctx.entries.push({
      name: e.name,
      role: 'pickle',
      size: e.size,
      compressed: e.method !== METHOD_STORED,
      scanned: false,
    });
    return { value: undefined, complete: false, readError: err };
  }
  const r = await walkPickle(ctx, source, {
    entry: e.name,
    judge: mode === 'judged' ? ctx.judge : null,
    loader: { kind: 'zip', records },
    start: 0,
  });
  ctx.entries.push({
    name: e.name,
    role: 'pickle',
    size: e.size,
    compressed: e.method !== METHOD_STORED,
    scanned: true,
    protocol: r.protocol,
    opcodes: r.opcodes,
    complete: !r.failure,
  });
  return { value: r.value, complete: !r.failure, readError: null };
}

async function scanOtherEntry(
  ctx: ScanContext,
  zip: ZipArchive,
  e: ZipEntry,
  records: Map<string, number>,
  nested: NestedPayload[],
): Promise<void> {
  if (e.size === 0) return;
  let head: Uint8Array;
  try {
    if (e.method === METHOD_STORED)
      head = await zip.source.read(await zip.dataOffset(e), Math.min(8, e.size));
    else head = (await zip.read(e, ctx.limits.maxInflatedBytes)).subarray(0, 8);
  } catch (err) {
    if (err instanceof SourceReadError) throw err;
    ctx.add({
      severity: 'unknown',
      rule: 'entry-unreadable',
      entry: e.name,
      message: `cannot read "${e.name}": ${(err as Error).message}`,
    });
    ctx.incomplete = true;
    return;
  }
  const pickleLike = (head[0] === 0x80 && head[1] <= 5) || /\.(pkl|pickle|debug_pkl)$/.test(e.name);
  if (pickleLike) {
    await walkEntry(ctx, zip, e, 'plain', records);
    return;
  }
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    if (ctx.depth + 1 > ctx.limits.maxDepth) {
      ctx.add({
        severity: 'unknown',
        rule: 'nesting-limit',
        entry: e.name,
        message: `nested archive "${e.name}" is deeper than the scan limit`,
      });
      ctx.incomplete = true;
      return;
    }
    nested.push({
      entry: e.name,
      source: await entrySource(ctx, zip, e),
      loader: 'archive',
      offset: e.localHeaderOffset,
    });
    ctx.entries.push({ name: e.name, role: 'nested-archive', size: e.size, scanned: true });
    return;
  }
  if (isNpy(head)) {
    const src = await entrySource(ctx, zip, e);
    const h = await readNpyHeader(src);
    if (typeof h !== 'string' && h.objects) {
      const r = await walkPickle(ctx, src, {
        entry: e.name,
        judge: null,
        loader: { kind: 'none' },
        start: h.dataOffset,
      });
      ctx.add({
        severity: 'suspicious',
        rule: 'numpy-object-array',
        entry: e.name,
        message: `"${e.name}" is an object array: numpy stores it as a pickle`,
      });
      ctx.entries.push({
        name: e.name,
        role: 'numpy-object-array',
        size: e.size,
        scanned: true,
        protocol: r.protocol,
        opcodes: r.opcodes,
        complete: !r.failure,
      });
    } else
      ctx.entries.push({ name: e.name, role: 'numpy-array', size: e.size, scanned: typeof h !== 'string' });
    return;
  }
  ctx.entries.push({ name: e.name, role: 'file', size: e.size, scanned: false });
}
