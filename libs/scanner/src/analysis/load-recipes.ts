import { OPCODES } from '@brine/pickle/opcodes';
import { PyDict, PyTensor, pyStr, type PyValue } from '@brine/pickle/values';
import type { ImportRecord, Kind, LoadRecipe, ScanReport, TorchVersion } from '../report';
import { TORCH_VERSIONS } from '../report';

/**
 * How to load a scanned file safely, per torch version: the exact code, or why there is no safe way. Derived from
 * what the scan found — the format and kind, each version's weights-only outcome (and, for globals a version
 * refuses that are not hostile, the outcome with those globals allowed), where the tensors were saved, and the keys
 * of a training checkpoint.
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

/** torch versions where add_safe_globals and safe_globals exist (2.4 and 2.5 added them) */
const HAS_SAFE_GLOBALS: Record<TorchVersion, boolean> = { '1.13': false, '2.6': true, '2.14': true };

const py = (s: string) => JSON.stringify(s);

/** `from a.b import C` lines and the names to pass, for dotted globals */
function importLines(globals: string[]): { lines: string[]; names: string[] } {
  const lines: string[] = [];
  const names: string[] = [];
  for (const g of globals) {
    const dot = g.lastIndexOf('.');
    const module = g.slice(0, dot);
    const name = g.slice(dot + 1);
    if (module === 'builtins') names.push(name);
    else {
      lines.push(`from ${module} import ${name}`);
      names.push(name);
    }
  }
  return { lines: [...new Set(lines)], names };
}

function loadLines(kind: Kind, layout: RootLayout, file: string, indent = ''): string[] {
  const load = (v: string) =>
    `${indent}${v} = torch.load(${py(file)}, map_location="cpu", weights_only=True)`;
  if (kind === 'tensor') return [load('tensor')];
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
  return [load('state_dict'), `${indent}model.load_state_dict(state_dict)`];
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
  /** each version's outcome with its refused harmless globals (and `builtClasses`) allowed; null when not tried */
  withGlobals: Record<TorchVersion, boolean> | null;
  /** classes of objects those globals make that torch's BUILD must also find allowed (numpy's dtype classes) */
  builtClasses: string[];
  file?: string;
}

/** the globals a version refuses that are not hostile: what add_safe_globals would take for it */
export function refusedHarmless(imports: ImportRecord[], v: TorchVersion): string[] {
  return imports
    .filter((i) => !i.allowedBy[v] && i.class !== 'dangerous')
    .map((i) => `${i.module}.${i.name}`);
}

export function loadRecipes(x: RecipeInputs): Record<TorchVersion, LoadRecipe> {
  const out = {} as Record<TorchVersion, LoadRecipe>;
  for (const v of TORCH_VERSIONS) out[v] = recipe(x, v);
  return out;
}

function none(why: string, notes: string[] = []): LoadRecipe {
  return { loads: false, code: null, safeGlobals: [], notes: [why, ...notes] };
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
        `no safe way to load a ${report.format} file of kind ${report.kind}: it is not a weights file`,
      );
  }
  if (report.kind === 'full_model') {
    return none(
      'no safe way: this is a pickled nn.Module, which torch.load(weights_only=True) refuses and which runs code with weights_only=False',
      [
        'where you trust the file, re-save it as a state_dict: model = torch.load(p, weights_only=False); torch.save(model.state_dict(), "state_dict.pt") — then push that',
      ],
    );
  }
  if (report.kind !== 'state_dict' && report.kind !== 'checkpoint' && report.kind !== 'tensor')
    return none(`no safe way: a ${report.kind} is not a weights file`);
  const result = report.weightsOnly.byVersion[v];
  const tail = report.kind === 'tensor' ? [] : ['model.eval()  # before inference'];
  if (result.loads) {
    return {
      loads: true,
      code: ['import torch', '', ...loadLines(report.kind, layout, file), ...tail].join('\n'),
      safeGlobals: [],
      notes,
    };
  }
  // refused: by globals that are not hostile only, and a version that can allow them?
  const globals = refusedHarmless(report.imports, v);
  const hostile = report.imports.some((i) => !i.allowedBy[v] && i.class === 'dangerous');
  const unsupported = /Unsupported operand (\d+)/.exec(result.reason ?? '');
  if (unsupported && !hostile) {
    // torch 1.13's weights-only unpickler knows fewer opcodes than pickle: name the one it stopped at
    const op = OPCODES[Number(unsupported[1])]?.name ?? `opcode ${unsupported[1]}`;
    const what = op === 'BINFLOAT' ? ' (a Python float in the file, such as a loss or a learning rate)' : '';
    return none(
      `no safe way on torch ${v}: its weights-only unpickler does not support ${op}${what}; use torch 2.6 or later`,
      notes,
    );
  }
  if (globals.length === 0 || hostile || !result.fix)
    return none(`no safe way on torch ${v}: ${result.reason ?? 'weights_only refuses it'}`, notes);
  if (!HAS_SAFE_GLOBALS[v])
    return none(
      `no safe way on torch ${v}: weights_only refuses ${globals.join(', ')}, and torch ${v} cannot allow more globals (add_safe_globals came in 2.4); use torch 2.6 or later`,
      notes,
    );
  if (x.withGlobals === null || !x.withGlobals[v])
    return none(
      `no safe way on torch ${v}: even with ${globals.join(', ')} allowed, weights_only refuses it (${result.reason ?? ''})`,
      notes,
    );
  if (globals.includes('numpy.dtype')) globals.push(...x.builtClasses);
  const { lines, names } = importLines(globals);
  return {
    loads: true,
    code: [
      'import torch',
      ...lines,
      '',
      `with torch.serialization.safe_globals([${names.join(', ')}]):`,
      ...loadLines(report.kind, layout, file, '    '),
      ...tail,
    ].join('\n'),
    safeGlobals: globals,
    notes: [
      `torch ${v} refuses ${globals.join(', ')} by default; none of them is a known way to run code, and with them allowed it loads`,
      ...notes,
    ],
  };
}
