import { SEVERITY_RANK, type Format, type ScanReport, type Verdict } from '@brine/scanner/report';
import { UsageError } from './usage-error';

/**
 * When `brine scan` fails: the verdict it fails on (`--fail-on`), and the formats judged by what they hold rather
 * than by torch.load (`--allow-format`).
 *
 * A verdict is about torch.load(weights_only=True): a plain `np.save` array, an ONNX or GGUF model is "suspicious"
 * only because torch.load refuses it — its own loader (np.load(allow_pickle=False), onnxruntime, llama.cpp) reads
 * it without unpickling anything. For an allowed format that refusal is not held against the file; every other
 * finding still is (an object array's pickle, an external-data path out of the folder, a chat-template payload),
 * and a file that could not be fully parsed is never accepted.
 */

/** the verdicts --fail-on takes, from the most to the least lenient: each fails on itself and everything worse */
export const FAIL_ON = ['dangerous', 'suspicious', 'unknown'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** formats whose loaders unpickle nothing, which --allow-format may judge by their contents */
export const ALLOWABLE_FORMATS = [
  'numpy',
  'safetensors',
  'onnx',
  'gguf',
] as const satisfies readonly Format[];
type AllowableFormat = (typeof ALLOWABLE_FORMATS)[number];

export interface ScanPolicy {
  failOn: FailOn;
  allowFormats: ReadonlySet<Format>;
}

/** the rule the scanner adds when the target torch refuses a file with weights_only=True */
const REFUSED = 'weights-only-refused';

/** --fail-on and --allow-format (repeatable, or comma-separated) as a policy; a UsageError when they are wrong */
export function scanPolicy(failOn: string | undefined, allowFormats: string[]): ScanPolicy {
  const f = failOn ?? 'unknown';
  if (!(FAIL_ON as readonly string[]).includes(f))
    throw new UsageError(`--fail-on must be one of ${FAIL_ON.join(', ')}, not "${f}"`);
  const formats = new Set<Format>();
  for (const a of allowFormats.flatMap((x) => x.split(',')).map((x) => x.trim())) {
    if (!(ALLOWABLE_FORMATS as readonly string[]).includes(a))
      throw new UsageError(
        `--allow-format takes ${ALLOWABLE_FORMATS.join(', ')} (formats read without unpickling), not "${a}"`,
      );
    formats.add(a as AllowableFormat);
  }
  return { failOn: f as FailOn, allowFormats: formats };
}

/**
 * The verdict the policy holds the file to: the scanner's, except that a file of an allowed format that is
 * suspicious only because torch.load refuses it counts as safe.
 */
export function policyVerdict(r: ScanReport, p: ScanPolicy): Verdict {
  if (r.verdict !== 'suspicious' || !p.allowFormats.has(r.format)) return r.verdict;
  const others = r.findings.filter((x) => x.rule !== REFUSED && x.severity !== 'info');
  return others.length === 0 ? 'safe' : r.verdict;
}

/** whether the policy fails on this file */
export function fails(r: ScanReport, p: ScanPolicy): boolean {
  const v = policyVerdict(r, p);
  return v !== 'safe' && SEVERITY_RANK[v] >= SEVERITY_RANK[p.failOn];
}
