/**
 * The safetensors layout as the reference serializer (huggingface/safetensors, `prepare` in tensor.rs) writes it:
 * tensors sorted by descending dtype alignment, then by name (bytewise); data offsets contiguous from 0; the JSON
 * header (`__metadata__` first, all of its values strings) padded with spaces to a multiple of 8 bytes; an 8-byte
 * little-endian header length in front.
 */

/** torch dtype → safetensors dtype; a dtype missing here has no safetensors counterpart (complex128, quantized …) */
export const SAFETENSORS_DTYPE: ReadonlyMap<string, string> = new Map([
  ['bool', 'BOOL'],
  ['uint8', 'U8'],
  ['int8', 'I8'],
  ['float8_e5m2', 'F8_E5M2'],
  ['float8_e4m3fn', 'F8_E4M3'],
  ['int16', 'I16'],
  ['uint16', 'U16'],
  ['float16', 'F16'],
  ['bfloat16', 'BF16'],
  ['int32', 'I32'],
  ['uint32', 'U32'],
  ['float32', 'F32'],
  ['complex64', 'C64'],
  ['float64', 'F64'],
  ['int64', 'I64'],
  ['uint64', 'U64'],
]);

/** the order of safetensors' Dtype enum (increasing alignment), which the serializer sorts by */
const DTYPE_RANK: ReadonlyMap<string, number> = new Map(
  [
    'BOOL',
    'F4',
    'F6_E2M3',
    'F6_E3M2',
    'U8',
    'I8',
    'F8_E5M2',
    'F8_E4M3',
    'F8_E8M0',
    'I16',
    'U16',
    'F16',
    'BF16',
    'I32',
    'U32',
    'F32',
    'C64',
    'F64',
    'I64',
    'U64',
  ].map((d, i) => [d, i]),
);

export interface LayoutTensor {
  name: string;
  /** safetensors dtype */
  dtype: string;
  shape: number[];
  /** bytes of the tensor's data */
  bytes: number;
}

export interface Layout<T extends LayoutTensor> {
  /** the 8-byte length and the padded JSON header */
  header: Buffer;
  /** the tensors in file order, each with its data offsets */
  tensors: Array<T & { begin: number; end: number }>;
  /** header + data */
  size: number;
}

const byName = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

export function safetensorsLayout<T extends LayoutTensor>(
  tensors: T[],
  metadata: Record<string, string>,
): Layout<T> {
  const sorted = [...tensors].sort(
    (a, b) => (DTYPE_RANK.get(b.dtype) ?? 0) - (DTYPE_RANK.get(a.dtype) ?? 0) || byName(a.name, b.name),
  );
  let offset = 0;
  const placed = sorted.map((t) => {
    const begin = offset;
    offset += t.bytes;
    return { ...t, begin, end: offset };
  });
  // written pair by pair: a JS object would put integer-like names ("0") first
  const pairs: string[] = [];
  const metaKeys = Object.keys(metadata).sort(byName);
  if (metaKeys.length > 0)
    pairs.push(
      `"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`,
    );
  for (const t of placed) {
    if (t.name === '__metadata__') throw new Error('a tensor cannot be named __metadata__');
    pairs.push(
      `${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [t.begin, t.end] })}`,
    );
  }
  let text = Buffer.from(`{${pairs.join(',')}}`, 'utf8');
  const pad = (8 - (text.length % 8)) % 8;
  if (pad > 0) text = Buffer.concat([text, Buffer.alloc(pad, 0x20)]);
  const header = Buffer.alloc(8 + text.length);
  header.writeBigUInt64LE(BigInt(text.length), 0);
  text.copy(header, 8);
  return { header, tensors: placed, size: header.length + offset };
}
