/**
 * What a TorchScript archive's code does. `torch.jit.load` compiles the archive's `code/` files and, while it
 * rebuilds the objects, calls every `__setstate__` they define — so that code runs at load time; the rest (forward,
 * exported methods) runs when the model runs. The ops that reach outside the process come from torch's operator
 * registry (torch._C._jit_get_all_schemas): aten::from_file (maps and creates files), aten::save (writes files),
 * prim::Print and aten::warn (output), c10d::* and prim::rpc_* (network), and ops of other namespaces, which come
 * from native extension libraries.
 */

export type EffectKind = 'file' | 'network' | 'output' | 'native-op';

export interface ScriptEffect {
  /** Class.method (or the function) that makes the call */
  where: string;
  /** as written in the code, e.g. torch.from_file */
  call: string;
  kind: EffectKind;
  /** reachable from a __setstate__: runs inside torch.jit.load */
  loadTime: boolean;
  /** the code file */
  file: string;
}

export interface ScriptAnalysis {
  effects: ScriptEffect[];
  methods: number;
  /** classes that define __setstate__ (their code runs at load time) */
  setstate: string[];
}

const EFFECTS: ReadonlyArray<readonly [RegExp, EffectKind]> = [
  [/\btorch\.from_file\(/g, 'file'],
  [/\btorch\.save\(/g, 'file'],
  [/\bops\.aten\.(?:from_file|save)\(/g, 'file'],
  [/(?<![\w.])print\(/g, 'output'],
  [/\bops\.prim\.Print\(/g, 'output'],
  [/\btorch\.warn\(|\bops\.aten\.warn\(|\bwarnings\.warn\(/g, 'output'],
  [/\bops\.c10d\.\w+\(|\bops\.prim\.rpc_\w+\(|\btorch\.distributed\.[\w.]+\(/g, 'network'],
];

/** op namespaces that ship with torch itself */
const TORCH_NAMESPACES = new Set([
  'aten',
  'prim',
  'prims',
  'quantized',
  '_quantized',
  '_caffe2',
  'c10d',
  'profiler',
  'static_runtime',
  'nvprims',
  'cuda',
  'mkldnn',
  'onednn',
  'xnnpack',
  'quantized_decomposed',
  'sparse',
  'fbgemm',
  'rngprims',
  'inductor',
  'higher_order',
  'mkl',
  '_c10d_functional',
  'c10d_functional',
  '_dtensor',
  'debugprims',
  'vulkan_prepack',
  'metal_prepack',
  'mps',
]);
const CUSTOM_OP = /\bops\.(\w+)\.(\w+)\(/g;

interface Method {
  key: string;
  cls: string | null;
  name: string;
  body: string;
  file: string;
}

/** the classes and functions of one code file, by indentation */
function methodsOf(file: string, text: string): Method[] {
  const out: Method[] = [];
  const lines = text.split('\n');
  let cls: { name: string; indent: number } | null = null;
  let cur: { m: Method; indent: number } | null = null;
  const indentOf = (l: string) => l.length - l.trimStart().length;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const indent = indentOf(line);
    if (cur && indent > cur.indent) {
      cur.m.body += `${line}\n`;
      continue;
    }
    cur = null;
    if (cls && indent <= cls.indent) cls = null;
    const c = /^class\s+(\w+)/.exec(line.trimStart());
    if (c) {
      cls = { name: c[1], indent };
      continue;
    }
    const d = /^def\s+(\w+)\s*\(/.exec(line.trimStart());
    if (d) {
      const owner = cls && indent > cls.indent ? cls.name : null;
      const m: Method = {
        key: owner ? `${owner}.${d[1]}` : d[1],
        cls: owner,
        name: d[1],
        body: `${line}\n`,
        file,
      };
      out.push(m);
      cur = { m, indent };
    }
  }
  return out;
}

export function analyseTorchScript(files: ReadonlyArray<{ name: string; text: string }>): ScriptAnalysis {
  const methods = files.flatMap((f) => methodsOf(f.name, f.text));
  const byName = new Map<string, Method[]>();
  for (const m of methods) byName.set(m.name, [...(byName.get(m.name) ?? []), m]);
  // what each method calls: its own class's methods through self, anything else by method name
  const callees = (m: Method): Method[] => {
    const out: Method[] = [];
    for (const [, recv, name] of m.body.matchAll(/(\(self\)|self|\([\w.]+\)|\b\w+)\.(\w+)\(/g)) {
      const candidates = byName.get(name) ?? [];
      if (recv === 'self' || recv === '(self)') out.push(...candidates.filter((x) => x.cls === m.cls));
      else out.push(...candidates.filter((x) => x.cls !== null));
    }
    for (const [, name] of m.body.matchAll(/(?<![\w.])(\w+)\(/g)) {
      out.push(...(byName.get(name) ?? []).filter((x) => x.cls === null));
    }
    return out;
  };
  const loadTime = new Set<Method>();
  const todo = methods.filter((m) => m.name === '__setstate__');
  while (todo.length > 0) {
    const m = todo.pop() as Method;
    if (loadTime.has(m)) continue;
    loadTime.add(m);
    todo.push(...callees(m).filter((x) => !loadTime.has(x)));
  }
  const effects: ScriptEffect[] = [];
  for (const m of methods) {
    const body = m.body.slice(m.body.indexOf('\n') + 1);
    const add = (call: string, kind: EffectKind) =>
      effects.push({ where: m.key, call, kind, loadTime: loadTime.has(m), file: m.file });
    for (const [re, kind] of EFFECTS) for (const hit of body.matchAll(re)) add(hit[0].slice(0, -1), kind);
    for (const [call, ns] of body.matchAll(CUSTOM_OP)) {
      if (!TORCH_NAMESPACES.has(ns)) add(call.slice(0, -1), 'native-op');
    }
  }
  return {
    effects,
    methods: methods.length,
    setstate: methods.filter((m) => m.name === '__setstate__').map((m) => m.cls ?? m.key),
  };
}
