import vetted from '../../data/harmless.json';
import type { ImportOrigin, TorchVersion } from '../report';

/**
 * Allow by proof. Brine's vetted list of harmless constructors (libs/scanner/data/harmless.json, written by
 * scripts/harmless/entries.py): classes and functions whose every path an unpickler can reach runs no code from the
 * file and touches no file, process, socket, environment, signal, interpreter-wide state or native library, each with
 * the reason read from its source. harmless.reviewed.json (scripts/harmless/update.sh) fingerprints those paths under
 * every modelled interpreter; a test fails when one changes, so the entry is read again.
 *
 * Two uses:
 *  - a load recipe (and the Python client) may put into safe_globals only entries of this list (`recipe` not false)
 *    that exist in the torch version's interpreter;
 *  - grading: every victim process has the standard library, numpy and torch (and what pip installs with torch), so
 *    a callable from those that is called while loading and is on neither this list nor torch's own allowlists is
 *    graded dangerous — "not known to be harmless". Names from anywhere else (the user's code, third-party packages)
 *    need the victim to ship that code: suspicious.
 */

export interface HarmlessEntry {
  readonly global: string;
  readonly kind: 'class' | 'function' | 'constant';
  /** why it is harmless, from its source */
  readonly reason: string;
  /** "arguments": it calls (now or later) callables it is given, so those count as called */
  readonly calls: 'arguments' | 'none';
  /** false: harmless to have called by a plain unpickler, but never put in a recipe */
  readonly recipe?: boolean;
  readonly note?: string;
  /** why the entry stands although scripts/gadgets' call graph reaches a sink through it */
  readonly gadgetScan?: string;
}

interface ReviewedRuntime {
  python: string;
  numpy: string;
  torch: string;
  stdlib: string[];
  packages: string[];
  reviewed: Record<string, Record<string, string>>;
}

interface Reviewed {
  runtimes: Record<TorchVersion, ReviewedRuntime>;
}

const ENTRIES: ReadonlyMap<string, HarmlessEntry> = new Map(
  (vetted.entries as HarmlessEntry[]).map((e) => [e.global, e]),
);

let reviewed: Reviewed | null = null;
function reviewedData(): Reviewed {
  // 200 KB of fingerprints: loaded when a file imports something torch does not allow, never for benign weights
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  reviewed ??= require('../../data/harmless.reviewed.json') as Reviewed;
  return reviewed;
}

let defaultModules: { stdlib: ReadonlySet<string>; packages: ReadonlySet<string> } | null = null;
function modules(): { stdlib: ReadonlySet<string>; packages: ReadonlySet<string> } {
  if (!defaultModules) {
    const rts = Object.values(reviewedData().runtimes);
    defaultModules = {
      stdlib: new Set(rts.flatMap((r) => r.stdlib)),
      packages: new Set(rts.flatMap((r) => r.packages)),
    };
  }
  return defaultModules;
}

/** the vetted entry for module.name, if any */
export function harmlessEntry(full: string): HarmlessEntry | undefined {
  return ENTRIES.get(full);
}

/** whether a recipe for torch `v` may put `full` into safe_globals: vetted, recommendable, present in v's interpreter */
export function recipeGlobal(full: string, v: TorchVersion): boolean {
  const e = ENTRIES.get(full);
  return e !== undefined && e.recipe !== false && full in reviewedData().runtimes[v].reviewed;
}

/** every global a recipe for torch `v` may allow (the Python client's list is generated from this) */
export function recipeGlobals(v: TorchVersion): string[] {
  return [...ENTRIES.keys()].filter((g) => recipeGlobal(g, v)).sort();
}

/** the interpreters the list was reviewed under, by torch version */
export function reviewedRuntimes(): Record<TorchVersion, { python: string; numpy: string; torch: string }> {
  const out = {} as Record<TorchVersion, { python: string; numpy: string; torch: string }>;
  for (const [v, r] of Object.entries(reviewedData().runtimes) as Array<[TorchVersion, ReviewedRuntime]>)
    out[v] = { python: r.python, numpy: r.numpy, torch: r.torch };
  return out;
}

/**
 * Where a module comes from, from the victim's point of view: the standard library, numpy or torch (or a package pip
 * installs with torch) are in every process that loads a checkpoint; anything else has to be shipped by the victim.
 */
export function originOf(module: string): ImportOrigin {
  const top = module.split('.')[0];
  if (top === '__main__' || top === '__torch__') return 'other';
  const m = modules();
  if (m.stdlib.has(top)) return 'stdlib';
  if (top === 'numpy') return 'numpy';
  if (m.packages.has(top)) return 'torch';
  return 'other';
}

export const ORIGIN_WORDS: Readonly<Record<ImportOrigin, string>> = {
  stdlib: "Python's standard library",
  numpy: 'numpy',
  torch: 'torch (or a package installed with it)',
  other: 'a module a default install does not have',
};

/**
 * The name torch's add_safe_globals gives the object behind `full` in torch `v`'s interpreter (its __module__ and
 * __qualname__). Where it is not `full` (numpy.core aliases, pathlib's private module), a recipe passes the tuple
 * form (object, "full"). Names outside the vetted list are taken as they are.
 */
export function safeGlobalName(full: string, v: TorchVersion): string {
  return reviewedData().runtimes[v].reviewed[full]?.name ?? full;
}
