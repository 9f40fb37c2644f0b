import { type Machine } from '@brine/pickle/machine';
import {
  isObject,
  PyBytes,
  PyDict,
  PyFloat,
  PyGlobal,
  PyInstance,
  PyList,
  PySet,
  PyStorage,
  PyTensor,
  PyTuple,
  PyUnknown,
  pyStr,
  pyTypeName,
  toSafeInt,
  type PyValue,
} from '@brine/pickle/values';
import { DTYPES, dtypeOfGlobal } from './dtypes';
import { unpackMessage } from './messages';
import type { TorchProfile } from './profiles';

/**
 * Models of the callables a weights-only load can reach: what they return for given arguments, and the exception
 * they raise when the arguments are wrong — per torch version, because signatures changed (e.g. the metadata
 * argument of _rebuild_tensor_v2 in 2.x). With `profile === null` a model is lenient and only builds the value.
 */
export class CallError {
  constructor(
    readonly pyType: string,
    readonly message: string,
    /** whether the weights-only unpickler wraps it (raised inside as UnpicklingError/RuntimeError policy) */
    readonly policy = false,
  ) {}
}

export interface CallContext {
  readonly profile: TorchProfile | null;
  readonly machine: Machine;
  /** how the callee is invoked: a call (REDUCE/INST/OBJ) or cls.__new__(cls, *args) (NEWOBJ) */
  readonly mode: 'call' | 'new';
  /** a model that could not decide sets this */
  uncertain: boolean;
}

type Model = (c: CallContext, args: PyValue[]) => PyValue;

/** the callee's canonical name, or null when it is not an imported object */
export function calleeName(v: PyValue): string | null {
  return v instanceof PyGlobal ? v.fullName : null;
}

function strict(c: CallContext): boolean {
  return c.profile !== null;
}

function arity(c: CallContext, fn: string, args: PyValue[], names: string[], required = names.length): void {
  if (!strict(c)) return;
  if (args.length > names.length) {
    const n = names.length;
    throw new CallError(
      'TypeError',
      `${fn}() takes ${n} positional argument${n === 1 ? '' : 's'} but ${args.length} ${args.length === 1 ? 'was' : 'were'} given`,
    );
  }
  if (args.length < required) {
    const missing = names.slice(args.length, required);
    const quoted = missing.map((m) => `'${m}'`);
    const list =
      quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
    throw new CallError(
      'TypeError',
      `${fn}() missing ${missing.length} required positional argument${missing.length === 1 ? '' : 's'}: ${list}`,
    );
  }
}

function intsOf(c: CallContext, v: PyValue, what: string): number[] | null {
  if (v instanceof PyTuple || v instanceof PyList) {
    const items = v instanceof PyTuple ? v.items : v.items;
    const out: number[] = [];
    for (const x of items) {
      const n = toSafeInt(x);
      if (n === null) {
        if (strict(c) && !(x instanceof PyUnknown)) {
          throw new CallError('TypeError', `${what} must be a sequence of ints, but got ${pyTypeName(x)}`);
        }
        c.uncertain = true;
        return null;
      }
      out.push(n);
    }
    return out;
  }
  if (strict(c) && !(v instanceof PyUnknown)) {
    throw new CallError('TypeError', `${what} must be tuple of ints, not ${pyTypeName(v)}`);
  }
  c.uncertain = true;
  return null;
}

function dtypeArg(c: CallContext, v: PyValue): string {
  if (v instanceof PyGlobal) {
    const d = dtypeOfGlobal(v.fullName);
    if (d && d.via === 'dtype') return d.dtype;
  }
  if (strict(c) && !(v instanceof PyUnknown))
    throw new CallError('TypeError', `expected a torch.dtype, got ${pyTypeName(v)}`);
  c.uncertain = true;
  return 'unknown';
}

/** the "Trying to resize storage that is not resizable" check of Tensor.set_ / _rebuild_tensor */
function checkBounds(
  c: CallContext,
  storage: PyStorage,
  offset: number,
  size: number[],
  stride: number[],
  elementSize: number,
): void {
  if (!strict(c)) return;
  if (size.length !== stride.length) {
    throw new CallError('RuntimeError', `mismatch in length of strides and shape`);
  }
  if (size.some((d) => d < 0))
    throw new CallError('RuntimeError', 'Trying to create tensor with negative dimension');
  if (size.some((d) => d === 0)) return;
  let extent = offset;
  for (let i = 0; i < size.length; i++) extent += (size[i] - 1) * stride[i];
  const neededBytes = (extent + 1) * elementSize;
  const haveBytes = storage.numel * storage.elementSize;
  if (offset < 0) throw new CallError('RuntimeError', `Tensor: invalid storage offset ${offset}`);
  if (neededBytes > haveBytes)
    throw new CallError('RuntimeError', 'Trying to resize storage that is not resizable');
}

function storageArg(c: CallContext, v: PyValue, fn: string): PyStorage | null {
  if (v instanceof PyStorage) return v;
  if (strict(c) && !(v instanceof PyUnknown)) {
    throw new CallError(
      'AttributeError',
      `'${pyTypeName(v)}' object has no attribute '_untyped_storage' (in ${fn})`,
    );
  }
  c.uncertain = true;
  return null;
}

function rebuildStrided(c: CallContext, fn: string, args: PyValue[], dtypeOverride: string | null): PyValue {
  const storage = storageArg(c, args[0], fn);
  const offset = toSafeInt(args[1] ?? 0);
  const size = intsOf(c, args[2] ?? null, 'size');
  const stride = intsOf(c, args[3] ?? null, 'stride');
  if (offset === null && strict(c) && !(args[1] instanceof PyUnknown)) {
    throw new CallError('TypeError', `storage_offset must be int, not ${pyTypeName(args[1])}`);
  }
  const dtype = dtypeOverride ?? storage?.dtype ?? 'unknown';
  if (storage && size && stride && offset !== null) {
    const el = dtypeOverride ? (DTYPES.get(dtypeOverride)?.elementSize ?? 1) : storage.elementSize;
    checkBounds(c, storage, offset, size, stride, el);
  }
  const t = new PyTensor(dtype, size ?? [], storage);
  if (size && stride && offset !== null && size.length === stride.length) t.view = { offset, stride };
  return t;
}

function asTensor(c: CallContext, v: PyValue, fn: string): PyTensor {
  if (v instanceof PyTensor) return v;
  if (strict(c) && !(v instanceof PyUnknown) && !(v instanceof PyInstance)) {
    throw new CallError('TypeError', `${fn}: expected a Tensor, got ${pyTypeName(v)}`);
  }
  c.uncertain = true;
  return new PyTensor('unknown', [], null);
}

function asParameter(t: PyTensor): PyTensor {
  const p = new PyTensor(t.dtype, t.shape, t.storage, t.layout);
  p.isParameter = true;
  p.subclass = t.subclass;
  p.view = t.view;
  return p;
}

function mapping(c: CallContext, cls: string, args: PyValue[]): PyDict {
  const d = c.machine.newDict(cls);
  if (c.mode === 'new') return d;
  if (args.length > 1 && strict(c))
    throw new CallError('TypeError', `expected at most 1 argument, got ${args.length}`);
  const src = args[0];
  if (src instanceof PyDict)
    c.machine.setDictItems(
      d,
      src.keys.flatMap((k, i) => [k, src.values[i]]),
    );
  else if (src instanceof PyList || src instanceof PyTuple) {
    const pairs: PyValue[] = [];
    for (const p of src.items) {
      if (p instanceof PyTuple && p.items.length === 2) pairs.push(p.items[0], p.items[1]);
      else if (strict(c) && !(p instanceof PyUnknown)) {
        throw new CallError('TypeError', `cannot convert dictionary update sequence element to a sequence`);
      }
    }
    c.machine.setDictItems(d, pairs);
  }
  return d;
}

const COMPRESSED_LAYOUTS = new Set([
  'torch.sparse_csr',
  'torch.sparse_csc',
  'torch.sparse_bsr',
  'torch.sparse_bsc',
]);

/** Python's `a, b, c = data` on a tuple of the wrong length */
function unpackError(p: TorchProfile, want: number, got: number): CallError {
  return new CallError('ValueError', unpackMessage(p, want, got));
}

/**
 * torch._utils._rebuild_sparse_tensor(layout, data) and 1.13's _rebuild_sparse_csr_tensor, version by version:
 *  - 1.13: COO only, data = (indices, values, size); CSR through _rebuild_sparse_csr_tensor with
 *    (crow_indices, col_indices, values, size); any other layout raises NotImplementedError;
 *  - 2.x: COO with (indices, values, size) (files saved by older torch) or (…, is_coalesced); CSR, CSC, BSR and
 *    BSC with (compressed_indices, plain_indices, values, size).
 */
function sparse(
  c: CallContext,
  args: PyValue[],
  fn: '_rebuild_sparse_tensor' | '_rebuild_sparse_csr_tensor',
): PyValue {
  const layoutV = args[0];
  const data = args[1];
  const layout =
    layoutV instanceof PyInstance && typeof layoutV.args === 'string' ? layoutV.args : 'torch.sparse_coo';
  const items = data instanceof PyTuple ? data.items : null;
  const p = c.profile;
  if (p && items) {
    const unsupported = () =>
      new CallError(
        'NotImplementedError',
        `rebuilding sparse tensor for layout ${layout}`,
        p.sparse.unsupportedAsRuntimeError,
      );
    if (fn === '_rebuild_sparse_csr_tensor') {
      if (layout !== 'torch.sparse_csr') throw unsupported();
      if (items.length !== 4) throw unpackError(p, 4, items.length);
    } else if (layout === 'torch.sparse_coo') {
      const arities = p.sparse.cooArities;
      if (!arities.includes(items.length)) throw unpackError(p, arities[arities.length - 1], items.length);
    } else if (COMPRESSED_LAYOUTS.has(layout) && p.sparse.compressedLayouts) {
      if (items.length !== 4) throw unpackError(p, 4, items.length);
    } else throw unsupported();
  }
  const size = items ? items.find((x) => x instanceof PyTuple && x.cls === 'torch.Size') : undefined;
  const shape = size instanceof PyTuple ? size.items.map((x) => toSafeInt(x) ?? 0) : [];
  const values = items?.find((x) => x instanceof PyTensor);
  return new PyTensor(
    values instanceof PyTensor ? values.dtype : 'unknown',
    shape,
    null,
    layout.replace('torch.', ''),
  );
}

const notCallable =
  (what: string): Model =>
  (c) => {
    if (strict(c)) throw new CallError('TypeError', `'${what}' object is not callable`);
    return new PyUnknown(`call of a ${what}`);
  };

const MODELS = new Map<string, Model>([
  [
    'torch._utils._rebuild_tensor',
    (c, a) => {
      arity(c, '_rebuild_tensor', a, ['storage', 'storage_offset', 'size', 'stride']);
      return rebuildStrided(c, '_rebuild_tensor', a, null);
    },
  ],
  [
    'torch._utils._rebuild_tensor_v2',
    (c, a) => {
      const names = ['storage', 'storage_offset', 'size', 'stride', 'requires_grad', 'backward_hooks'];
      if (c.profile?.rebuildTensorV2Metadata !== false) names.push('metadata');
      arity(c, '_rebuild_tensor_v2', a, names, 6);
      return rebuildStrided(c, '_rebuild_tensor_v2', a, null);
    },
  ],
  [
    'torch._utils._rebuild_tensor_v3',
    (c, a) => {
      const names = [
        'storage',
        'storage_offset',
        'size',
        'stride',
        'requires_grad',
        'backward_hooks',
        'dtype',
        'metadata',
      ];
      arity(c, '_rebuild_tensor_v3', a, names, 7);
      return rebuildStrided(c, '_rebuild_tensor_v3', a, dtypeArg(c, a[6] ?? null));
    },
  ],
  [
    'torch._utils._rebuild_parameter',
    (c, a) => {
      arity(c, '_rebuild_parameter', a, ['data', 'requires_grad', 'backward_hooks']);
      return asParameter(asTensor(c, a[0] ?? null, '_rebuild_parameter'));
    },
  ],
  [
    'torch._utils._rebuild_parameter_with_state',
    (c, a) => {
      arity(c, '_rebuild_parameter_with_state', a, ['data', 'requires_grad', 'backward_hooks', 'state']);
      return asParameter(asTensor(c, a[0] ?? null, '_rebuild_parameter_with_state'));
    },
  ],
  [
    'torch._utils._rebuild_meta_tensor_no_storage',
    (c, a) => {
      arity(c, '_rebuild_meta_tensor_no_storage', a, ['dtype', 'size', 'stride', 'requires_grad']);
      const t = new PyTensor(dtypeArg(c, a[0] ?? null), intsOf(c, a[1] ?? null, 'size') ?? [], null);
      return t;
    },
  ],
  [
    'torch._utils._rebuild_qtensor',
    (c, a) => {
      const names = [
        'storage',
        'storage_offset',
        'size',
        'stride',
        'quantizer_params',
        'requires_grad',
        'backward_hooks',
      ];
      arity(c, '_rebuild_qtensor', a, names);
      return rebuildStrided(c, '_rebuild_qtensor', a, null);
    },
  ],
  [
    'torch._utils._rebuild_wrapper_subclass',
    (c, a) => {
      const names = ['cls', 'dtype', 'size', 'stride', 'storage_offset', 'layout', 'device', 'requires_grad'];
      arity(c, '_rebuild_wrapper_subclass', a, names);
      const t = new PyTensor(dtypeArg(c, a[1] ?? null), intsOf(c, a[2] ?? null, 'size') ?? [], null);
      t.subclass = calleeName(a[0] ?? null);
      return t;
    },
  ],
  [
    'torch._utils._rebuild_device_tensor_from_numpy',
    (c, a) => {
      arity(c, '_rebuild_device_tensor_from_numpy', a, ['data', 'dtype', 'device', 'requires_grad']);
      c.uncertain = true;
      return new PyTensor(dtypeArg(c, a[1] ?? null), [], null);
    },
  ],
  [
    'torch._utils._rebuild_device_tensor_from_cpu_tensor',
    (c, a) => {
      arity(c, '_rebuild_device_tensor_from_cpu_tensor', a, ['data', 'dtype', 'device', 'requires_grad']);
      const t = asTensor(c, a[0] ?? null, '_rebuild_device_tensor_from_cpu_tensor');
      return new PyTensor(dtypeArg(c, a[1] ?? null), t.shape, t.storage);
    },
  ],
  [
    'torch._utils._rebuild_nested_tensor',
    (c, a) => {
      arity(c, '_rebuild_nested_tensor', a, ['buffer', 'sizes', 'strides', 'storage_offsets']);
      const t = asTensor(c, a[0] ?? null, '_rebuild_nested_tensor');
      return new PyTensor(t.dtype, t.shape, t.storage, 'nested');
    },
  ],
  [
    'torch._utils._rebuild_sparse_tensor',
    (c, a) => {
      arity(c, '_rebuild_sparse_tensor', a, ['layout', 'data']);
      return sparse(c, a, '_rebuild_sparse_tensor');
    },
  ],
  [
    'torch._utils._rebuild_sparse_csr_tensor',
    (c, a) => {
      arity(c, '_rebuild_sparse_csr_tensor', a, ['layout', 'data']);
      return sparse(c, a, '_rebuild_sparse_csr_tensor');
    },
  ],
  [
    'torch._tensor._rebuild_from_type_v2',
    (c, a) => {
      arity(c, '_rebuild_from_type_v2', a, ['func', 'new_type', 'args', 'state']);
      const inner = evaluateCall(c, a[0] ?? null, a[2] ?? null);
      const cls = calleeName(a[1] ?? null);
      if (inner instanceof PyTensor) {
        if (cls === 'torch.nn.parameter.Parameter') return asParameter(inner);
        if (cls !== null && cls !== 'torch.Tensor') inner.subclass = cls;
        return inner;
      }
      if (strict(c) && !(inner instanceof PyUnknown) && !(inner instanceof PyInstance)) {
        throw new CallError('AttributeError', `'${pyTypeName(inner)}' object has no attribute 'as_subclass'`);
      }
      c.uncertain = true;
      return inner;
    },
  ],
  ['collections.OrderedDict', (c, a) => mapping(c, 'collections.OrderedDict', a)],
  ['collections.Counter', (c, a) => mapping(c, 'collections.Counter', a)],
  // defaultdict(default_factory[, mapping]): a dict whose first argument is its factory
  ['collections.defaultdict', (c, a) => mapping(c, 'collections.defaultdict', a.slice(1))],
  [
    'builtins.set',
    (c, a) => {
      if (a.length > 1 && strict(c) && c.mode === 'call')
        throw new CallError('TypeError', `set expected at most 1 argument, got ${a.length}`);
      const s = c.machine.newSet('builtins.set');
      const src = a[0];
      if (c.mode === 'call' && (src instanceof PyList || src instanceof PyTuple)) s.size = src.items.length;
      return s;
    },
  ],
  [
    'builtins.complex',
    (_c, a) => new PyInstance(new PyGlobal('builtins', 'complex'), new PyTuple(a), 'REDUCE'),
  ],
  [
    'builtins.bytearray',
    (_c, a) =>
      new PyBytes(
        a[0] instanceof PyBytes ? a[0].length : typeof a[0] === 'string' ? a[0].length : 0,
        null,
        true,
      ),
  ],
  [
    '_codecs.encode',
    (c, a) => {
      if (strict(c) && (a.length < 1 || a.length > 3))
        throw new CallError(
          'TypeError',
          `encode() takes from 1 to 3 positional arguments but ${a.length} were given`,
        );
      const s = a[0];
      if (typeof s === 'string') {
        const bytes = Uint8Array.from([...s].map((ch) => ch.charCodeAt(0) & 0xff));
        return new PyBytes(bytes.length, bytes.length <= 4096 ? bytes : null, false);
      }
      return new PyBytes(0, null, false);
    },
  ],
  [
    'torch.Size',
    (c, a) => {
      const t = new PyTuple(a[0] instanceof PyTuple || a[0] instanceof PyList ? [...a[0].items] : []);
      t.cls = 'torch.Size';
      if (strict(c) && a.length > 1)
        throw new CallError('TypeError', `Size() takes at most 1 argument (${a.length} given)`);
      return t;
    },
  ],
  [
    'torch.device',
    (_c, a) => new PyInstance(new PyGlobal('torch', 'device'), a.map(pyStr).join(':'), 'REDUCE'),
  ],
  [
    'torch.serialization._get_layout',
    (_c, a) =>
      new PyInstance(
        new PyGlobal('torch', 'layout'),
        typeof a[0] === 'string' ? a[0] : 'torch.strided',
        'REDUCE',
      ),
  ],
  ['torch.Tensor', (_c) => new PyTensor('float32', [0], null)],
  [
    'torch.nn.parameter.Parameter',
    (c, a) => {
      const data = a[0] ?? null;
      if (data === null) return asParameter(new PyTensor('float32', [0], null));
      return asParameter(asTensor(c, data, 'Parameter'));
    },
  ],
  [
    'torch.storage.UntypedStorage',
    (c, a) => {
      const n = toSafeInt(a[0] ?? 0) ?? 0;
      if (n > 1 << 30)
        c.machine.note('large-allocation', `UntypedStorage(${n}) would allocate ${n} bytes at load time`);
      return new PyStorage('uint8', 1, 'anonymous', n, 'cpu');
    },
  ],
]);

/** Evaluates `callee(*args)` (or `callee.__new__(callee, *args)`): the value, or a CallError for the profile. */
export function evaluateCall(c: CallContext, callee: PyValue, argsValue: PyValue): PyValue {
  const args = argsAsList(c, argsValue);
  const name = calleeName(callee);
  if (name === null) {
    if (strict(c) && !(callee instanceof PyUnknown) && !(callee instanceof PyInstance)) {
      throw new CallError('TypeError', `'${pyTypeName(callee)}' object is not callable`);
    }
    c.uncertain = true;
    return new PyInstance(callee, new PyTuple(args), 'REDUCE');
  }
  const model = MODELS.get(name);
  if (model) return model(c, args);
  const d = dtypeOfGlobal(name);
  if (d) {
    if (d.via === 'dtype') return notCallable('torch.dtype')(c, args);
    if (d.via === 'storage') {
      if (c.profile && !c.profile.storageClassesCallable) return notCallable('StorageType')(c, args);
      const n = toSafeInt(args[0] ?? 0) ?? 0;
      return new PyStorage(d.dtype, DTYPES.get(d.dtype)?.elementSize ?? 1, 'anonymous', n, 'cpu');
    }
    return new PyTensor(d.dtype, [0], null);
  }
  if (/^torch\.per_(tensor|channel)_/.test(name)) return notCallable('torch.qscheme')(c, args);
  c.uncertain = true;
  return new PyInstance(callee, new PyTuple(args), 'REDUCE');
}

function argsAsList(c: CallContext, v: PyValue): PyValue[] {
  if (v instanceof PyTuple) return v.items;
  if (v instanceof PyList) return v.items;
  if (
    strict(c) &&
    !(v instanceof PyUnknown) &&
    !(v instanceof PyDict) &&
    !(v instanceof PySet) &&
    typeof v !== 'string'
  ) {
    throw new CallError('TypeError', `argument after * must be an iterable, not ${pyTypeName(v)}`);
  }
  c.uncertain = true;
  return [];
}

/** Python's type(x) as a dotted name, for the BUILD/APPEND/SETITEM policy checks */
export function typeName(v: PyValue): string {
  if (v instanceof PyDict || v instanceof PyList || v instanceof PySet) return v.cls;
  if (v instanceof PyTuple) return v.cls ?? 'builtins.tuple';
  if (v instanceof PyTensor)
    return v.isParameter ? 'torch.nn.parameter.Parameter' : (v.subclass ?? 'torch.Tensor');
  if (v instanceof PyInstance) {
    const callee = calleeName(v.callee) ?? 'builtins.object';
    return callee === 'numpy.dtype' ? numpyDtypeClass(v.args) : callee;
  }
  if (v instanceof PyStorage) return 'torch.storage.TypedStorage';
  if (v instanceof PyGlobal) return 'builtins.type';
  if (v instanceof PyFloat) return 'builtins.float';
  if (v instanceof PyBytes) return v.mutable ? 'builtins.bytearray' : 'builtins.bytes';
  if (!isObject(v)) return `builtins.${pyTypeName(v)}`;
  return 'builtins.object';
}

/**
 * numpy.dtype(code, …) makes an instance of a per-type class (numpy ≥ 1.25, as in the torch 2.6 and 2.14 roots),
 * and torch's BUILD checks that class: `numpy.dtypes.Float64DType` for 'f8'. Codes as numpy's dtype.__reduce__
 * writes them; an unknown code stays `numpy.dtype`.
 */
const NUMPY_DTYPE_CLASSES: Array<[RegExp, string]> = [
  [/^b1$/, 'BoolDType'],
  [/^i1$/, 'Int8DType'],
  [/^i2$/, 'Int16DType'],
  [/^i4$/, 'Int32DType'],
  [/^i8$/, 'Int64DType'],
  [/^u1$/, 'UInt8DType'],
  [/^u2$/, 'UInt16DType'],
  [/^u4$/, 'UInt32DType'],
  [/^u8$/, 'UInt64DType'],
  [/^f2$/, 'Float16DType'],
  [/^f4$/, 'Float32DType'],
  [/^f8$/, 'Float64DType'],
  [/^f16$/, 'LongDoubleDType'],
  [/^c8$/, 'Complex64DType'],
  [/^c16$/, 'Complex128DType'],
  [/^c32$/, 'CLongDoubleDType'],
  [/^O8$/, 'ObjectDType'],
  [/^S\d+$/, 'BytesDType'],
  [/^U\d+$/, 'StrDType'],
  [/^V\d+$/, 'VoidDType'],
  [/^M8$/, 'DateTime64DType'],
  [/^m8$/, 'TimeDelta64DType'],
];

function numpyDtypeClass(args: PyValue): string {
  const code = args instanceof PyTuple && typeof args.items[0] === 'string' ? args.items[0] : null;
  const hit = code === null ? undefined : NUMPY_DTYPE_CLASSES.find(([re]) => re.test(code));
  return hit ? `numpy.dtypes.${hit[1]}` : 'numpy.dtype';
}

/** `<class 'x'>` as Python prints type(x) */
export function classRepr(full: string): string {
  return `<class '${full.startsWith('builtins.') ? full.slice(9) : full}'>`;
}

/** how Python prints an imported object in messages: classes as <class '…'>, functions as <function …> */
export function objectRepr(v: PyValue): string {
  if (!(v instanceof PyGlobal)) return pyStr(v);
  const d = dtypeOfGlobal(v.fullName);
  if (d?.via === 'dtype') return v.fullName;
  if (/^[A-Z]/.test(v.name)) return classRepr(v.fullName);
  return `<function ${v.name}>`;
}
