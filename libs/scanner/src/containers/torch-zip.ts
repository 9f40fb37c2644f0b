import { METHOD_STORED, ZipArchive, ZipError, type ZipEntry } from '@brine/archives';
import { MemorySource, SliceSource, SourceReadError, type ByteSource } from '@brine/bytes';
import { PyGlobal, PyInstance, PyTensor, type PyValue } from '@brine/pickle/values';
import { isNpy, readNpyHeader } from '../formats/numpy';
import { analyseTorchScript } from '../formats/torchscript-code';
import { walkPickle, walkTentatively } from '../pickle-scan';
import type { Format, Kind, Severity } from '../report';
import type { NestedPayload, ScanContext } from '../scan-context';
import type { ZipRecords } from '../torch/judge';
import { opening, runtime, type Failure } from '../torch/messages';
import { scanZipfileView } from './zipfile-view';

/**
 * torch.load's zip branch, replayed: PyTorchStreamReader's checks (central directory, archive prefix, version
 * record), the TorchScript test, `byteorder` and `.storage_alignment`, then `data.pkl` through the weights-only
 * unpickler with `data/<key>` records as storages. Every record torch reads is found the way torch finds it —
 * miniz's case-folding binary search (@brine/archives, zip/miniz-index.ts) — so the scan reads the very bytes torch reads.
 * Independently of what torch reads, every entry of the archive is walked as a pickle (whatever its name, case or
 * first byte) except the storages torch reads as raw data, and nested archives are queued for scanning.
 */

export interface ZipOutcome {
  format: Format;
  kind: Kind | null;
  root: PyValue | undefined;
  zip: ZipArchive | null;
  /** the folder every record sits in (`archive/`), when there is one */
  prefix: string | null;
}

const DIFFERENTIAL_SEVERITY: Readonly<Record<string, Severity>> = {
  'zip-name-mismatch': 'dangerous',
  'zip-duplicate-name': 'dangerous',
  'zip-case-collision': 'dangerous',
  'zip-nul-in-name': 'dangerous',
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

/** records for an archive torch cannot open: no storage is read from it */
const NO_RECORDS: ZipRecords = { storageRecord: (key) => key, lookup: () => undefined };

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

/** an entry's name as C code sees it (mz_zip_reader_get_filename into a char buffer: up to the first NUL) */
function cName(e: ZipEntry): string {
  const nul = e.name.indexOf('\0');
  return nul < 0 ? e.name : e.name.slice(0, nul);
}

/**
 * The archive as PyTorchStreamReader sees it: the folder named by the first entry, and every record looked up
 * through miniz. Records torch reads are remembered, so the rest of the archive can be scanned apart from them.
 */
class TorchArchive {
  /** `archive/`, from the first central-directory entry; null when there is none */
  readonly prefix: string | null;
  /** entries torch reads as raw storage bytes (never unpickled), by central-directory index */
  readonly storageEntries = new Set<number>();
  /** entries torch reads (records it looked up and found), by index */
  readonly readByTorch = new Set<number>();

  constructor(
    readonly ctx: ScanContext,
    readonly zip: ZipArchive,
  ) {
    const first = zip.entryCount > 0 ? zip.entryName(0) : undefined;
    const slash = first === undefined ? -1 : first.indexOf('/');
    this.prefix = slash < 0 ? null : (first as string).slice(0, slash + 1);
  }

  /** mz_zip_reader_locate_file(prefix + name): the entry torch gets for a record name */
  locate(name: string): ZipEntry | undefined {
    if (this.prefix === null) return undefined;
    const e = this.zip.locate(this.prefix + name);
    if (e) {
      this.readByTorch.add(e.index);
      if (e.isDirectory && e.size > 0) {
        this.ctx.add({
          severity: 'dangerous',
          rule: 'zip-directory-record',
          entry: e.name,
          offset: e.centralOffset,
          message: `torch reads the record "${name}" from "${e.name}", which miniz treats as a directory: it extracts no bytes and torch reads ${e.size} bytes of uninitialised memory instead, while other readers extract the entry's data`,
        });
        this.ctx.judge.markUncertain();
      }
    }
    return e;
  }

  /** the records a persistent_load reads storages from (`data/<key>`, or `constants/<key>` for TorchScript) */
  records(folder: string): ZipRecords {
    return {
      storageRecord: (key) => `${folder}${key}`,
      lookup: (record) => {
        const e = this.locate(record);
        if (!e) return undefined;
        this.storageEntries.add(e.index);
        return { size: e.size, entry: e.name };
      },
    };
  }

  /**
   * get_all_records(): relative names (C strings), `.debug_pkl` hidden, up to the first entry outside the prefix
   * (`stray`). Only what classifies the archive is kept of them, not the list.
   */
  listing(): { has: (rel: string) => boolean; exportModel: boolean; stray: ZipEntry | null } {
    const wanted = new Set(['constants.pkl', '.data/extern_modules', 'archive_format', 'data.pkl']);
    const found = new Set<string>();
    let exportModel = false;
    let stray: ZipEntry | null = null;
    const prefix = this.prefix ?? '';
    for (let i = 0; i < this.zip.entryCount; i++) {
      const full = this.zip.entryName(i);
      const nul = full.indexOf('\0');
      const n = nul < 0 ? full : full.slice(0, nul);
      if (!n.startsWith(prefix)) {
        stray = this.zip.entry(i);
        break;
      }
      const rel = n.slice(prefix.length);
      if (rel.endsWith('.debug_pkl')) continue;
      if (wanted.has(rel)) found.add(rel);
      if (!exportModel && /^models\/[^/]+\.json$/.test(rel)) exportModel = true;
    }
    return { has: (rel) => found.has(rel), exportModel, stray };
  }

  async readText(e: ZipEntry): Promise<string> {
    return Buffer.from(await this.zip.read(e, 4096)).toString('latin1');
  }
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
    // what Python's zipfile (numpy, pandas) reads of it all the same
    if (!allowPrefix) await scanZipfileView(ctx, src, null, NO_RECORDS, nested);
    return { format: 'unknown', kind: 'unknown', root: undefined, zip: null, prefix: null };
  }
  ctx.details.zip = { entries: zip.entryCount, zip64: zip.zip64, comment: zip.comment || undefined };
  const archive = new TorchArchive(ctx, zip);
  const prefix = archive.prefix;

  // ---- PyTorchStreamReader (identical in 1.13, 2.6, 2.14) ----
  if (zip.entryCount === 0) judge.failAll(opening('archive does not contain any files'));
  else if (prefix === null)
    judge.failAll(opening(`file in archive is not in a subdirectory: ${zip.entryName(0)}`));

  if (prefix !== null) {
    const versionEntry = archive.locate('.data/version') ?? archive.locate('version');
    if (!versionEntry) {
      judge.failAll(
        opening(
          'Expected hasRecord("version") to be true, but got false.  (Could this error message be improved?  If so, please report an enhancement request to PyTorch.)',
        ),
      );
    } else {
      try {
        const text = await archive.readText(versionEntry);
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
  }
  // get_all_records (torch.load calls it to look for TorchScript): every entry must live under the prefix
  const { has, exportModel, stray } = archive.listing();
  if (prefix !== null && stray)
    judge.failAll(opening(`file in archive is not in a subdirectory ${prefix}: ${cName(stray)}`));

  // ---- what kind of archive ----
  const torchscript = has('constants.pkl');
  let format: Format = 'unknown';
  let kind: Kind | null = null;
  if (torchscript) {
    format = 'torchscript';
    kind = 'torchscript';
  } else if (has('.data/extern_modules')) format = 'torch-package';
  else if (hasEntryNamed(zip, 'serialized_exported_program.json') || has('archive_format') || exportModel) {
    format = 'torch-export';
    kind = 'full_model';
  } else if (has('data.pkl') || (prefix !== null && archive.zip.locate(`${prefix}data.pkl`)))
    format = 'torch-zip';
  else if (zip.entryCount > 0 && everyEntryNamed(zip, (n) => n.endsWith('.npy') || n.endsWith('/'))) {
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
  if (judge.anyAlive && !torchscript) await checkLoadRecords(ctx, archive);

  // ---- data.pkl through the weights-only unpickler ----
  const dataPkl = archive.locate('data.pkl');
  if (!dataPkl)
    judge.failAll(
      runtime('RuntimeError', 'PytorchStreamReader failed locating file data.pkl: file not found'),
    );
  let root: PyValue | undefined;
  const walked = new Set<number>();
  if (dataPkl) {
    walked.add(dataPkl.index);
    const judged = judge.anyAlive && !torchscript;
    const r = await walkEntry(ctx, zip, dataPkl, judged, archive.records('data/'));
    if (r.readError) judge.failAll(readerFailure(`reading file data.pkl`, r.readError));
    root = r.value;
    if (torchscript) settleJitLoad(ctx, r.value, r.complete);
  }
  if (torchscript) {
    // torch.jit.load unpickles constants.pkl too, its storages under constants/
    const constants = archive.locate('constants.pkl');
    if (constants && !walked.has(constants.index)) {
      walked.add(constants.index);
      await walkEntry(ctx, zip, constants, false, archive.records('constants/'));
    }
  }

  // ---- every other entry, whatever torch does with it ----
  const otherRecords = format === 'torch-package' ? packageRecords(archive) : archive.records('data/');
  for (let i = 0; i < zip.entryCount; i++) {
    if (walked.has(i) || archive.storageEntries.has(i)) continue;
    const e = zip.entry(i);
    if (e.name.endsWith('/') && e.compressedSize === 0) continue;
    await scanOtherEntry(ctx, zip, e, otherRecords, nested);
  }
  // what Python's zipfile (numpy.load, pandas.read_pickle) reads, where it differs from miniz
  if (!allowPrefix) await scanZipfileView(ctx, src, zip, otherRecords, nested);
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
  if (torchscript) await gradeTorchScriptCode(ctx, archive);
  if (format === 'torch-package') gradePackageCode(ctx, archive);
  if (kind === null && format === 'torch-package') kind = 'pickle';
  return { format, kind, root, zip, prefix };
}

/** the archive's Python-like code files, read (they are small and usually deflated) */
async function codeFiles(
  archive: TorchArchive,
  test: (rel: string) => boolean,
): Promise<Array<{ name: string; text: string }>> {
  const out: Array<{ name: string; text: string }> = [];
  const prefix = archive.prefix ?? '';
  let budget = 64 * 1024 * 1024;
  for (const e of archive.zip.entries()) {
    if (!e.name.startsWith(prefix) || !test(e.name.slice(prefix.length)) || e.size > budget) continue;
    try {
      const bytes = await archive.zip.read({ ...e, isDirectory: false }, budget);
      budget -= bytes.length;
      out.push({ name: e.name, text: Buffer.from(bytes).toString('utf8') });
    } catch (err) {
      if (err instanceof SourceReadError) throw err;
      archive.ctx.add({
        severity: 'unknown',
        rule: 'entry-unreadable',
        entry: e.name,
        message: `cannot read the code file "${e.name}": ${(err as Error).message}`,
      });
      archive.ctx.incomplete = true;
    }
  }
  return out;
}

/**
 * TorchScript runs its own code: torch.jit.load calls every __setstate__ while it rebuilds the model, and the
 * model's methods run when it runs. Side effects at load time (files, network, output) or files and network at
 * run time are dangerous; any TorchScript is at least suspicious.
 */
async function gradeTorchScriptCode(ctx: ScanContext, archive: TorchArchive): Promise<void> {
  const files = await codeFiles(archive, (rel) => /^code\/.*\.py$/i.test(rel));
  const a = analyseTorchScript(files);
  ctx.details.torchscript = { codeFiles: files.length, methods: a.methods, setstate: a.setstate };
  const seen = new Set<string>();
  for (const e of a.effects) {
    const key = `${e.where}|${e.call}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const what: Record<typeof e.kind, string> = {
      file: 'touches files',
      network: 'talks to the network',
      output: 'writes output',
      'native-op': 'calls an op from a native extension library',
    };
    if (e.loadTime) {
      ctx.add({
        severity: 'dangerous',
        rule: 'torchscript-load-time-effect',
        entry: e.file,
        name: e.where,
        message: `${e.where} calls ${e.call} (${what[e.kind]}) and runs inside torch.jit.load, while the model is being rebuilt`,
      });
    } else if (e.kind === 'file' || e.kind === 'network') {
      ctx.add({
        severity: 'dangerous',
        rule: 'torchscript-side-effect',
        entry: e.file,
        name: e.where,
        message: `${e.where} calls ${e.call} (${what[e.kind]}) when the model runs`,
      });
    } else if (e.kind === 'native-op') {
      ctx.add({
        severity: 'suspicious',
        rule: 'torchscript-native-op',
        entry: e.file,
        name: e.where,
        message: `${e.where} calls ${e.call}, ${what[e.kind]} that must be installed and is not analysed`,
      });
    }
  }
  ctx.add({
    severity: 'suspicious',
    rule: 'torchscript-code',
    message: `runs TorchScript code: torch.jit.load compiles the archive's ${a.methods} method(s)${a.setstate.length ? `, runs __setstate__ of ${a.setstate.join(', ')} while loading` : ''}, and the model runs them`,
  });
  ctx.judge.noteFor(
    (p) => !p.refusesTorchScript,
    "torch.load with weights_only=True hands TorchScript archives to torch.jit.load on this version, which runs the archive's code",
  );
}

/** torch.package archives import the Python modules they carry (and run them) as they load */
function gradePackageCode(ctx: ScanContext, archive: TorchArchive): void {
  const prefix = archive.prefix ?? '';
  const modules = [...archive.zip.entries()]
    .map((e) => (e.name.startsWith(prefix) ? e.name.slice(prefix.length) : e.name))
    .filter((rel) => rel.endsWith('.py') && !rel.startsWith('.data/'))
    .map((rel) =>
      rel
        .slice(0, -3)
        .replace(/\/__init__$/, '')
        .replace(/\//g, '.'),
    );
  ctx.details.torchPackage = { modules };
  const shown =
    modules.slice(0, 8).join(', ') + (modules.length > 8 ? ` and ${modules.length - 8} more` : '');
  ctx.add({
    severity: 'dangerous',
    rule: 'torch-package-code',
    message:
      modules.length > 0
        ? `a torch.package archive: torch.package.PackageImporter imports the Python modules it carries (${shown}), running their code as it loads`
        : 'a torch.package archive: torch.package.PackageImporter runs the code of the modules it imports as it loads',
  });
}

/** torch.package stores storages as `.data/<key>.storage` */
function packageRecords(archive: TorchArchive): ZipRecords {
  const r = archive.records('.data/');
  return { storageRecord: (key) => `.data/${key}.storage`, lookup: r.lookup };
}

/** `_load`'s record checks before unpickling: byteorder (2.1+) and .storage_alignment (2.14) */
async function checkLoadRecords(ctx: ScanContext, archive: TorchArchive): Promise<void> {
  const judge = ctx.judge;
  const byteorder = archive.locate('byteorder');
  if (byteorder) {
    try {
      const text = await archive.readText(byteorder);
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
  const alignment = archive.locate('.storage_alignment');
  if (alignment) {
    try {
      const text = await archive.readText(alignment);
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
  archive.locate('.format_version');
}

/** whether an entry has exactly this name */
function hasEntryNamed(zip: ZipArchive, name: string): boolean {
  for (let i = 0; i < zip.entryCount; i++) if (zip.entryName(i) === name) return true;
  return false;
}

function everyEntryNamed(zip: ZipArchive, test: (name: string) => boolean): boolean {
  for (let i = 0; i < zip.entryCount; i++) if (!test(zip.entryName(i))) return false;
  return true;
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

/**
 * An entry's bytes. `raw`: the entry's data whatever miniz makes of it (a "directory" with data still has bytes
 * that zipfile and other readers extract); otherwise exactly what miniz extracts.
 */
async function entrySource(ctx: ScanContext, zip: ZipArchive, e: ZipEntry, raw = false): Promise<ByteSource> {
  const asRead = raw ? { ...e, isDirectory: false } : e;
  // stored entries too large to hold are streamed from the archive; the rest are read (and CRC-checked) whole
  if (e.method === METHOD_STORED && e.size > 64 * 1024 * 1024 && !(asRead.isDirectory || e.statError)) {
    const start = await zip.dataOffset(e);
    return new SliceSource(zip.source, start, e.size);
  }
  return new MemorySource(await zip.read(asRead, ctx.limits.maxInflatedBytes));
}

async function walkEntry(
  ctx: ScanContext,
  zip: ZipArchive,
  e: ZipEntry,
  judged: boolean,
  records: ZipRecords,
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
    judge: judged ? ctx.judge : null,
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

/**
 * An entry torch.load does not unpickle. A loader with another idea of the archive might (a case variant, a
 * duplicate, torch.package's own pickles, a zipfile-based tool), so it is read as a pickle whatever its name or
 * first byte: an entry that looks like one (PROTO first, or a pickle name) is walked like any pickle; any other
 * entry is walked tentatively — what it yields counts when it parses to its STOP, and anything dangerous always
 * counts (a payload followed by garbage still runs).
 */
async function scanOtherEntry(
  ctx: ScanContext,
  zip: ZipArchive,
  e: ZipEntry,
  records: ZipRecords,
  nested: NestedPayload[],
): Promise<void> {
  if (e.size === 0 && e.compressedSize === 0) return;
  let source: ByteSource;
  try {
    source = await entrySource(ctx, zip, e, true);
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
  await scanEntryBytes(
    ctx,
    source,
    { name: e.name, size: e.size, compressed: e.method !== METHOD_STORED, offset: e.localHeaderOffset },
    records,
    nested,
  );
}

/** what an archive entry's bytes are, scanned as such (a nested zip, a .npy, a pickle, anything else) */
export async function scanEntryBytes(
  ctx: ScanContext,
  source: ByteSource,
  e: { name: string; size: number; compressed: boolean; offset: number },
  records: ZipRecords,
  nested: NestedPayload[],
): Promise<void> {
  const head = await source.read(0, Math.min(8, source.size));
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
    nested.push({ entry: e.name, source, loader: 'archive', offset: e.offset });
    ctx.entries.push({ name: e.name, role: 'nested-archive', size: e.size, scanned: true });
    return;
  }
  if (isNpy(head)) {
    const h = await readNpyHeader(source);
    if (typeof h !== 'string' && h.objects) {
      const r = await walkPickle(ctx, source, {
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
    } else {
      if (typeof h !== 'string' && h.differential) {
        ctx.add({
          severity: 'dangerous',
          rule: 'numpy-header-differential',
          entry: e.name,
          message: h.differential,
        });
      }
      ctx.entries.push({ name: e.name, role: 'numpy-array', size: e.size, scanned: typeof h !== 'string' });
    }
    return;
  }
  const looksLikePickle = (head[0] === 0x80 && head[1] <= 5) || /\.(pkl|pickle|debug_pkl)$/i.test(e.name);
  const opts = { entry: e.name, judge: null, loader: { kind: 'zip' as const, records }, start: 0 };
  if (looksLikePickle) {
    const r = await walkPickle(ctx, source, opts);
    ctx.entries.push({
      name: e.name,
      role: 'pickle',
      size: e.size,
      compressed: e.compressed,
      scanned: true,
      protocol: r.protocol,
      opcodes: r.opcodes,
      complete: !r.failure,
    });
    return;
  }
  const t = await walkTentatively(ctx, source, opts);
  ctx.entries.push({
    name: e.name,
    role: t.parsed ? 'pickle' : 'file',
    size: e.size,
    compressed: e.compressed,
    scanned: true,
    ...(t.parsed ? { protocol: t.result.protocol, opcodes: t.result.opcodes, complete: true } : {}),
  });
}
