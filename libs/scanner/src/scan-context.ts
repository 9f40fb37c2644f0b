import type { ZipArchive } from '@brine/archives';
import type { ByteSource } from '@brine/bytes';
import { TensorTotals } from './analysis/structure';
import { type ImportEvent } from '@brine/pickle/machine';
import { mapPython2Name } from '@brine/pickle/python2-names';
import { CHAINED_LOADERS, threatOf } from './analysis/threats';
import { harmlessEntry, ORIGIN_WORDS, originOf } from './analysis/harmless';
import {
  SEVERITY_RANK,
  TORCH_VERSIONS,
  type EntryRecord,
  type Finding,
  type ImportRecord,
  type Severity,
  type TorchVersion,
} from './report';
import type { PyValue } from '@brine/pickle/values';
import { WeightsOnlyJudge } from './torch/judge';
import { PROFILES } from './torch/profiles';

const VETTED_SOURCE = "Brine's vetted list of harmless constructors (libs/scanner/data/harmless.json)";

export interface ScanLimits {
  /** pickle machine limits */
  maxOpcodes: number;
  maxMemoEntries: number;
  maxStackItems: number;
  maxMarkDepth: number;
  maxRetainedItems: number;
  maxRetainedBytes: number;
  maxLineBytes: number;
  /** largest compressed pickle entry inflated in memory */
  maxInflatedBytes: number;
  /** zip entries */
  maxEntries: number;
  /** decompressed bytes of a compressed stream (gzip, bz2, xz …) that are scanned; past it the verdict is unknown */
  maxDecompressedBytes: number;
  /** decompressed ÷ compressed bytes allowed once a stream has given `compressionRatioFloor` bytes */
  maxCompressionRatio: number;
  compressionRatioFloor: number;
  /** the largest LZMA dictionary window held in memory */
  maxLzmaWindow: number;
  /** containers inside containers (chained loads, nested zips) */
  maxDepth: number;
  /** tensors listed in the report (all are counted) */
  maxListedTensors: number;
  /** bytes read per window of a pickle walk */
  windowBytes: number;
}

export const DEFAULT_SCAN_LIMITS: Readonly<ScanLimits> = Object.freeze({
  maxOpcodes: 250_000_000,
  maxMemoEntries: 20_000_000,
  maxStackItems: 10_000_000,
  maxMarkDepth: 100_000,
  maxRetainedItems: 50_000,
  maxRetainedBytes: 1 << 20,
  maxLineBytes: 64 * 1024,
  maxInflatedBytes: 512 * 1024 * 1024,
  maxEntries: 1_000_000,
  maxDecompressedBytes: 2 * 1024 ** 3,
  maxCompressionRatio: 200,
  compressionRatioFloor: 64 * 1024 * 1024,
  maxLzmaWindow: 64 * 1024 * 1024,
  maxDepth: 4,
  maxListedTensors: 10_000,
  windowBytes: 1024 * 1024,
});

export interface ScanProgress {
  phase: string;
  bytesDone: number;
  bytesTotal: number;
}

export interface ScanOptions {
  /** the torch version the verdict is about (default 2.14) */
  target?: TorchVersion;
  /** extra safe globals, as torch.serialization.add_safe_globals adds them ("module.Name") */
  allow?: readonly string[];
  /** file name as the loader would see it (torch 2.14 loads *.safetensors paths with safetensors) */
  filename?: string;
  limits?: Partial<ScanLimits>;
  onProgress?: (p: ScanProgress) => void;
  /**
   * rethrow errors of the byte source (a network failure while reading from S3) instead of reporting the file
   * as unreadable: the caller retries, because the file itself may be fine
   */
  failOnReadError?: boolean;
  /** false: leave out the load recipes' second scan (used by that scan itself) */
  recipes?: boolean;
  /**
   * filled in with what torch.load would return and the archive its storages live in, for a caller that converts
   * the file (the safetensors twin): it then reads exactly what the scan judged
   */
  capture?: ScanCapture;
}

export interface ScanCapture {
  /** the object torch.load would return, as far as the walk kept it */
  root?: PyValue;
  /** the torch zip and the folder its records sit in */
  zip?: ZipArchive;
  prefix?: string;
}

/** a payload found inside a pickle (torch.storage._load_from_bytes …), scanned after the walk */
export interface NestedPayload {
  entry: string;
  source: ByteSource;
  loader: string;
  offset: number;
}

/** Everything a scan accumulates across all the pickles and entries of one file. */
export class ScanContext {
  readonly findings: Finding[] = [];
  readonly imports = new Map<string, ImportRecord>();
  readonly entries: EntryRecord[] = [];
  readonly nested: NestedPayload[] = [];
  readonly details: Record<string, unknown> = {};
  readonly limits: ScanLimits;
  readonly target: TorchVersion;
  readonly allow: readonly string[];
  readonly judge: WeightsOnlyJudge;
  opcodes = 0;
  /** every tensor the walks rebuilt (the report's totals when the kept object graph holds fewer) */
  readonly tensorsRebuilt = new TensorTotals();
  /** something could not be read to the end: never "safe" */
  incomplete = false;
  private readonly findingKeys = new Set<string>();

  constructor(
    readonly options: ScanOptions,
    readonly depth = 0,
  ) {
    this.limits = { ...DEFAULT_SCAN_LIMITS, ...(options.limits ?? {}) };
    this.target = options.target ?? '2.14';
    this.allow = options.allow ?? [];
    this.judge = new WeightsOnlyJudge(this.allow);
  }

  /** a scratch context for a walk whose findings may be discarded (see walkTentatively) */
  child(): ScanContext {
    return new ScanContext(this.options, this.depth);
  }

  /**
   * Takes over what a scratch context found: everything, or only what is dangerous (and the imports behind it).
   * Its judge is not consulted: scratch walks never feed a weights-only prediction.
   */
  absorb(child: ScanContext, what: 'all' | 'dangerous'): void {
    this.opcodes += child.opcodes;
    if (what === 'all') this.tensorsRebuilt.absorb(child.tensorsRebuilt);
    const keep = (f: Finding) => what === 'all' || f.severity === 'dangerous';
    for (const f of child.findings) if (keep(f)) this.add(f);
    for (const [k, imp] of child.imports) {
      if (this.imports.has(k) || (what === 'dangerous' && imp.class !== 'dangerous')) continue;
      this.imports.set(k, imp);
    }
    if (what === 'all') {
      this.entries.push(...child.entries);
      this.nested.push(...child.nested);
      Object.assign(this.details, child.details);
      this.incomplete ||= child.incomplete;
    } else {
      this.nested.push(...child.nested.filter((n) => n.loader !== 'archive'));
    }
  }

  progress(phase: string, bytesDone: number, bytesTotal: number): void {
    this.options.onProgress?.({ phase, bytesDone, bytesTotal });
  }

  add(f: Omit<Finding, 'module' | 'name' | 'opcode' | 'offset' | 'entry'> & Partial<Finding>): void {
    const full: Finding = {
      entry: f.entry ?? null,
      offset: f.offset ?? null,
      opcode: f.opcode ?? null,
      module: f.module ?? null,
      name: f.name ?? null,
      severity: f.severity,
      rule: f.rule,
      message: f.message,
    };
    const key = `${full.rule}|${full.entry}|${full.offset}|${full.module}|${full.name}`;
    if (this.findingKeys.has(key)) return;
    this.findingKeys.add(key);
    this.findings.push(full);
  }

  /** which versions would accept this global (default + import-time + operator allowlist, after their name mapping) */
  allowedBy(rawModule: string, rawName: string): Record<TorchVersion, boolean> {
    const out = {} as Record<TorchVersion, boolean>;
    for (const v of TORCH_VERSIONS) {
      const p = PROFILES[v];
      const [m, n] = p.mapsPython2Names ? mapPython2Name(rawModule, rawName) : [rawModule, rawName];
      const full = `${m}.${n}`;
      out[v] =
        !p.blockedModules.has(m) &&
        (p.allowed.has(full) || p.importTime.has(full) || this.allow.includes(full));
    }
    return out;
  }

  /** allowed by torch's own default or import-time list on some modelled version: torch vouches for it */
  private torchAllows(full: string): boolean {
    return TORCH_VERSIONS.some((v) => PROFILES[v].allowed.has(full) || PROFILES[v].importTime.has(full));
  }

  recordImport(ev: ImportEvent, module: string, name: string, entry: string | null): ImportRecord {
    const key = `${module}.${name}`;
    const existing = this.imports.get(key);
    if (existing) {
      existing.count++;
      return existing;
    }
    const allowedBy = this.allowedBy(ev.rawModule, ev.rawName);
    const vetted = harmlessEntry(key);
    // the call-graph scan is a heuristic: an entry reviewed against what it found (gadgetScan) stands
    const found = threatOf(module, name);
    const threat = found && !(found.scanned && vetted?.gadgetScan) ? found : null;
    const origin = originOf(module);
    let grade: Pick<ImportRecord, 'class' | 'reason' | 'source'>;
    if (threat) grade = { class: 'dangerous', reason: threat.reason, source: threat.source };
    else if (allowedBy[this.target]) grade = { class: 'allowed' };
    else if (vetted) grade = { class: 'harmless', reason: vetted.reason, source: VETTED_SOURCE };
    else if (this.torchAllows(key))
      grade = {
        class: 'harmless',
        reason: 'on the weights-only allowlist of another torch version',
        source: 'torch',
      };
    else
      grade = {
        class: 'suspicious',
        reason:
          origin === 'other'
            ? 'from a module a default install does not have (your code or a third-party package): it runs only where that code is installed, and Brine cannot vouch for it'
            : `from ${ORIGIN_WORDS[origin]}, which every process that loads a checkpoint has, and not on Brine's vetted list of harmless constructors; not called while loading`,
      };
    const rec: ImportRecord = {
      module,
      name,
      ...(ev.rawModule !== module || ev.rawName !== name
        ? { raw: { module: ev.rawModule, name: ev.rawName } }
        : {}),
      ...grade,
      origin,
      allowedBy,
      calls: [],
      count: 1,
      first: { entry, offset: ev.offset, opcode: ev.opcode },
    };
    if (rec.reason === undefined) delete rec.reason;
    if (rec.source === undefined) delete rec.source;
    this.imports.set(key, rec);
    if (rec.class === 'dangerous') {
      this.add({
        severity: 'dangerous',
        rule: 'import-dangerous',
        entry,
        offset: ev.offset,
        opcode: ev.opcode,
        module,
        name,
        message: `imports ${key}: ${threat?.reason}`,
      });
    } else if (rec.class !== 'allowed') {
      this.add({
        severity: 'suspicious',
        rule: 'import-not-allowed',
        entry,
        offset: ev.offset,
        opcode: ev.opcode,
        module,
        name,
        message:
          rec.class === 'harmless'
            ? `imports ${key}, which torch ${this.target} does not allow under weights_only by default (Brine's vetted list holds it as harmless)`
            : `imports ${key}, which torch ${this.target} does not allow under weights_only`,
      });
    }
    return rec;
  }

  /**
   * `full` is called while loading (by `how`: REDUCE, NEWOBJ, INST, OBJ, BUILD, EXT, or ARGUMENT when a call that
   * calls what it is given receives it). A callable every victim has that is not known to be harmless becomes
   * dangerous: what it does is the attacker's to choose.
   */
  markCalled(full: string, how: string, at: { entry: string | null; offset: number; opcode: string }): void {
    const rec = this.imports.get(full);
    if (!rec) return;
    if (!rec.calls.includes(how)) rec.calls.push(how);
    if (rec.class !== 'suspicious' || rec.origin === 'other' || CHAINED_LOADERS.has(full)) return;
    rec.class = 'dangerous';
    rec.reason = `not known to be harmless: ${full} is in ${ORIGIN_WORDS[rec.origin]}, which every process that loads a checkpoint has, and is not on Brine's vetted list of harmless constructors, so calling it does whatever the file's arguments make it do`;
    rec.source = VETTED_SOURCE;
    this.add({
      severity: 'dangerous',
      rule: 'call-not-vetted',
      entry: at.entry,
      offset: at.offset,
      opcode: at.opcode,
      module: rec.module,
      name: rec.name,
      message: `${how === 'ARGUMENT' ? 'passes' : 'calls'} ${full} ${how === 'ARGUMENT' ? 'to a call that calls it' : `(${how})`}: not known to be harmless (it is not on Brine's vetted list, and every victim's process has it)`,
    });
  }

  worstSeverity(): Severity | null {
    let worst: Severity | null = null;
    for (const f of this.findings)
      if (worst === null || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]) worst = f.severity;
    return worst;
  }
}
