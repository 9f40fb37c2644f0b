/**
 * Abstract Python values produced by the pickle machine.
 *
 * Primitives map to JS primitives (None → null, bool → boolean, small int → number, big int → bigint,
 * str → string). Everything else is a PyObject subclass. Nothing here is ever executed: a "call" produces
 * a PyInstance (or a richer value when a host models the callee, e.g. a tensor rebuild function).
 */
export type PyValue = null | boolean | number | bigint | string | PyObject;

/** base class, for `instanceof` checks; `kind` is a prototype getter so it costs no per-object slot */
export abstract class PyObjectBase {
  abstract get kind(): PyKind;
}

export type PyKind =
  | 'float'
  | 'bytes'
  | 'tuple'
  | 'list'
  | 'dict'
  | 'set'
  | 'global'
  | 'instance'
  | 'tensor'
  | 'storage'
  | 'unknown';

export class PyFloat extends PyObjectBase {
  get kind(): 'float' {
    return 'float';
  }
  constructor(readonly value: number) {
    super();
  }
}

/** bytes / bytearray; content is kept only when short (see Limits.maxRetainedStringBytes). */
export class PyBytes extends PyObjectBase {
  get kind(): 'bytes' {
    return 'bytes';
  }
  constructor(
    readonly length: number,
    readonly data: Uint8Array | null,
    readonly mutable: boolean,
    /** absolute offset of the payload in the pickle stream, when it came straight from an opcode argument */
    readonly streamOffset: number | null = null,
  ) {
    super();
  }
}

export class PyTuple extends PyObjectBase {
  get kind(): 'tuple' {
    return 'tuple';
  }
  /** Set when the tuple came from a class call such as torch.Size(...). */
  cls: string | null = null;
  constructor(readonly items: PyValue[]) {
    super();
  }
}

/**
 * A list (or list subclass). `items` holds what the retention budget allowed; `length` is the real size.
 */
export class PyList extends PyObjectBase {
  get kind(): 'list' {
    return 'list';
  }
  length = 0;
  constructor(
    public cls: string,
    readonly items: PyValue[] = [],
  ) {
    super();
  }
}

/** dict, OrderedDict, Counter, defaultdict … Keys and values are parallel arrays in insertion order. */
export class PyDict extends PyObjectBase {
  get kind(): 'dict' {
    return 'dict';
  }
  size = 0;
  /** attributes set by BUILD on the mapping itself (OrderedDict._metadata) */
  attrs: PyValue | null = null;
  readonly keys: PyValue[] = [];
  readonly values: PyValue[] = [];
  /** built by the machine for dicts with more than a few keys */
  index: Map<unknown, number> | null = null;
  constructor(public cls: string) {
    super();
  }
}

export class PySet extends PyObjectBase {
  get kind(): 'set' {
    return 'set';
  }
  size = 0;
  constructor(readonly cls: string) {
    super();
  }
}

/** What an import opcode pushed: a reference to module.name (after Python 2 name mapping). */
export class PyGlobal extends PyObjectBase {
  get kind(): 'global' {
    return 'global';
  }
  /** `module.name`, made once: every judge and model asks for it */
  readonly fullName: string;
  constructor(
    readonly module: string,
    readonly name: string,
  ) {
    super();
    this.fullName = `${module}.${name}`;
  }
}

/** The result of calling or instantiating something (REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ). */
export class PyInstance extends PyObjectBase {
  get kind(): 'instance' {
    return 'instance';
  }
  /** state applied by BUILD, if any */
  state: PyValue | undefined = undefined;
  constructor(
    /** the callable or class, usually a PyGlobal */
    readonly callee: PyValue,
    readonly args: PyValue,
    readonly via: 'REDUCE' | 'NEWOBJ' | 'NEWOBJ_EX' | 'INST' | 'OBJ' | 'PERSID',
  ) {
    super();
  }
}

export class PyStorage extends PyObjectBase {
  get kind(): 'storage' {
    return 'storage';
  }
  constructor(
    readonly dtype: string,
    readonly elementSize: number,
    readonly key: string,
    /** elements of `dtype` */
    readonly numel: number,
    readonly location: string,
  ) {
    super();
  }
}

export class PyTensor extends PyObjectBase {
  get kind(): 'tensor' {
    return 'tensor';
  }
  isParameter = false;
  /** e.g. torch.Tensor subclass rebuilt through _rebuild_from_type_v2 */
  subclass: string | null = null;
  /** where a strided tensor's elements sit in its storage (in elements), when the rebuild call said so */
  view: { offset: number; stride: number[] } | null = null;
  constructor(
    readonly dtype: string,
    readonly shape: number[],
    readonly storage: PyStorage | null,
    readonly layout: string = 'strided',
  ) {
    super();
  }
  get numel(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }
}

/** A value the machine could not know (lenient walks, dropped content). */
export class PyUnknown extends PyObjectBase {
  get kind(): 'unknown' {
    return 'unknown';
  }
  constructor(readonly why: string) {
    super();
  }
}

export const UNKNOWN = new PyUnknown('unknown');

export type PyObject =
  | PyFloat
  | PyBytes
  | PyTuple
  | PyList
  | PyDict
  | PySet
  | PyGlobal
  | PyInstance
  | PyStorage
  | PyTensor
  | PyUnknown;

export function isObject(v: PyValue): v is PyObject {
  return typeof v === 'object' && v !== null;
}

/** Python's `type(v).__name__`-style label, used in messages worded like PyTorch's. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return 'NoneType';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
    case 'bigint':
      return 'int';
    case 'string':
      return 'str';
  }
  switch (v.kind) {
    case 'float':
      return 'float';
    case 'bytes':
      return v.mutable ? 'bytearray' : 'bytes';
    case 'tuple':
      return v.cls ?? 'tuple';
    case 'list':
      return shortClass(v.cls);
    case 'dict':
      return shortClass(v.cls);
    case 'set':
      return shortClass(v.cls);
    case 'global':
      return 'type';
    case 'instance':
      return v.callee instanceof PyGlobal ? v.callee.fullName : 'object';
    case 'tensor':
      return v.isParameter ? 'torch.nn.parameter.Parameter' : 'torch.Tensor';
    case 'storage':
      return 'torch.storage.TypedStorage';
    case 'unknown':
      return 'object';
  }
}

/** Python's `<class 'x'>` rendering of `type(v)`. */
export function pyClassRepr(v: PyValue): string {
  return `<class '${pyTypeName(v)}'>`;
}

function shortClass(cls: string): string {
  return cls.startsWith('builtins.') ? cls.slice('builtins.'.length) : cls;
}

/** Python's str() for the values that can appear in record names and messages. */
export function pyStr(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return v;
  switch (v.kind) {
    case 'float':
      return pyFloatRepr(v.value);
    case 'bytes':
      return v.data ? pyBytesRepr(v.data) : `<bytes of length ${v.length}>`;
    case 'tuple':
      return v.items.length === 1 ? `(${pyRepr(v.items[0])},)` : `(${v.items.map(pyRepr).join(', ')})`;
    case 'global':
      return v.fullName;
    default:
      return `<${pyTypeName(v)} object>`;
  }
}

export function pyRepr(v: PyValue): string {
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return pyStr(v);
}

export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
  return String(x);
}

function pyBytesRepr(b: Uint8Array): string {
  let s = "b'";
  for (const c of b) {
    if (c === 0x5c) s += '\\\\';
    else if (c === 0x27) s += "\\'";
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  return s + "'";
}

/** Python truthiness for the abstract values we can decide. */
export function pyTruthy(v: PyValue): boolean {
  if (v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  switch (v.kind) {
    case 'float':
      return v.value !== 0;
    case 'bytes':
      return v.length > 0;
    case 'tuple':
      return v.items.length > 0;
    case 'list':
      return v.length > 0;
    case 'dict':
      return v.size > 0;
    case 'set':
      return v.size > 0;
    default:
      return true;
  }
}

/** Python int check (bool is an int subclass). */
export function isPyInt(v: PyValue): v is number | bigint | boolean {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean';
}

export function toSafeInt(v: PyValue): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : null;
  }
  return null;
}

/** Whether Python could hash the value (dict keys, set items). */
export function pyHashable(v: PyValue): boolean {
  if (!isObject(v)) return true;
  switch (v.kind) {
    case 'list':
    case 'dict':
      return false;
    case 'set':
      return v.cls === 'builtins.frozenset';
    case 'bytes':
      return !v.mutable;
    case 'tuple':
      return v.items.every(pyHashable);
    default:
      return true;
  }
}

/** the one float that stands for every float once the retention budget is spent (its value is never consulted) */
export const FLOAT_SUMMARY = new PyFloat(NaN);
