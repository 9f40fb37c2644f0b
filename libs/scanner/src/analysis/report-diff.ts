import type { ImportClass, ScanReport, Severity, TensorRecord, TorchVersion, Verdict } from '../report';
import { TORCH_VERSIONS } from '../report';

/**
 * What changed between two scanned versions of a checkpoint, from their reports alone: no tensor data is read.
 * Tensors match by name; their bytes are compared through the storage records' CRC-32 and size from the zip's
 * central directory (a tensor whose record is the same is unchanged; one without a checksum — a legacy file —
 * is "unknown"). Also the imports, findings, verdicts and weights-only outcomes that differ.
 */

/** each list holds at most this many names (the counts are always whole) */
export const DIFF_LIST_LIMIT = 500;

export interface TensorBrief {
  name: string;
  dtype: string;
  shape: number[];
  numel: number;
}

export interface ReportDiff {
  complete: boolean;
  incompleteBecause: string[];
  counts: {
    added: number;
    removed: number;
    reshaped: number;
    bytesChanged: number;
    unchanged: number;
    unknown: number;
  };
  tensors: {
    added: TensorBrief[];
    removed: TensorBrief[];
    /** dtype or shape changed */
    reshaped: Array<{ name: string; from: TensorBrief; to: TensorBrief }>;
    /** same dtype and shape, different bytes */
    bytesChanged: string[];
    /** no checksum to compare (not a zip) */
    unknown: string[];
  };
  parameters: { from: number; to: number; delta: number };
  verdict: { from: Verdict; to: Verdict; changed: boolean };
  weightsOnly: Array<{ torch: TorchVersion; from: boolean; to: boolean }>;
  imports: {
    added: Array<{ module: string; name: string; class: ImportClass }>;
    removed: Array<{ module: string; name: string; class: ImportClass }>;
  };
  findings: {
    added: Array<{ rule: string; severity: Severity; message: string }>;
    removed: Array<{ rule: string; severity: Severity; message: string }>;
  };
  /** the changes a person should read first, as sentences */
  summary: string[];
}

const brief = (t: TensorRecord): TensorBrief => ({
  name: t.name,
  dtype: t.dtype,
  shape: t.shape,
  numel: t.numel,
});
const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const cap = <T>(xs: T[]): T[] => xs.slice(0, DIFF_LIST_LIMIT);

export function diffReports(from: ScanReport, to: ScanReport): ReportDiff {
  const incomplete: string[] = [];
  if (from.tensors.truncated) incomplete.push('the first version lists only some of its tensors');
  if (to.tensors.truncated) incomplete.push('the second version lists only some of its tensors');
  const a = new Map(from.tensors.items.map((t) => [t.name, t]));
  const b = new Map(to.tensors.items.map((t) => [t.name, t]));
  const added: TensorBrief[] = [];
  const removed: TensorBrief[] = [];
  const reshaped: ReportDiff['tensors']['reshaped'] = [];
  const bytesChanged: string[] = [];
  const unknown: string[] = [];
  let unchanged = 0;
  for (const [name, t] of b) if (!a.has(name)) added.push(brief(t));
  for (const [name, t] of a) {
    const u = b.get(name);
    if (!u) {
      removed.push(brief(t));
      continue;
    }
    if (t.dtype !== u.dtype || !sameShape(t.shape, u.shape)) {
      reshaped.push({ name, from: brief(t), to: brief(u) });
      continue;
    }
    if (t.storageCrc32 === undefined || u.storageCrc32 === undefined) unknown.push(name);
    else if (t.storageCrc32 !== u.storageCrc32 || t.storageBytes !== u.storageBytes) bytesChanged.push(name);
    else unchanged++;
  }
  if (unknown.length > 0) incomplete.push(`${unknown.length} tensor(s) have no storage checksum to compare`);

  const key = (i: { module: string; name: string }) => `${i.module}.${i.name}`;
  const importsA = new Map(from.imports.map((i) => [key(i), i]));
  const importsB = new Map(to.imports.map((i) => [key(i), i]));
  const pick = (i: { module: string; name: string; class: ImportClass }) => ({
    module: i.module,
    name: i.name,
    class: i.class,
  });
  const importsAdded = [...importsB.values()].filter((i) => !importsA.has(key(i))).map(pick);
  const importsRemoved = [...importsA.values()].filter((i) => !importsB.has(key(i))).map(pick);

  const fkey = (f: { rule: string; entry: string | null; module: string | null; name: string | null }) =>
    `${f.rule}|${f.entry ?? ''}|${f.module ?? ''}.${f.name ?? ''}`;
  const findingsA = new Set(from.findings.map(fkey));
  const findingsB = new Set(to.findings.map(fkey));
  const fpick = (f: { rule: string; severity: Severity; message: string }) => ({
    rule: f.rule,
    severity: f.severity,
    message: f.message,
  });
  const findingsAdded = to.findings.filter((f) => !findingsA.has(fkey(f))).map(fpick);
  const findingsRemoved = from.findings.filter((f) => !findingsB.has(fkey(f))).map(fpick);

  const weightsOnly = TORCH_VERSIONS.filter(
    (v) => from.weightsOnly.byVersion[v].loads !== to.weightsOnly.byVersion[v].loads,
  ).map((v) => ({
    torch: v,
    from: from.weightsOnly.byVersion[v].loads,
    to: to.weightsOnly.byVersion[v].loads,
  }));

  const summary: string[] = [];
  if (from.verdict !== to.verdict) summary.push(`the verdict went from ${from.verdict} to ${to.verdict}`);
  for (const i of importsAdded.filter((x) => x.class === 'dangerous' || x.class === 'suspicious'))
    summary.push(`started importing ${i.module}.${i.name} (${i.class})`);
  for (const w of weightsOnly)
    summary.push(`torch ${w.torch} ${w.to ? 'now loads it' : 'no longer loads it'} with weights_only=True`);
  if (added.length || removed.length)
    summary.push(`${added.length} tensor(s) added, ${removed.length} removed`);
  if (reshaped.length) summary.push(`${reshaped.length} tensor(s) changed dtype or shape`);
  summary.push(
    `${bytesChanged.length} tensor(s) with new values, ${unchanged} unchanged` +
      (unknown.length ? `, ${unknown.length} not comparable` : ''),
  );

  return {
    complete: incomplete.length === 0,
    incompleteBecause: incomplete,
    counts: {
      added: added.length,
      removed: removed.length,
      reshaped: reshaped.length,
      bytesChanged: bytesChanged.length,
      unchanged,
      unknown: unknown.length,
    },
    tensors: {
      added: cap(added),
      removed: cap(removed),
      reshaped: cap(reshaped),
      bytesChanged: cap(bytesChanged),
      unknown: cap(unknown),
    },
    parameters: {
      from: from.tensors.parameters,
      to: to.tensors.parameters,
      delta: to.tensors.parameters - from.tensors.parameters,
    },
    verdict: { from: from.verdict, to: to.verdict, changed: from.verdict !== to.verdict },
    weightsOnly,
    imports: { added: cap(importsAdded), removed: cap(importsRemoved) },
    findings: { added: cap(findingsAdded), removed: cap(findingsRemoved) },
    summary,
  };
}
