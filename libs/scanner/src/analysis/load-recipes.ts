import { OPCODES } from '@brine/pickle/opcodes';
import { PyDict, PyTensor, pyStr, type PyValue } from '@brine/pickle/values';
import type { ImportRecord, Kind, LoadRecipe, ScanReport, TorchVersion } from '../report';
import { TORCH_VERSIONS } from '../report';
import { PROFILES } from '../torch/profiles';
import { harmlessEntry, ORIGIN_WORDS, recipeGlobal, reviewedRuntimes, safeGlobalName } from './harmless';

const reviewedWith = (v: TorchVersion) => {
  const r = reviewedRuntimes()[v];
  return `Python ${r.python}, numpy ${r.numpy}`;
};

/**
 * How to load a scanned file safely, per torch version: the exact code, or why there is no safe way. Derived from
 * what the scan found — the format and kind, each version's weights-only outcome (and, for globals a version
 * refuses, the outcome with them allowed), where the tensors were saved, and the keys of a training checkpoint.
 *
 * Advice by proof: a recipe puts into safe_globals only entries of Brine's vetted list of harmless constructors
 * (./harmless.ts). Anything else the file needs makes the recipe say there is no safe way and why; names from the
 * user's own code (or a third-party package) get `ifTrusted`, the code the user would have to decide to run.
 */

/** what the top-level object holds, for the recipe of a checkpoint */
export interface RootLayout {
  /** keys of the top-level dict whose values are state dicts, with what they seem to be */
  stateDicts: Array<{ key: string; role: 'model' | 'optimizer' | 'other' }>;
}

export function rootLayout(root: PyValue | undefined): RootLayout {
  const out: RootLayout = { stateDicts: [] };
  if (!(root instanceof PyDict)) return out;
  root.keys.forEach((k, i) => {
    const v = root.values[i];
    if (!(v instanceof PyDict) || v.keys.length === 0) return;
    const key = pyStr(k);
    const keys = v.keys.map((x) => pyStr(x));
    if (keys.includes('state') && keys.includes('param_groups'))
      out.stateDicts.push({ key, role: 'optimizer' });
    else if (v.values.some((x) => x instanceof PyTensor))
      out.stateDicts.push({ key, role: /optim/i.test(key) ? 'optimizer' : 'model' });
  });
  return out;
}

const py = (s: string) => JSON.stringify(s);

/**
 * The import lines and the safe_globals items for dotted globals. An object whose own name (what add_safe_globals
 * records) differs from the name in the file is passed as (object, "name"), which torch 2.4+ accepts.
 */
function globalsCode(globals: string[], v: TorchVersion): { lines: string[]; items: string[] } {
  const lines: string[] = [];
  const items: string[] = [];
  const used = new Set<string>();
  for (const g of globals) {
    const dot = g.lastIndexOf('.');
    const module = g.slice(0, dot);
    const name = g.slice(dot + 1);
    let local = name;
    for (let i = 2; used.has(local); i++) local = `${name}_${i}`;
    used.add(local);
    if (module !== 'builtins')
      lines.push(`from ${module} import ${name}${local === name ? '' : ` as ${local}`}`);
    const own = safeGlobalName(g, v);
    items.push(own === g ? local : `(${local}, ${py(g)})`);
  }
  return { lines: [...new Set(lines)], items };
}

function loadLines(kind: Kind, layout: RootLayout, file: string, indent = ''): string[] {
  const load = (v: string) =>
    `${indent}${v} = torch.load(${py(file)}, map_location="cpu", weights_only=True)`;
  if (kind === 'tensor') return [load('tensor')];
  if (kind === 'full_model') return [load('model')];
  if (kind === 'checkpoint' && layout.stateDicts.length > 0) {
    const lines = [load('checkpoint')];
    for (const s of layout.stateDicts) {
      const target = s.role === 'optimizer' ? 'optimizer' : s.role === 'model' ? 'model' : `# ${s.key}:`;
      lines.push(
        s.role === 'other'
          ? `${indent}${target} checkpoint[${py(s.key)}]`
          : `${indent}${target}.load_state_dict(checkpoint[${py(s.key)}])`,
      );
    }
    return lines;
  }
  if (kind === 'checkpoint') return [load('checkpoint'), `${indent}# take what you need from the dict`];
  if (kind === 'state_dict') return [load('state_dict'), `${indent}model.load_state_dict(state_dict)`];
  return [load('obj')];
}

/** what follows the load: eval() for models, nothing for other objects */
function tail(kind: Kind): string[] {
  return kind === 'state_dict' || kind === 'checkpoint' || kind === 'full_model'
    ? ['model.eval()  # before inference']
    : [];
}

function deviceNotes(devices: string[]): string[] {
  const gpu = devices.filter((d) => d !== 'cpu');
  if (gpu.length === 0) return [];
  return [
    `the tensors were saved on ${gpu.join(', ')}: map_location="cpu" (in the code) loads them on a machine without that device; use map_location="cuda" to put them on your GPU`,
  ];
}

export interface RecipeInputs {
  report: Pick<ScanReport, 'format' | 'kind' | 'verdict' | 'weightsOnly' | 'imports'>;
  layout: RootLayout;
  devices: string[];
  /**
   * each version's outcome (and its refusal) with `recipeCandidates()` (and `builtClasses`) allowed as well; null
   * when not tried
   */
  withGlobals: Record<TorchVersion, { loads: boolean; reason: string | null }> | null;
  /** classes of objects those globals make that torch's BUILD must also find allowed (numpy's dtype classes) */
  builtClasses: string[];
  file?: string;
}

/** whether torch `v` allows the import without anything added (its default and import-time lists) */
function defaultAllows(i: ImportRecord, v: TorchVersion): boolean {
  const p = PROFILES[v];
  const m = p.mapsPython2Names ? i.module : (i.raw?.module ?? i.module);
  const n = p.mapsPython2Names ? i.name : (i.raw?.name ?? i.name);
  const full = `${m}.${n}`;
  return !p.blockedModules.has(m) && (p.allowed.has(full) || p.importTime.has(full));
}

/** the globals the file needs that torch `v` does not allow by default: what its safe_globals would have to hold */
export function neededGlobals(imports: ImportRecord[], v: TorchVersion): ImportRecord[] {
  return imports.filter((i) => !defaultAllows(i, v));
}

/** names from outside a default install (the user's code, third-party packages): trusted or not, never vetted */
const isOwnCode = (i: ImportRecord) => i.origin === 'other' && i.class !== 'dangerous';

/** the globals a second scan allows to check the recipes: vetted ones and the user's own names, on any version */
export function recipeCandidates(imports: ImportRecord[]): string[] {
  const out = new Set<string>();
  for (const v of TORCH_VERSIONS)
    for (const i of neededGlobals(imports, v)) {
      const full = `${i.module}.${i.name}`;
      if (recipeGlobal(full, v) || isOwnCode(i)) out.add(full);
    }
  return [...out];
}

export function loadRecipes(x: RecipeInputs): Record<TorchVersion, LoadRecipe> {
  const out = {} as Record<TorchVersion, LoadRecipe>;
  for (const v of TORCH_VERSIONS) out[v] = recipe(x, v);
  return out;
}

function none(why: string, notes: string[] = []): LoadRecipe {
  return { loads: false, code: null, safeGlobals: [], notes: [why, ...notes] };
}

/** the first opcode the version's unpickler refused, and the fix that works on that version */
function opcodeAdvice(reason: string | null, v: TorchVersion): string | null {
  const m = /Unsupported operand (\d+)/.exec(reason ?? '');
  if (!m) return null;
  const code = Number(m[1]);
  const op = OPCODES[code]?.name ?? `opcode ${code}`;
  const what =
    op === 'BINFLOAT'
      ? ' (a Python float in the file, such as a loss or a learning rate)'
      : op === 'FRAME'
        ? ' (written by pickle protocol 4 or 5, e.g. torch.save(..., pickle_protocol=4))'
        : '';
  const later = TORCH_VERSIONS.filter((w) => PROFILES[w].accepts[code] === 1);
  const fix =
    later.length > 0
      ? `use torch ${later[0]} or later, whose weights-only unpickler supports it`
      : op === 'FRAME'
        ? "re-save it where it was made with torch.save's default protocol (2: leave out pickle_protocol) and push that"
        : `re-save it where it was made without ${op} (torch.save with its default protocol writes none) and push that`;
  return `no safe way on torch ${v}: its weights-only unpickler does not support ${op}${what}; ${fix}`;
}

function recipe(x: RecipeInputs, v: TorchVersion): LoadRecipe {
  const { report, layout } = x;
  const file = x.file ?? 'model.pt';
  if (report.verdict === 'dangerous')
    return none(
      'no safe way: the file would run code when loaded. Do not load it; nothing here is to be run.',
    );
  if (report.verdict === 'unknown')
    return none(
      'no safe way: Brine could not read this file to the end (see the findings), so no loader is known to accept it safely',
    );
  const notes = deviceNotes(x.devices);
  switch (report.format) {
    case 'safetensors':
      return {
        loads: true,
        code: [
          'from safetensors.torch import load_file',
          '',
          `state_dict = load_file(${py(file.replace(/\.\w+$/, '.safetensors'))}, device="cpu")`,
          'model.load_state_dict(state_dict)',
          'model.eval()',
        ].join('\n'),
        safeGlobals: [],
        notes: ['safetensors holds tensors only: loading it runs no code'],
      };
    case 'onnx':
      return {
        loads: true,
        code: [
          'import onnxruntime as ort',
          '',
          `session = ort.InferenceSession(${py(file.replace(/\.\w+$/, '.onnx'))})`,
        ].join('\n'),
        safeGlobals: [],
        notes: ['check the report for external data files the model references'],
      };
    case 'torchscript':
      return {
        loads: true,
        code: [
          'import torch',
          '',
          `model = torch.jit.load(${py(file)}, map_location="cpu")`,
          'model.eval()',
        ].join('\n'),
        safeGlobals: [],
        notes: [
          "torch.jit.load runs the archive's TorchScript code (its methods, and __setstate__ while loading): load it only if you trust where it came from",
          ...notes,
        ],
      };
    case 'numpy':
      return report.kind === 'tensor'
        ? {
            loads: true,
            code: [
              'import numpy as np',
              '',
              `array = np.load(${py(file.replace(/\.\w+$/, '.npy'))}, allow_pickle=False)`,
            ].join('\n'),
            safeGlobals: [],
            notes: ['allow_pickle=False refuses object arrays, which are pickles'],
          }
        : none('no safe way: object arrays in a numpy file are pickles');
    case 'torch-zip':
    case 'torch-legacy':
      break;
    default:
      return none(
        `no safe way to load a ${report.format} file of kind ${report.kind}: torch.load refuses it with weights_only=True`,
      );
  }
  const result = report.weightsOnly.byVersion[v];
  // a whole pickled model: the lasting cure is a state dict, whatever this version can do with the file
  if (report.kind === 'full_model')
    notes.push(
      'a pickled nn.Module ties the file to the code of its classes: where you trust the file, re-save its weights as a state_dict (torch.save(model.state_dict(), "state_dict.pt")) and push that',
    );
  const needed = neededGlobals(report.imports, v);
  const names = needed.map((i) => `${i.module}.${i.name}`);
  const code = (globals: string[]) => {
    const body = loadLines(report.kind, layout, file, globals.length > 0 ? '    ' : '');
    if (globals.length === 0) return ['import torch', '', ...body, ...tail(report.kind)].join('\n');
    const { lines, items } = globalsCode(globals, v);
    return [
      'import torch',
      ...lines,
      '',
      `with torch.serialization.safe_globals([${items.join(', ')}]):`,
      ...body,
      ...tail(report.kind),
    ].join('\n');
  };
  // the operator's own list (extraAllowed) makes the registry's prediction load; the user's torch still needs them
  if (result.loads && needed.length === 0) return { loads: true, code: code([]), safeGlobals: [], notes };
  if (!result.loads) {
    const op = opcodeAdvice(result.reason, v);
    if (op) return none(op, notes);
  }

  // what safe_globals would have to hold, sorted by what Brine can say of each
  const own = needed.filter(isOwnCode);
  const elsewhere = needed.filter((i) => !isOwnCode(i) && !recipeGlobal(`${i.module}.${i.name}`, v));
  const laterTorch = (i: ImportRecord) => TORCH_VERSIONS.find((w) => w !== v && defaultAllows(i, w));
  const absent = (i: ImportRecord) =>
    harmlessEntry(`${i.module}.${i.name}`)?.recipe !== false &&
    harmlessEntry(`${i.module}.${i.name}`) !== undefined;
  const unvetted = elsewhere.filter((i) => laterTorch(i) === undefined && !absent(i));
  if (unvetted.length > 0) {
    const why = unvetted.map((i) => {
      const full = `${i.module}.${i.name}`;
      const e = harmlessEntry(full);
      if (e && e.recipe === false) return `${full} (Brine never recommends allowing it: ${e.reason})`;
      if (i.class === 'dangerous') return `${full} (${i.reason ?? 'it runs code'})`;
      return `${full} (in ${ORIGIN_WORDS[i.origin]} and not on Brine's vetted list of harmless constructors: not known to be harmless)`;
    });
    return none(
      `no safe way on torch ${v}: loading it with weights_only=True needs ${unvetted.length === 1 ? 'this global' : 'these globals'} allowed, which Brine cannot vouch for: ${why.join('; ')}`,
      notes,
    );
  }
  // named without the function torch v lacks, so nothing here reads as advice to call it
  if (!PROFILES[v].addSafeGlobals)
    return none(
      `no safe way on torch ${v}: weights_only refuses ${names.join(', ')}, and torch ${v} cannot allow more globals (that came in torch 2.4); ${
        own.length
          ? `on torch 2.6 or later it loads with them allowed, but only if you trust ${own.map((i) => `${i.module}.${i.name}`).join(', ')}`
          : 'use torch 2.6 or later'
      }`,
      notes,
    );
  const missing = elsewhere.filter(absent);
  if (missing.length > 0)
    return none(
      `no safe way on torch ${v}: it needs ${missing.map((i) => `${i.module}.${i.name}`).join(', ')}, which ${missing.length === 1 ? 'does' : 'do'} not exist in the libraries torch ${v} was reviewed with (${reviewedWith(v)}); the file was saved with other versions of them`,
      notes,
    );
  if (elsewhere.length > 0)
    return none(
      `no safe way on torch ${v}: it needs ${elsewhere.map((i) => `${i.module}.${i.name}`).join(', ')}, which torch ${laterTorch(elsewhere[0])} allows by default; load it with that torch`,
      notes,
    );
  const again = x.withGlobals?.[v];
  if (!result.loads && !again?.loads)
    return none(
      `no safe way on torch ${v}: even with ${names.join(', ')} allowed, weights_only refuses it (${again?.reason ?? result.reason ?? ''})`,
      notes,
    );
  const globals = [...names];
  if (globals.some((g) => g === 'numpy.dtype'))
    for (const c of x.builtClasses) if (recipeGlobal(c, v) && !globals.includes(c)) globals.push(c);
  const vettedNote = `torch ${v} refuses ${names.join(', ')} by default; Brine's vetted list of harmless constructors holds ${needed.length - own.length === 1 ? 'it' : 'them'} (each entry's reason says why), and with ${needed.length === 1 ? 'it' : 'them'} allowed it loads`;
  if (own.length === 0)
    return { loads: true, code: code(globals), safeGlobals: globals, notes: [vettedNote, ...notes] };
  const ownNames = own.map((i) => `${i.module}.${i.name}`);
  const trusted = code(globals)
    .split('\n')
    .filter(
      (l) => !ownNames.some((n) => n.startsWith('__main__.') && l === `from __main__ import ${n.slice(9)}`),
    );
  return {
    loads: false,
    code: null,
    safeGlobals: [],
    notes: [
      `no safe way that Brine can vouch for on torch ${v}: it needs ${ownNames.join(', ')} allowed, ${own.length === 1 ? 'a class' : 'classes'} from your own code or a third-party package (loading runs ${own.length === 1 ? 'its' : 'their'} constructors and __setstate__); only if you trust that code, load it as shown in ifTrusted`,
      ...notes,
    ],
    ifTrusted: {
      code: [
        `# only if you trust the code that defines ${ownNames.join(', ')}: allowing ${own.length === 1 ? 'it' : 'them'} lets the file run ${own.length === 1 ? 'its' : 'their'} construction code`,
        ...ownNames
          .filter((n) => n.startsWith('__main__.'))
          .map((n) => `# ${n.slice(9)} was saved from a script (__main__): define or import it before this`),
        ...trusted,
      ].join('\n'),
      trust: ownNames,
      safeGlobals: globals,
    },
  };
}
