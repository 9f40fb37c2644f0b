/** torch dtypes, their element sizes (bits for sub-byte types), and the legacy storage classes that name them. */

export interface DtypeInfo {
  readonly name: string;
  /** bytes per element as torch._utils._element_size reports it (sub-byte types report 1) */
  readonly elementSize: number;
  /** bits per element, for byte counts of packed types */
  readonly bits: number;
}

const SIZES: ReadonlyArray<readonly [string, number, number?]> = [
  ['float64', 8],
  ['float32', 4],
  ['float16', 2],
  ['bfloat16', 2],
  ['int64', 8],
  ['int32', 4],
  ['int16', 2],
  ['int8', 1],
  ['uint8', 1],
  ['uint16', 2],
  ['uint32', 4],
  ['uint64', 8],
  ['bool', 1],
  ['complex32', 4],
  ['complex64', 8],
  ['complex128', 16],
  ['bcomplex32', 4],
  ['qint8', 1],
  ['quint8', 1],
  ['qint32', 4],
  ['quint4x2', 1, 4],
  ['quint2x4', 1, 2],
  ['float8_e5m2', 1],
  ['float8_e4m3fn', 1],
  ['float8_e5m2fnuz', 1],
  ['float8_e4m3fnuz', 1],
  ['float8_e8m0fnu', 1],
  ['float4_e2m1fn_x2', 1],
  ['bits8', 1],
  ['bits16', 2],
  ['bits1x8', 1],
  ['bits2x4', 1],
  ['bits4x2', 1],
  ...[1, 2, 3, 4, 5, 6, 7].flatMap((b): Array<readonly [string, number, number]> => [
    [`uint${b}`, 1, b],
    [`int${b}`, 1, b],
  ]),
];

export const DTYPES: ReadonlyMap<string, DtypeInfo> = new Map(
  SIZES.map(([name, size, bits]) => [name, { name, elementSize: size, bits: bits ?? size * 8 }]),
);

/** `torch.<XStorage>` legacy storage classes → dtype */
export const STORAGE_CLASS_DTYPE: ReadonlyMap<string, string> = new Map([
  ['DoubleStorage', 'float64'],
  ['FloatStorage', 'float32'],
  ['HalfStorage', 'float16'],
  ['LongStorage', 'int64'],
  ['IntStorage', 'int32'],
  ['ShortStorage', 'int16'],
  ['CharStorage', 'int8'],
  ['ByteStorage', 'uint8'],
  ['BoolStorage', 'bool'],
  ['BFloat16Storage', 'bfloat16'],
  ['ComplexDoubleStorage', 'complex128'],
  ['ComplexFloatStorage', 'complex64'],
  ['QUInt8Storage', 'quint8'],
  ['QInt8Storage', 'qint8'],
  ['QInt32Storage', 'qint32'],
  ['QUInt4x2Storage', 'quint4x2'],
  ['QUInt2x4Storage', 'quint2x4'],
]);

/** legacy tensor types `torch.FloatTensor` … (they carry a dtype too) */
export const TENSOR_CLASS_DTYPE: ReadonlyMap<string, string> = new Map([
  ['DoubleTensor', 'float64'],
  ['FloatTensor', 'float32'],
  ['HalfTensor', 'float16'],
  ['BFloat16Tensor', 'bfloat16'],
  ['LongTensor', 'int64'],
  ['IntTensor', 'int32'],
  ['ShortTensor', 'int16'],
  ['CharTensor', 'int8'],
  ['ByteTensor', 'uint8'],
  ['BoolTensor', 'bool'],
]);

/** Python's repr of a dtype's storage-type name, as PyTorch words its record-size message ("Byte", "Float") */
export const DTYPE_SCALAR_NAME: ReadonlyMap<string, string> = new Map([
  ['uint8', 'Byte'],
  ['int8', 'Char'],
  ['int16', 'Short'],
  ['int32', 'Int'],
  ['int64', 'Long'],
  ['float16', 'Half'],
  ['float32', 'Float'],
  ['float64', 'Double'],
  ['bfloat16', 'BFloat16'],
  ['bool', 'Bool'],
  ['complex64', 'ComplexFloat'],
  ['complex128', 'ComplexDouble'],
]);

/** full name of a GLOBAL → the dtype it denotes, for `torch.float32`, `torch.FloatStorage`, `torch.cuda.FloatTensor` … */
export function dtypeOfGlobal(full: string): GlobalDtype | null {
  let r = DTYPE_OF_GLOBAL.get(full);
  if (r === undefined) {
    r = findDtypeOfGlobal(full);
    if (DTYPE_OF_GLOBAL.size < 10_000) DTYPE_OF_GLOBAL.set(full, r);
  }
  return r;
}

export interface GlobalDtype {
  readonly dtype: string;
  readonly via: 'dtype' | 'storage' | 'tensor-class';
}

/** answers by name, kept (bounded) because a state dict asks the same few names once per tensor */
const DTYPE_OF_GLOBAL = new Map<string, GlobalDtype | null>();

function findDtypeOfGlobal(full: string): GlobalDtype | null {
  const m = /^torch\.(?:cuda\.)?(?:sparse\.)?([A-Za-z0-9_]+)$/.exec(full);
  if (!m) return null;
  const n = m[1];
  if (full.split('.').length === 2 && DTYPES.has(n)) return { dtype: n, via: 'dtype' };
  const s = STORAGE_CLASS_DTYPE.get(n);
  if (s) return { dtype: s, via: 'storage' };
  const t = TENSOR_CLASS_DTYPE.get(n);
  if (t) return { dtype: t, via: 'tensor-class' };
  return null;
}

/** bytes for numel elements of dtype (packed sub-byte types round up) */
export function dtypeBytes(dtype: string, numel: number): number {
  const d = DTYPES.get(dtype);
  if (!d) return numel;
  return d.bits >= 8 ? numel * d.elementSize : Math.ceil((numel * d.bits) / 8);
}
