/** The scan report: one JSON shape for `brine scan --json`, the API, webhooks and the dashboard. */

export const TORCH_VERSIONS = ['1.13', '2.6', '2.14'] as const;
export type TorchVersion = (typeof TORCH_VERSIONS)[number];
export const DEFAULT_TARGET: TorchVersion = '2.14';

export function isTorchVersion(v: string): v is TorchVersion {
  return (TORCH_VERSIONS as readonly string[]).includes(v);
}

export type Verdict = 'safe' | 'suspicious' | 'dangerous' | 'unknown';

export type Kind =
  | 'state_dict'
  | 'checkpoint'
  | 'full_model'
  | 'tensor'
  | 'torchscript'
  | 'safetensors'
  | 'onnx'
  | 'gguf'
  | 'pickle'
  | 'unknown';

export type Format =
  | 'torch-zip'
  | 'torch-legacy'
  | 'torch-tar'
  | 'torchscript'
  | 'torch-package'
  | 'torch-export'
  | 'pickle'
  | 'safetensors'
  | 'onnx'
  | 'gguf'
  | 'numpy'
  | 'unknown';

/**
 * dangerous: a known code-execution primitive or a structural attack;
 * suspicious: outside the allowlist but not known to be hostile, or a refusal by torch that hides nothing;
 * unknown: something could not be parsed or recognised — never safe;
 * info: context that changes nothing about the verdict.
 */
export type Severity = 'dangerous' | 'suspicious' | 'unknown' | 'info';

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  dangerous: 3,
  suspicious: 2,
  unknown: 1,
  info: 0,
};

export interface Finding {
  severity: Severity;
  /** stable identifier, e.g. `import-dangerous`, `zip-name-mismatch`, `frame-straddle` */
  rule: string;
  /** archive entry (zip record, tar member, numpy array) or null for the file itself */
  entry: string | null;
  /** absolute byte offset in the file (or in the inflated entry when the entry is compressed) */
  offset: number | null;
  opcode: string | null;
  module: string | null;
  name: string | null;
  message: string;
}

/**
 * allowed: torch's weights-only unpickler allows it on the target version (default, import-time or operator lists);
 * harmless: torch refuses it by default, and Brine's vetted list (or torch's own list on another version) proves it
 *   harmless — a recipe may allow it;
 * suspicious: from a module a default install does not have (the user's code, a third-party package), or from the
 *   standard library, numpy or torch without being called while loading;
 * dangerous: known to run code, or a callable from the standard library, numpy or torch that is called while loading
 *   and is not known to be harmless.
 */
export type ImportClass = 'allowed' | 'harmless' | 'suspicious' | 'dangerous';

/** where a module comes from: the standard library, numpy and torch are in every process that loads a checkpoint */
export type ImportOrigin = 'stdlib' | 'numpy' | 'torch' | 'other';

export interface ImportRecord {
  /** module and name after the Python 2 mapping the loader applies */
  module: string;
  name: string;
  /** as spelled in the stream, when different */
  raw?: { module: string; name: string };
  class: ImportClass;
  origin: ImportOrigin;
  /** allowed by torch.load(weights_only=True) of each version (default + import-time + operator allowlists) */
  allowedBy: Record<TorchVersion, boolean>;
  /** how the object was used: REDUCE, NEWOBJ, BUILD …, ARGUMENT (passed to a call that calls what it is given) */
  calls: string[];
  count: number;
  first: { entry: string | null; offset: number; opcode: string };
  /** why it is graded as it is: what it does, why it is harmless, or why Brine cannot vouch for it */
  reason?: string;
  /** where that knowledge comes from: an advisory, a scanner's list, Brine's gadget scan, Brine's vetted list */
  source?: string;
}

export interface TensorRecord {
  name: string;
  dtype: string;
  shape: number[];
  numel: number;
  /** bytes of the tensor's elements (not of its storage) */
  bytes: number;
  /** zip record or legacy storage key, when known */
  storage?: string;
  /** the storage record's CRC-32 (8 hex digits) and size in the zip's central directory: what diffs compare */
  storageCrc32?: string;
  storageBytes?: number;
  device?: string;
  parameter?: boolean;
}

export interface TensorInventory {
  count: number;
  parameters: number;
  bytes: number;
  byDtype: Record<string, { count: number; numel: number; bytes: number }>;
  /** listed tensors (capped; `truncated` says so) */
  items: TensorRecord[];
  truncated: boolean;
}

export interface VersionResult {
  loads: boolean;
  /** the exception torch.load would raise, worded like PyTorch's message */
  reason: string | null;
  /**
   * for an unsupported global that is not hostile: what to pass to add_safe_globals, present only where the version's
   * load recipe loads the file allowing it (the recipe names every global it needs)
   */
  fix?: string;
  /** true when the prediction relies on behaviour we model approximately */
  uncertain?: boolean;
  /** what else this load does, e.g. torch 1.13 running a TorchScript archive's code through torch.jit.load */
  note?: string;
}

export interface WeightsOnlyReport {
  target: TorchVersion;
  safe: boolean;
  byVersion: Record<TorchVersion, VersionResult>;
  /** globals an operator added (as torch.serialization.add_safe_globals does) */
  extraAllowed: string[];
}

/** how to load the file safely on one torch version, or why no safe way exists */
export interface LoadRecipe {
  /** the code below loads it on this version without running anything from the file */
  loads: boolean;
  /** Python that loads it safely, or null when there is no safe way */
  code: string | null;
  /** globals the code allows (module.Name): only entries of Brine's vetted list of harmless constructors */
  safeGlobals: string[];
  /** what else to know: why there is no safe way, devices, warnings */
  notes: string[];
  /**
   * when the only obstacle is code of the user's own (or a third-party package's) that Brine cannot vouch for: the
   * code that loads the file trusting those names, which the user must decide to run (`loads` stays false)
   */
  ifTrusted?: {
    code: string;
    /** the names that are trusted, not vetted */
    trust: string[];
    /** every global the code allows: the vetted ones and the trusted ones */
    safeGlobals: string[];
  };
}

export interface ScanReport {
  path: string;
  size: number;
  sha256: string | null;
  format: Format;
  kind: Kind;
  verdict: Verdict;
  /** one sentence a person can act on */
  summary: string;
  weightsOnly: WeightsOnlyReport;
  /** how to load it safely, per torch version */
  howToLoad: Record<TorchVersion, LoadRecipe>;
  findings: Finding[];
  imports: ImportRecord[];
  tensors: TensorInventory;
  /** archive entries and pickles that were scanned */
  entries: EntryRecord[];
  /** extra facts per format (safetensors metadata, ONNX producer, GGUF architecture, zip records …) */
  details: Record<string, unknown>;
  stats: { bytesRead: number; reads: number; opcodes: number; millis: number };
  scanner: { version: string };
}

export interface EntryRecord {
  name: string;
  role: string;
  size: number;
  compressed?: boolean;
  scanned: boolean;
  /** pickle protocol, for pickles */
  protocol?: number;
  opcodes?: number;
  complete?: boolean;
}
