import {
  listTarPlain,
  TAR_PYTHONS,
  tarListings,
  ZipArchive,
  type TarListing,
  type TarPython,
} from '@brine/archives';
import { CountingSource, SourceReadError, type ByteSource } from '@brine/bytes';
import type { PyValue } from '@brine/pickle/values';
import { loadRecipes, recipeCandidates, rootLayout } from './analysis/load-recipes';
import { classifyValue, InventoryBuilder } from './analysis/structure';
import {
  CODEC_NAMES,
  compressionCandidates,
  openCompressed,
  type CompressionCandidate,
} from './containers/compressed';
import { scanLegacyPath, scanTarPath, type LegacyOutcome } from './containers/legacy-file';
import { scanZip } from './containers/torch-zip';
import { parseGguf, templateThreat } from './formats/gguf';
import { isNpy, readNpyHeader } from './formats/numpy';
import { parseOnnx } from './formats/onnx';
import { looksLikeSafetensors, validateSafetensors } from './formats/safetensors';
import { walkPickle, walkTentatively } from './pickle-scan';
import {
  SEVERITY_RANK,
  TORCH_VERSIONS,
  type Finding,
  type Format,
  type Kind,
  type ScanReport,
  type TensorInventory,
  type TorchVersion,
  type Verdict,
  type VersionResult,
} from './report';
import { ScanContext, type NestedPayload, type ScanOptions } from './scan-context';
import { runtime } from './torch/messages';

export const SCANNER_VERSION = '1.0.0';

export interface ScanInput extends ScanOptions {
  /** shown in the report */
  path?: string;
  /** computed by the caller while the bytes streamed past (the scanner never reads tensor data) */
  sha256?: string | null;
}

interface Outcome {
  format: Format;
  kind: Kind;
  inventory: InventoryBuilder;
  /** the object torch.load would return, as far as the walk kept it */
  root?: PyValue;
}

/**
 * Scans one file: recognises it by content, replays torch.load(weights_only=True) for each torch version, scans
 * every pickle it contains, and returns the report. Reads through `source` only what it needs.
 */
export async function scan(source: ByteSource, input: ScanInput = {}): Promise<ScanReport> {
  return scanAtDepth(source, input, 0);
}

async function scanAtDepth(source: ByteSource, input: ScanInput, depth: number): Promise<ScanReport> {
  const started = Date.now();
  const counting = new CountingSource(source);
  const ctx = new ScanContext(input, depth);
  const nested: NestedPayload[] = [];
  let outcome: Outcome;
  try {
    outcome = await recognise(ctx, counting, nested);
  } catch (e) {
    if (input.failOnReadError && e instanceof SourceReadError) throw e;
    // a source that fails mid-read, or a bug: never "safe"
    ctx.incomplete = true;
    ctx.add({
      severity: 'unknown',
      rule: 'scan-error',
      message: `the scan could not finish: ${(e as Error).message}`,
    });
    ctx.judge.failAll(runtime('ScanError', (e as Error).message));
    ctx.judge.markUncertain();
    outcome = {
      format: 'unknown',
      kind: 'unknown',
      inventory: new InventoryBuilder(ctx.limits.maxListedTensors),
    };
  }
  await scanNested(ctx, [...nested, ...ctx.nested], input, depth, outcome.inventory);

  const byVersion = Object.fromEntries(TORCH_VERSIONS.map((v) => [v, ctx.judge.result(v)])) as Record<
    (typeof TORCH_VERSIONS)[number],
    VersionResult
  >;
  const target = ctx.target;
  const targetResult = byVersion[target];
  if (!targetResult.loads && targetResult.reason) {
    ctx.add({
      severity: 'suspicious',
      rule: 'weights-only-refused',
      message: `torch ${target} refuses it with weights_only=True: ${targetResult.reason}`,
    });
  }
  const tensors = outcome.inventory.result(ctx.tensorsRebuilt);
  const findings = sortFindings(ctx.findings);
  const verdict = decideVerdict(findings, outcome.format, targetResult, ctx.incomplete);
  const imports = [...ctx.imports.values()].sort(
    (a, b) => rank(b.class) - rank(a.class) || a.first.offset - b.first.offset,
  );
  const report: ScanReport = {
    path: input.path ?? '',
    size: source.size,
    sha256: input.sha256 ?? null,
    format: outcome.format,
    kind: outcome.kind,
    verdict,
    summary: '',
    weightsOnly: { target, safe: verdict === 'safe', byVersion, extraAllowed: [...ctx.allow] },
    howToLoad: {} as ScanReport['howToLoad'],
    findings,
    imports,
    tensors,
    entries: ctx.entries,
    details: ctx.details,
    stats: {
      bytesRead: counting.bytesRead,
      reads: counting.reads,
      opcodes: ctx.opcodes,
      millis: Date.now() - started,
    },
    scanner: { version: SCANNER_VERSION },
  };
  report.summary = summarise(report);
  report.howToLoad = await recipesFor(report, outcome, ctx, source, input, depth);
  // the fix and the recipe never disagree: add_safe_globals([X]) is offered only where that version's recipe loads the
  // file allowing X. Recipes allow only vetted globals, on versions that have add_safe_globals, so this also keeps
  // a code-execution primitive or a callable not known to be harmless out of the fix; where the recipe says there is
  // no safe way, or only if the user trusts their own code (ifTrusted), a single name to allow would contradict it
  for (const [v, r] of Object.entries(report.weightsOnly.byVersion) as Array<[TorchVersion, VersionResult]>) {
    const recipe = report.howToLoad[v];
    if (r.fix && !(recipe?.loads && recipe.safeGlobals.includes(r.fix))) delete r.fix;
  }
  return report;
}

/**
 * The load recipes. Where a version refuses globals a recipe could allow (entries of the vetted list, or the user's
 * own names for `ifTrusted`), the file is scanned once more with those globals allowed, so a recipe that adds them is
 * one that loads (a second refusal would show there). When that scan is refused only because torch's BUILD meets the
 * class of an object one of those globals made (numpy's per-type dtype classes), the class is added and the file
 * scanned again, as torch's own message suggests.
 */
async function recipesFor(
  report: ScanReport,
  outcome: Outcome,
  ctx: ScanContext,
  source: ByteSource,
  input: ScanInput,
  depth: number,
): Promise<ScanReport['howToLoad']> {
  const extra = recipeCandidates(report.imports);
  let withGlobals: Record<TorchVersion, { loads: boolean; reason: string | null }> | null = null;
  const built: string[] = [];
  const hostile = report.imports.some((i) => i.class === 'dangerous');
  if (extra.length > 0 && !hostile && input.recipes !== false && source.size <= RECIPE_RESCAN_LIMIT) {
    // one round per class torch names (each refusal names one): numpy has a few dozen dtype classes
    for (let round = 0; round < 16; round++) {
      const again = await scanAtDepth(
        source,
        { ...input, allow: [...(input.allow ?? []), ...extra, ...built], recipes: false },
        depth,
      );
      withGlobals = Object.fromEntries(
        TORCH_VERSIONS.map((v) => [
          v,
          { loads: again.weightsOnly.byVersion[v].loads, reason: again.weightsOnly.byVersion[v].reason },
        ]),
      ) as Record<TorchVersion, { loads: boolean; reason: string | null }>;
      const more = TORCH_VERSIONS.map(
        (v) => BUILT_CLASS.exec(again.weightsOnly.byVersion[v].reason ?? '')?.[1],
      ).filter((c): c is string => c !== undefined && !built.includes(c));
      if (more.length === 0) break;
      built.push(...new Set(more));
    }
  }
  return loadRecipes({
    report,
    layout: rootLayout(outcome.root),
    devices: [...ctx.tensorsRebuilt.devices],
    withGlobals,
    builtClasses: built,
    file: input.filename ? input.filename.split(/[\\/]/).pop() : undefined,
  });
}

/** a BUILD refused on an instance of one of numpy's dtype classes, which allowing numpy.dtype makes */
const BUILT_CLASS = /Can only build .* but got <class '(numpy\.dtypes\.[A-Za-z0-9]+DType)'>/;

/** files up to this size are scanned a second time to check a recipe that allows extra globals */
const RECIPE_RESCAN_LIMIT = 4 * 1024 ** 3;

function rank(c: string): number {
  return c === 'dangerous' ? 2 : c === 'suspicious' ? 1 : 0;
}

function sortFindings(f: Finding[]): Finding[] {
  return [...f].sort(
    (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (a.offset ?? 0) - (b.offset ?? 0),
  );
}

function decideVerdict(
  findings: Finding[],
  format: Format,
  target: VersionResult,
  incomplete: boolean,
): Verdict {
  const worst = findings.reduce((w, f) => Math.max(w, SEVERITY_RANK[f.severity]), -1);
  if (worst >= SEVERITY_RANK.dangerous) return 'dangerous';
  if (incomplete || format === 'unknown' || worst === SEVERITY_RANK.unknown) return 'unknown';
  if (worst >= SEVERITY_RANK.suspicious) return 'suspicious';
  if (!target.loads || target.uncertain) return 'suspicious';
  return 'safe';
}

/**
 * What the recognisers share while they look at one file: its first bytes, and what earlier rows found out that
 * later rows use (which is one more reason the order of the table is fixed).
 */
interface Recognition {
  readonly ctx: ScanContext;
  readonly src: ByteSource;
  readonly nested: NestedPayload[];
  readonly inventory: InventoryBuilder;
  /** the file's first 16 bytes */
  readonly head: Uint8Array;
  /** whether the bytes are a safetensors file, valid or not (error); undefined until safetensorsHeader() looked */
  safetensors: { error: string | null } | null | undefined;
  /** set by the torch-tar row's sniff: each Python's tarfile listing */
  tar: Record<TarPython, TarListing> | null;
  /** set by the torch-legacy row: torch.load's reading of a file that is neither a zip nor a tar */
  legacy: LegacyOutcome | null;
}

/**
 * One format. `sniff` says whether the bytes may be it (it may note what it read in the Recognition); `scan` reads
 * them as it and returns the outcome, or null when they were not it after all, or when the row only records what it
 * saw and lets the rows below decide.
 */
export interface Recogniser {
  readonly name: string;
  sniff(r: Recognition): boolean | Promise<boolean>;
  scan(r: Recognition): Promise<Outcome | null>;
}

const outcome = (r: Recognition, format: Format, kind: Kind, root?: PyValue): Outcome => ({
  format,
  kind,
  inventory: r.inventory,
  root,
});

/** whether `text`'s bytes (Latin-1) lie at `at` in the file's first bytes */
function bytesAt(head: Uint8Array, at: number, text: string): boolean {
  if (head.length < at + text.length) return false;
  for (let i = 0; i < text.length; i++) if (head[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** the torch-legacy row's reading, for the rows below it */
function pickled(r: Recognition): LegacyOutcome {
  if (r.legacy === null) throw new Error('the torch-legacy recogniser has not run');
  return r.legacy;
}

const always = (): boolean => true;

/** looks once whether the bytes are a safetensors file, recording its header, tensors and what is wrong with it */
async function safetensorsHeader(r: Recognition): Promise<{ error: string | null } | null> {
  if (r.safetensors !== undefined) return r.safetensors;
  r.safetensors = null;
  const { ctx, src } = r;
  if (await looksLikeSafetensors(src)) {
    const st = await validateSafetensors(src);
    r.safetensors = { error: st.error };
    for (const t of st.tensors) r.inventory.add(t);
    ctx.details.safetensors = {
      headerLength: st.headerLength,
      metadata: st.metadata,
      valid: st.error === null,
    };
    if (st.error) ctx.add({ severity: 'unknown', rule: 'safetensors-invalid', message: st.error });
  }
  return r.safetensors;
}

/**
 * The formats in the order they are tried; the first whose scan returns an outcome decides the file. The order is a
 * security property: the rows above the line are torch.load's own order (what torch reads is what is judged), and a
 * format below it can never hide a file from a loader above it. Each row says why it sits where it does.
 */
export const RECOGNISERS: readonly Recogniser[] = [
  {
    // first: the torches with PR #170592 (2.14 of the modelled ones: profile.safetensorsByPath) hand a path ending
    // in .safetensors to the safetensors library before they even test for a zip, so those versions are settled by
    // that library whatever the bytes are (a torch zip named .safetensors fails there); no row below can judge them
    name: 'safetensors-by-path',
    sniff: (r) => (r.ctx.options.filename ?? '').endsWith('.safetensors'),
    scan: async (r) => {
      const { ctx, src } = r;
      const header = await safetensorsHeader(r);
      for (const v of TORCH_VERSIONS) {
        if (!ctx.judge.state(v).profile.safetensorsByPath) continue;
        if (header !== null && header.error === null) ctx.judge.settle(v, null);
        else {
          const error = header?.error ?? (await validateSafetensors(src)).error ?? 'invalid safetensors file';
          ctx.judge.settle(v, runtime('SafetensorError', error.replace(/^SafetensorError: /, '')));
        }
      }
      return null;
    },
  },
  {
    // then, as in torch.load: exactly PK\x03\x04 at offset 0 sends the file to the zip reader, whatever else the
    // bytes also are (an npz, a tar, a pickle): torch never looks further
    name: 'torch-zip',
    sniff: (r) => bytesAt(r.head, 0, 'PK\x03\x04'),
    scan: async (r) => {
      const { ctx, inventory } = r;
      const z = await scanZip(ctx, r.src, r.nested);
      inventory.addFromValue(z.root);
      const zip = z.zip;
      if (zip && z.prefix !== null) inventory.addStorageChecksums((record) => zip.locate(z.prefix + record));
      const capture = ctx.options.capture;
      if (capture && ctx.depth === 0 && ctx.options.recipes !== false && z.zip && z.prefix !== null)
        Object.assign(capture, { root: z.root, zip: z.zip, prefix: z.prefix });
      const kind =
        z.kind ??
        (z.format === 'torch-zip'
          ? classifyValue(z.root)
          : z.root !== undefined
            ? classifyValue(z.root)
            : 'unknown');
      return outcome(r, z.format, kind, z.root);
    },
  },
  {
    // the safetensors header looked at (not claimed: that comes further down, once torch's own paths have had
    // their say), for every file that is not a zip
    name: 'safetensors-header',
    sniff: always,
    scan: async (r) => {
      await safetensorsHeader(r);
      return null;
    },
  },
  {
    // torch.load's non-zip path tries tarfile first: a file any modelled Python's tarfile opens is read as a tar by
    // torch (or refused for being one), even when it is also a pickle
    name: 'torch-tar',
    sniff: async (r) => {
      const tar = await tarListings(r.src);
      r.tar = tar;
      return TAR_PYTHONS.some((p) => tar[p].opens);
    },
    scan: async (r) => {
      const { ctx, src, inventory } = r;
      const tar = r.tar as Record<TarPython, TarListing>;
      const plain = await listTarPlain(src);
      const t = await scanTarPath(ctx, src, tar, plain);
      inventory.addFromValue(t.root);
      const listed = TAR_PYTHONS.map((p) => tar[p]).find((l) => l.opens)!;
      ctx.details.tar = {
        members: listed.members.slice(0, 1000).map((m) => ({ name: m.name, type: m.type, size: m.size })),
        pythons: Object.fromEntries(TAR_PYTHONS.map((p) => [p, tar[p].opens ? 'opens' : tar[p].error])),
      };
      if (!t.torchTar) {
        ctx.add({
          severity: 'unknown',
          rule: 'unrecognised-format',
          message: 'a tar archive that is not a torch checkpoint; its members were scanned as pickles',
        });
        ctx.incomplete = true;
      }
      return outcome(
        r,
        t.torchTar ? 'torch-tar' : 'unknown',
        t.torchTar ? (t.root !== undefined ? classifyValue(t.root) : 'pickle') : 'unknown',
      );
    },
  },
  {
    // then torch.load reads every other file as consecutive pickles: they are walked for every file that reaches
    // this row, whatever it turns out to be, because that is what torch.load(weights_only=False) would execute;
    // the rows below only decide what the bytes are besides
    name: 'torch-legacy',
    sniff: always,
    scan: async (r) => {
      const legacy = await scanLegacyPath(r.ctx, r.src, null);
      r.legacy = legacy;
      if (!legacy.legacyTorch) return null;
      r.inventory.addFromValue(legacy.root);
      return outcome(r, 'torch-legacy', classifyValue(legacy.root), legacy.root);
    },
  },
  // ---- torch.load's order ends here; below, what the bytes are to other loaders ----
  {
    // joblib.load (by the first bytes) and pandas.read_pickle (by the name) decompress before unpickling; a file whose
    // first pickle parsed whole is a pickle to them, not a compressed stream, and a stream that does not decode falls
    // through to the rows below
    name: 'compressed',
    sniff: (r) =>
      !pickled(r).firstComplete && compressionCandidates(r.head, r.ctx.options.filename).length > 0,
    scan: (r) =>
      recogniseCompressed(r.ctx, r.src, compressionCandidates(r.head, r.ctx.options.filename), r.inventory),
  },
  {
    // claimed only now, so a safetensors header can never hide a torch or compressed reading of the same bytes
    name: 'safetensors',
    sniff: (r) => (r.safetensors ?? null) !== null,
    scan: async (r) => {
      dropPickleNoise(r.ctx);
      r.ctx.incomplete = (r.safetensors?.error ?? null) !== null;
      return outcome(r, 'safetensors', 'safetensors');
    },
  },
  {
    // the formats with a magic number come next: a magic is stronger evidence than bytes that parse as a pickle, and
    // the torch-legacy row has already reported whatever a pickle reading of them imports. Among themselves the order
    // hardly matters: only PTMF (at byte 4) could coincide with a magic at byte 0, and then byte 0 wins
    name: 'gguf',
    sniff: (r) => bytesAt(r.head, 0, 'GGUF'),
    scan: (r) => recogniseGguf(r.ctx, r.src, r.inventory),
  },
  {
    // \x93NUMPY: an object array's pickle is walked by its own scan
    name: 'numpy',
    sniff: (r) => isNpy(r.head),
    scan: (r) => recogniseNpy(r.ctx, r.src, r.inventory),
  },
  {
    // PYTORCH1: the pre-1.0 TorchScript preview container, which torch refuses
    name: 'torchscript-preview',
    sniff: (r) => bytesAt(r.head, 0, 'PYTORCH1'),
    scan: async (r) => {
      dropPickleNoise(r.ctx);
      r.ctx.add({
        severity: 'info',
        rule: 'torchscript-preview',
        message: 'a TorchScript archive from the pre-1.0 preview release; torch refuses it',
      });
      return outcome(r, 'torchscript', 'torchscript');
    },
  },
  {
    // PTMF at byte 4 (mobile flatbuffer): after the magics at byte 0, see above
    name: 'torchscript-flatbuffer',
    sniff: (r) => bytesAt(r.head, 4, 'PTMF'),
    scan: async (r) => {
      dropPickleNoise(r.ctx);
      return outcome(r, 'torchscript', 'torchscript');
    },
  },
  {
    // \x89HDF (Keras .h5): recognised so as to say it is not analysed, never safe
    name: 'hdf5',
    sniff: (r) => r.head.length >= 8 && bytesAt(r.head, 0, '\x89HDF'),
    scan: async (r) => {
      dropPickleNoise(r.ctx);
      r.ctx.details.hdf5 = true;
      r.ctx.add({
        severity: 'unknown',
        rule: 'unsupported-format',
        message: 'an HDF5 file (Keras .h5); its contents are not analysed',
      });
      return outcome(r, 'unknown', 'unknown');
    },
  },
  {
    // no magic number: the protobuf parse is the test, so it comes after every format that has one
    name: 'onnx',
    sniff: always,
    scan: async (r) => {
      const onnx = await parseOnnx(r.src);
      if (!onnx) return null;
      dropPickleNoise(r.ctx);
      r.ctx.details.onnx = onnx;
      for (const loc of onnx.externalData) {
        if (loc.startsWith('/') || /(^|[\\/])\.\.([\\/]|$)/.test(loc) || /^[a-zA-Z]:/.test(loc)) {
          r.ctx.add({
            severity: 'dangerous',
            rule: 'onnx-external-data-traversal',
            message: `external data location "${loc}" points outside the model's folder`,
          });
        }
      }
      return outcome(r, 'onnx', 'onnx');
    },
  },
  {
    // a zip after other data (a self-extracting stub, a polyglot): torch unpickled the prefix above, zip readers see
    // the archive; it is scanned and noted, and the prefix is still classified by the rows below
    name: 'zip-prefixed',
    sniff: (r) => findEmbeddedZip(r.src),
    scan: async (r) => {
      const { ctx } = r;
      ctx.add({
        severity: 'suspicious',
        rule: 'zip-prefixed',
        message:
          'a zip archive follows other data: torch.load unpickles the prefix, zip readers see the archive (a polyglot)',
      });
      const sub = new ScanContext(ctx.options, ctx.depth + 1);
      await scanZip(sub, r.src, r.nested, true);
      for (const f of sub.findings) ctx.add({ ...f, entry: f.entry ? `zip:${f.entry}` : 'zip' });
      for (const [k, v] of sub.imports) if (!ctx.imports.has(k)) ctx.imports.set(k, v);
      return null;
    },
  },
  {
    // a plain pickle only when nothing above claimed the bytes: being parseable as a pickle is the weakest evidence
    name: 'pickle',
    sniff: (r) => pickled(r).firstComplete,
    scan: async (r) => outcome(r, 'pickle', classifyValue(pickled(r).root)),
  },
  {
    // a pickle cut short or broken after its PROTO opcode is still a pickle (its findings stand)
    name: 'pickle-header',
    sniff: (r) => r.head.length >= 2 && r.head[0] === 0x80 && r.head[1] <= 5,
    scan: async (r) => outcome(r, 'pickle', 'pickle'),
  },
  {
    // last: anything else is unknown, never safe
    name: 'unrecognised',
    sniff: always,
    scan: async (r) => {
      const { ctx, src } = r;
      const text = isText(await src.read(0, Math.min(src.size, 64 * 1024)));
      if (text) {
        // text that does not parse as a pickle: a line like "import torch" reads as an INST import, so only what
        // would be dangerous in a real unpickler counts (as for any bytes walked tentatively)
        ctx.details.text = true;
        const keep = ctx.findings.filter((f) => f.severity === 'dangerous');
        ctx.findings.splice(0, ctx.findings.length, ...keep);
        for (const [k, imp] of ctx.imports) if (imp.class !== 'dangerous') ctx.imports.delete(k);
      } else if (!ctx.findings.some((f) => f.rule.startsWith('import-') || f.severity === 'dangerous'))
        dropPickleNoise(ctx);
      ctx.add({
        severity: 'unknown',
        rule: 'unrecognised-format',
        message: text
          ? 'a text file that is not a pickle or a model format'
          : 'the file is not a format Brine recognises',
      });
      ctx.incomplete = true;
      return outcome(r, 'unknown', 'unknown');
    },
  },
];

/** Recognises the file by content: the first row of RECOGNISERS whose scan returns an outcome decides. */
async function recognise(ctx: ScanContext, src: ByteSource, nested: NestedPayload[]): Promise<Outcome> {
  const r: Recognition = {
    ctx,
    src,
    nested,
    inventory: new InventoryBuilder(ctx.limits.maxListedTensors),
    head: await src.read(0, Math.min(16, src.size)),
    safetensors: undefined,
    tar: null,
    legacy: null,
  };
  for (const row of RECOGNISERS) {
    if (!(await row.sniff(r))) continue;
    const found = await row.scan(r);
    if (found) return found;
  }
  throw new Error('no recogniser took the file'); // the last row takes every file
}

/**
 * A compressed stream: decoded as the loaders that open it decode it (containers/compressed.ts), within the
 * budgets, and what it holds scanned like any file. torch.load never decompresses: its refusal of the raw bytes
 * stands. Null when no candidate decodes at all (the first bytes matched by chance).
 */
async function recogniseCompressed(
  ctx: ScanContext,
  src: ByteSource,
  candidates: CompressionCandidate[],
  inventory: InventoryBuilder,
): Promise<Outcome | null> {
  const streams = [];
  for (const c of candidates) streams.push(await openCompressed(src, c, ctx.limits));
  // a stream is there when it decoded, or when its header is that of a stream (then its error is a finding)
  const opened = streams.filter((s) => s.size > 0 || (s.error === null && s.limit === null) || s.headerValid);
  if (opened.length === 0) {
    for (const s of streams)
      ctx.add({
        severity: 'info',
        rule: 'decompression-failed',
        message: `${s.loaders.join(' and ')} would read a ${CODEC_NAMES[s.codec]} here and fail: ${s.error ?? s.limit}`,
      });
    return null;
  }
  // the raw bytes are no pickle: the walk's complaints are noise (torch.load's refusal stays with the judge)
  dropPickleNoise(ctx);
  const raw = ctx.entries.findIndex((e) => e.name === '<file>');
  if (raw >= 0) ctx.entries.splice(raw, 1);
  let inner: ScanReport | null = null;
  const described: Array<Record<string, unknown>> = [];
  for (const s of opened) {
    const entry = s.codec;
    const what = CODEC_NAMES[s.codec];
    described.push({
      codec: s.codec,
      loaders: s.loaders,
      compressedBytes: s.consumed,
      bytes: s.size,
      complete: s.error === null && s.limit === null && s.budget === null,
      ...s.facts,
    });
    ctx.entries.push({
      name: entry,
      role: 'compressed-stream',
      size: s.size,
      compressed: true,
      scanned: true,
    });
    ctx.add({
      severity: 'info',
      rule: 'compressed-stream',
      entry,
      message: `a ${what}: ${s.loaders.join(' and ')} decompress${s.loaders.length === 1 ? 'es' : ''} it before unpickling; its ${s.size} bytes were scanned`,
    });
    // a stream not read to its end (corrupt, cut short, past a budget) is never safe, whatever it held
    if (s.error || s.limit || s.budget) ctx.incomplete = true;
    if (s.error)
      ctx.add({
        severity: 'unknown',
        rule: 'decompression-error',
        entry,
        offset: s.consumed,
        message: `the ${what} is corrupt or cut short after ${s.size} bytes (${s.error}); what came before was scanned`,
      });
    if (s.limit) ctx.add({ severity: 'unknown', rule: 'decompression-limit', entry, message: s.limit });
    if (s.budget) {
      const l = ctx.limits;
      ctx.add({
        severity: 'unknown',
        rule: 'decompression-budget',
        entry,
        message:
          s.budget === 'size'
            ? `the ${what} holds more than the scan's budget of ${l.maxDecompressedBytes} bytes; only the first ${s.size} were scanned`
            : `the ${what} expands more than ${l.maxCompressionRatio} times its ${src.size} bytes (past ${l.compressionRatioFloor} bytes), as a decompression bomb does; only the first ${s.size} bytes were scanned`,
      });
    }
    for (const why of s.refusedBy)
      ctx.add({
        severity: 'info',
        rule: 'loader-refuses',
        entry,
        message: `${why}, before unpickling anything`,
      });
    if (s.error === null && s.budget === null && s.limit === null && s.consumed < src.size)
      ctx.add({
        severity: 'info',
        rule: 'trailing-data',
        entry,
        offset: s.consumed,
        message: `${src.size - s.consumed} bytes follow the ${what}; the loaders do not decompress them`,
      });
    if (ctx.depth + 1 > ctx.limits.maxDepth) {
      ctx.add({
        severity: 'unknown',
        rule: 'nesting-limit',
        entry,
        message: `"${entry}" is deeper than the scan limit`,
      });
      ctx.incomplete = true;
      continue;
    }
    const sub = await scanAtDepth(
      s.source,
      { ...ctx.options, path: entry, filename: undefined, sha256: null, recipes: false },
      ctx.depth + 1,
    );
    absorbReport(ctx, sub, entry, inventory);
    if (sub.verdict === 'unknown') ctx.incomplete = true;
    inner ??= sub;
  }
  ctx.details.compressed = described;
  return { format: inner?.format ?? 'unknown', kind: inner?.kind ?? 'unknown', inventory };
}

/** a nested scan's findings, imports, tensors and entries, each named by where it was found */
function absorbReport(ctx: ScanContext, sub: ScanReport, entry: string, inventory: InventoryBuilder): void {
  const where = (e: string | null) => (e && e !== '<file>' ? `${entry} › ${e}` : entry);
  for (const f of sub.findings) {
    if (f.rule === 'weights-only-refused') continue;
    ctx.add({ ...f, entry: where(f.entry) });
  }
  for (const imp of sub.imports) {
    const key = `${imp.module}.${imp.name}`;
    if (!ctx.imports.has(key))
      ctx.imports.set(key, { ...imp, first: { ...imp.first, entry: where(imp.first.entry) } });
  }
  for (const t of sub.tensors.items) inventory.add({ ...t, name: `${entry}:${t.name}` });
  for (const e of sub.entries) ctx.entries.push({ ...e, name: where(e.name) });
  ctx.opcodes += sub.stats.opcodes;
}

/** UTF-8 text without NUL bytes, almost all printable (a truncated last character is fine) */
function isText(b: Uint8Array): boolean {
  if (b.length === 0 || b.includes(0)) return false;
  let text: string | null = null;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let cut = 0; cut <= 3 && text === null && cut < b.length; cut++) {
    try {
      text = decoder.decode(b.subarray(0, b.length - cut));
    } catch {
      // a character cut by the end of the sample: try without its first bytes
    }
  }
  if (text === null) return false;
  let odd = 0;
  for (const c of text) if (/[\x00-\x08\x0e-\x1f\x7f]/.test(c)) odd++;
  return odd <= text.length / 100;
}

/** when the bytes turned out not to be a pickle, the walk's complaints are noise, not findings */
function dropPickleNoise(ctx: ScanContext): void {
  const keep = ctx.findings.filter(
    (f) => f.rule !== 'pickle-error' && f.rule !== 'trailing-data' && f.rule !== 'line-at-eof',
  );
  ctx.findings.splice(0, ctx.findings.length, ...keep);
  ctx.incomplete = false;
}

async function recogniseGguf(
  ctx: ScanContext,
  src: ByteSource,
  inventory: InventoryBuilder,
): Promise<Outcome> {
  dropPickleNoise(ctx);
  const g = await parseGguf(src);
  for (const t of g.tensors) inventory.add(t);
  ctx.details.gguf = { version: g.version, bigEndian: g.bigEndian, metadata: g.metadata };
  if (g.error) {
    ctx.incomplete = true;
    ctx.add({ severity: 'unknown', rule: 'gguf-invalid', message: `GGUF header: ${g.error}` });
  }
  if (g.chatTemplate) {
    const t = templateThreat(g.chatTemplate);
    if (t) {
      ctx.add({
        severity: 'dangerous',
        rule: 'gguf-template-injection',
        entry: 'tokenizer.chat_template',
        message: `the chat template uses ${t}, which reaches Python internals when rendered without a sandbox`,
      });
    }
  }
  return { format: 'gguf', kind: 'gguf', inventory };
}

async function recogniseNpy(
  ctx: ScanContext,
  src: ByteSource,
  inventory: InventoryBuilder,
): Promise<Outcome> {
  dropPickleNoise(ctx);
  const h = await readNpyHeader(src);
  if (typeof h === 'string') {
    ctx.incomplete = true;
    ctx.add({ severity: 'unknown', rule: 'numpy-invalid', message: h });
    return { format: 'numpy', kind: 'unknown', inventory };
  }
  const numel = h.shape.reduce((a, b) => a * b, 1);
  if (h.differential) {
    ctx.add({
      severity: 'dangerous',
      rule: 'numpy-header-differential',
      entry: 'array',
      message: h.differential,
    });
    // whichever reading is right, the data may be a pickle for the other one
    if (!h.objects)
      await walkTentatively(ctx, src, {
        entry: 'array',
        judge: null,
        loader: { kind: 'none' },
        start: h.dataOffset,
      });
  }
  if (h.oversized) {
    ctx.add({
      severity: 'info',
      rule: 'numpy-large-header',
      entry: 'array',
      message: 'the header is longer than 10000 characters: numpy.load reads it only with allow_pickle=True',
    });
  }
  if (h.objects) {
    ctx.add({
      severity: 'suspicious',
      rule: 'numpy-object-array',
      message: 'an object array: numpy stores it as a pickle (np.load needs allow_pickle=True)',
    });
    const r = await walkPickle(ctx, src, {
      entry: 'array',
      judge: null,
      loader: { kind: 'none' },
      start: h.dataOffset,
    });
    ctx.entries.push({
      name: 'array',
      role: 'numpy-object-array',
      size: src.size - h.dataOffset,
      scanned: true,
      protocol: r.protocol,
      opcodes: r.opcodes,
      complete: !r.failure,
    });
    return { format: 'numpy', kind: 'pickle', inventory };
  }
  const bytes = h.itemSize === null ? 0 : numel * h.itemSize;
  if (h.itemSize !== null && h.dataOffset + bytes !== src.size) {
    ctx.add({
      severity: 'unknown',
      rule: 'numpy-size-mismatch',
      message: `array data is ${src.size - h.dataOffset} bytes, expected ${bytes}`,
    });
    ctx.incomplete = true;
  }
  inventory.add({ name: 'array', dtype: h.dtype, shape: h.shape, numel, bytes });
  return { format: 'numpy', kind: 'tensor', inventory };
}

/** a zip whose local headers do not start at 0 (self-extracting stubs, polyglots) */
async function findEmbeddedZip(src: ByteSource): Promise<boolean> {
  if (src.size < 22) return false;
  try {
    const z = await ZipArchive.open(src, { maxEntries: 100_000, allowPrefix: true });
    return z.entryCount > 0 && z.prefixLength > 0;
  } catch (e) {
    if (e instanceof SourceReadError) throw e;
    return false;
  }
}

async function scanNested(
  ctx: ScanContext,
  payloads: NestedPayload[],
  input: ScanInput,
  depth: number,
  inventory: InventoryBuilder,
): Promise<void> {
  for (const p of payloads.slice(0, 64)) {
    const sub = await scanAtDepth(
      p.source,
      { ...input, path: p.entry, filename: undefined, sha256: null },
      depth + 1,
    );
    const where = (e: string | null) => (e ? `${p.entry} › ${e}` : p.entry);
    for (const f of sub.findings) {
      if (f.rule === 'weights-only-refused') continue;
      ctx.add({ ...f, entry: where(f.entry) });
    }
    for (const imp of sub.imports) {
      const key = `${imp.module}.${imp.name}`;
      if (!ctx.imports.has(key))
        ctx.imports.set(key, { ...imp, first: { ...imp.first, entry: where(imp.first.entry) } });
    }
    for (const t of sub.tensors.items) inventory.add({ ...t, name: `${p.entry}:${t.name}` });
    ctx.entries.push({
      name: p.entry,
      role: p.loader === 'archive' ? 'nested-archive' : 'chained-payload',
      size: p.source.size,
      scanned: true,
    });
    if (p.loader !== 'archive') {
      ctx.add({
        severity:
          sub.verdict === 'dangerous' ? 'dangerous' : sub.verdict === 'unknown' ? 'unknown' : 'suspicious',
        rule: 'chained-load',
        entry: p.entry,
        offset: p.offset,
        message: `${p.loader} unpickles a second payload at load time (scanned: ${sub.verdict}, ${sub.kind})`,
      });
    } else if (sub.verdict === 'unknown') ctx.incomplete = true;
  }
}

export function summarise(
  r: Pick<ScanReport, 'verdict' | 'kind' | 'format' | 'imports' | 'findings' | 'tensors' | 'weightsOnly'>,
): string {
  const target = r.weightsOnly.target;
  const res = r.weightsOnly.byVersion[target];
  const dangerous = r.imports.filter((i) => i.class === 'dangerous').map((i) => `${i.module}.${i.name}`);
  const what = describe(r.kind, r.tensors);
  switch (r.verdict) {
    case 'dangerous': {
      if (dangerous.length > 0) {
        const list =
          dangerous.slice(0, 3).join(', ') +
          (dangerous.length > 3 ? ` and ${dangerous.length - 3} more` : '');
        return `Loading this file with pickle (torch.load(weights_only=False)) would import ${list} — code execution. Do not load it.`;
      }
      const f = r.findings.find((x) => x.severity === 'dangerous');
      return `This file is built to fool loaders or scanners (${f?.rule ?? 'structural attack'}): ${f?.message ?? ''}. Do not load it.`;
    }
    case 'unknown': {
      const f = r.findings.find((x) => x.severity === 'unknown');
      return `Brine could not read this file to the end${f ? ` (${f.message})` : ''}; treat it as unsafe.`;
    }
    case 'suspicious': {
      const suspicious = r.imports
        .filter((i) => i.class === 'suspicious')
        .map((i) => `${i.module}.${i.name}`);
      if (suspicious.length > 0) {
        return `${what} that imports ${suspicious.slice(0, 3).join(', ')}${suspicious.length > 3 ? ' and more' : ''}, outside torch ${target}'s allowlist; none is a known attack, but loading it runs code from those modules.`;
      }
      return `${what}; torch ${target} refuses it with weights_only=True${res.reason ? ` (${res.reason.replace(/^[A-Za-z]+Error: /, '').slice(0, 160)})` : ''}.`;
    }
    case 'safe':
      return `${what}; torch ${target} loads it with weights_only=True and nothing in it imports code.`;
  }
}

function describe(kind: Kind, t: TensorInventory): string {
  const n = (x: number) =>
    x >= 1e9
      ? `${(x / 1e9).toFixed(1)}B`
      : x >= 1e6
        ? `${(x / 1e6).toFixed(1)}M`
        : x >= 1e3
          ? `${(x / 1e3).toFixed(1)}K`
          : `${x}`;
  const tensors =
    t.count > 0 ? ` of ${t.count} tensor${t.count === 1 ? '' : 's'} (${n(t.parameters)} parameters)` : '';
  const names: Record<Kind, string> = {
    state_dict: 'A state_dict',
    checkpoint: 'A training checkpoint',
    full_model: 'A pickled full model',
    tensor: 'A tensor',
    torchscript: 'A TorchScript archive',
    safetensors: 'A safetensors file',
    onnx: 'An ONNX model',
    gguf: 'A GGUF model',
    pickle: 'A pickle',
    unknown: 'A file',
  };
  return `${names[kind]}${kind === 'tensor' ? '' : tensors}`;
}
