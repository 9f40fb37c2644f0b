import type { ByteSource } from '@brine/bytes';
import { scan, type ScanCapture, type ScanInput, type ScanReport } from '@brine/scanner';
import { BlockCachedSource } from './block-cache';
import { twinBytes } from './tensor-bytes';
import { NoTwin, planTwin, type TwinPlan, type TwinTensor } from './twin-plan';

/** the scan behind a twin keeps up to this many values (a state dict of ~200 k tensors); beyond, no twin */
export const TWIN_RETAINED_ITEMS = 1_000_000;

export type TwinPreparation =
  | { report: ScanReport; plan: TwinPlan; bytes: () => AsyncGenerator<Buffer> }
  | { report: ScanReport; plan: null; reason: string };

/**
 * Scans `source` and, when the scan finds it safe, plans its safetensors twin from what the scan read. `bytes()`
 * then streams the twin (header, then every tensor in file order) with range reads of `source`. The registry's
 * worker and the tests run exactly this.
 */
export async function prepareTwin(
  source: ByteSource,
  input: ScanInput,
  metadata: Record<string, string>,
): Promise<TwinPreparation> {
  const capture: ScanCapture = {};
  // the twin needs every entry of the state dict kept, not just what a verdict needs
  const limits = { maxRetainedItems: TWIN_RETAINED_ITEMS, ...input.limits };
  const report = await scan(source, { ...input, limits, capture });
  if (report.verdict !== 'safe') return { report, plan: null, reason: `its scan found it ${report.verdict}` };
  if (report.format !== 'torch-zip')
    return {
      report,
      plan: null,
      reason: `a ${report.format} file is not converted (only torch zip files are)`,
    };
  let plan: TwinPlan;
  try {
    plan = planTwin({
      kind: report.kind,
      capture,
      byteorder: report.findings.some((f) => f.rule === 'big-endian') ? 'big' : 'little',
      metadata,
    });
  } catch (e) {
    if (e instanceof NoTwin) return { report, plan: null, reason: e.message };
    throw e;
  }
  const zip = capture.zip!;
  const starts = new Map<number, number>();
  return {
    report,
    plan,
    bytes: async function* () {
      const source = new BlockCachedSource(zip.source);
      const dataStart = async (t: TwinTensor): Promise<number> => {
        let s = starts.get(t.entry.index);
        if (s === undefined) {
          s = await zip.dataOffset(t.entry, source);
          starts.set(t.entry.index, s);
        }
        return s;
      };
      yield* twinBytes(plan, source, dataStart);
    },
  };
}
