import curated from '../../data/gadgets.curated.json';

/**
 * Grades imports that the allowlist refused. The allowlist alone decides "safe"; these lists only separate what
 * can run code, start processes, write files, open sockets or load another pickle ("dangerous") from the merely
 * unexpected ("suspicious", e.g. a pickled nn.Module class). A name missing here is never treated as safe.
 *
 * Two lists, both data with a source for each entry (libs/scanner/data):
 *  - gadgets.curated.json: hostile modules and known gadgets from advisories, other scanners and reviews;
 *  - gadgets.scanned.json: the call-graph scan of the standard library, torch and numpy under every modelled
 *    interpreter (scripts/gadgets/find_gadgets.py). It is large, so it is loaded on first use: benign files,
 *    whose imports are all allowlisted, never need it.
 */

export interface ThreatMatch {
  readonly reason: string;
  /** where the entry comes from (an advisory, a scanner's list, the gadget scan) */
  readonly source: string;
  /** found by the call-graph scan (a heuristic a reviewed entry of the vetted list may answer), not kept by hand */
  readonly scanned?: boolean;
}

interface ScannedGadgets {
  source: string;
  scanned: Array<{ python: string; torch: string | null }>;
  sinks: Record<string, string>;
  gadgets: Record<string, Record<string, string>>;
}

function table(entries: string[][]): Map<string, ThreatMatch> {
  return new Map(entries.map(([key, reason, source]) => [key, { reason, source }]));
}
const modules = table(curated.modules);
const names = table(curated.names);

let scanned: ScannedGadgets | null = null;
function scannedGadgets(): ScannedGadgets {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  scanned ??= require('../../data/gadgets.scanned.json') as ScannedGadgets;
  return scanned;
}

function scannedMatch(full: string): ThreatMatch | null {
  const s = scannedGadgets();
  const dot = full.indexOf('.');
  if (dot < 0) return null;
  const codes = s.gadgets[full.slice(0, dot)]?.[full.slice(dot + 1)];
  if (!codes) return null;
  const interpreters = s.scanned
    .map((x) => `Python ${x.python}${x.torch ? `/torch ${x.torch}` : ''}`)
    .join(', ');
  return {
    reason: [...codes].map((c) => s.sinks[c] ?? c).join('; '),
    source: `${s.source} (${interpreters})`,
    scanned: true,
  };
}

/** chained loaders whose argument we can scan ourselves: suspicious when the inner payload is clean */
export const CHAINED_LOADERS: ReadonlySet<string> = new Set(['torch.storage._load_from_bytes']);

/** Known-hostile? Checks the name, its modules, and every dotted continuation (`pathlib` + `os.system`). */
export function threatOf(module: string, name: string): ThreatMatch | null {
  if (CHAINED_LOADERS.has(`${module}.${name}`)) return null;
  const candidates = [`${module}.${name}`];
  // STACK_GLOBAL 'pathlib' 'os.system' walks attributes: any dotted suffix can be the real target
  const parts = name.split('.');
  for (let i = 1; i < parts.length; i++) candidates.push(parts.slice(i).join('.'));
  if (parts.length > 1) candidates.push(name);
  for (const full of candidates) {
    const exact = names.get(full);
    if (exact) return exact;
    const segs = full.split('.');
    for (let k = segs.length - 1; k >= 1; k--) {
      const m = modules.get(segs.slice(0, k).join('.'));
      if (m) return m;
    }
    const found = scannedMatch(full);
    if (found) return found;
  }
  if (parts.length > 1 && parts.some((p) => p.startsWith('__') && p.endsWith('__') && p !== '__init__')) {
    return { reason: 'dunder attribute walk reaches interpreter internals', source: 'brine-review' };
  }
  return null;
}
