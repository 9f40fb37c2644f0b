import type { TensorRecord } from '../report';
import { readExactly, type ByteSource } from '@brine/bytes';

/**
 * safetensors header validation, in the order and with the outcomes of the reference implementation
 * (safetensors 0.5–0.8, Rust): header length, UTF-8, JSON shape, dtype vocabulary, offsets contiguous from 0,
 * sizes consistent with shape × dtype, and the buffer ending exactly at the end of the file.
 */

const MAX_HEADER = 100_000_000;

/** dtype → bits per element */
const DTYPE_BITS: ReadonlyMap<string, number> = new Map([
  ['BOOL', 8],
  ['U8', 8],
  ['I8', 8],
  ['I16', 16],
  ['U16', 16],
  ['F16', 16],
  ['BF16', 16],
  ['I32', 32],
  ['U32', 32],
  ['F32', 32],
  ['F64', 64],
  ['I64', 64],
  ['U64', 64],
  ['F8_E5M2', 8],
  ['F8_E4M3', 8],
  ['F8_E8M0', 8],
  ['F8_E4M3FNUZ', 8],
  ['F8_E5M2FNUZ', 8],
  ['F4', 4],
  ['F6_E2M3', 6],
  ['F6_E3M2', 6],
  ['C64', 64],
]);

const TORCH_NAME: Readonly<Record<string, string>> = {
  BOOL: 'bool',
  U8: 'uint8',
  I8: 'int8',
  I16: 'int16',
  U16: 'uint16',
  F16: 'float16',
  BF16: 'bfloat16',
  I32: 'int32',
  U32: 'uint32',
  F32: 'float32',
  F64: 'float64',
  I64: 'int64',
  U64: 'uint64',
  F8_E5M2: 'float8_e5m2',
  F8_E4M3: 'float8_e4m3fn',
  F8_E8M0: 'float8_e8m0fnu',
  F8_E4M3FNUZ: 'float8_e4m3fnuz',
  F8_E5M2FNUZ: 'float8_e5m2fnuz',
  F4: 'float4_e2m1fn_x2',
  F6_E2M3: 'float6_e2m3',
  F6_E3M2: 'float6_e3m2',
  C64: 'complex64',
};

export interface SafetensorsResult {
  /** null when the header is valid */
  error: string | null;
  tensors: TensorRecord[];
  metadata: Record<string, string> | null;
  headerLength: number;
}

/** Cheap test used for format detection: a plausible length prefix followed by a JSON object. */
export async function looksLikeSafetensors(src: ByteSource): Promise<boolean> {
  if (src.size < 10) return false;
  const head = await src.read(0, 16);
  const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  if (n < 2 || n > MAX_HEADER || n + 8 > src.size) return false;
  for (let i = 8; i < head.length; i++) {
    const c = head[i];
    if (c === 0x7b) return true; // '{'
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return false;
}

function fail(msg: string, headerLength = 0): SafetensorsResult {
  return {
    error: `SafetensorError: Error while deserializing header: ${msg}`,
    tensors: [],
    metadata: null,
    headerLength,
  };
}

export async function validateSafetensors(src: ByteSource): Promise<SafetensorsResult> {
  if (src.size < 8) return fail('header too small');
  const lenBytes = await readExactly(src, 0, 8);
  const big = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (big > BigInt(MAX_HEADER)) return fail('header too large');
  const n = Number(big);
  if (n + 8 > src.size) return fail('invalid header length');
  const headerBytes = await readExactly(src, 8, n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return fail('invalid UTF-8 in header', n);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(`invalid JSON in header: ${(e as Error).message}`, n);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail('invalid JSON in header: invalid type, expected struct HashMetadata', n);
  }
  let metadata: Record<string, string> | null = null;
  const infos: Array<{ name: string; dtype: string; shape: number[]; begin: number; end: number }> = [];
  for (const [name, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        return fail('invalid JSON in header: __metadata__ must be a map', n);
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (typeof x !== 'string')
          return fail(`invalid JSON in header: invalid type for metadata "${k}", expected a string`, n);
      }
      metadata = v as Record<string, string>;
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return fail(`invalid JSON in header: tensor "${name}" is not an object`, n);
    const info = v as Record<string, unknown>;
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!(field in info)) return fail(`invalid JSON in header: missing field \`${field}\``, n);
    }
    const dtype = info.dtype;
    if (typeof dtype !== 'string' || !DTYPE_BITS.has(dtype)) {
      return fail(`invalid JSON in header: unknown variant \`${String(dtype)}\``, n);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      return fail(`invalid JSON in header: invalid shape for "${name}"`, n);
    }
    const off = info.data_offsets;
    if (!Array.isArray(off) || off.length !== 2) {
      return fail(
        `invalid JSON in header: invalid length ${Array.isArray(off) ? off.length : 0}, expected 2 elements in sequence`,
        n,
      );
    }
    if (!off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      return fail(`invalid JSON in header: invalid value for data_offsets of "${name}", expected usize`, n);
    }
    infos.push({ name, dtype, shape: shape as number[], begin: off[0] as number, end: off[1] as number });
  }
  // contiguous from 0, no holes or overlaps (sorted by offsets)
  const sorted = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const t of sorted) {
    if (t.begin !== expected || t.end < t.begin) return fail(`invalid offset for tensor \`${t.name}\``, n);
    let numel = 1;
    for (const d of t.shape) {
      numel *= d;
      if (!Number.isSafeInteger(numel))
        return fail(`overflow computing buffer size for tensor \`${t.name}\``, n);
    }
    const bits = numel * (DTYPE_BITS.get(t.dtype) ?? 8);
    if (bits % 8 !== 0) {
      return fail(
        'The slice is slicing for subbytes dtypes, and the slice does not end up at a byte boundary, this is invalid.',
        n,
      );
    }
    if (t.end - t.begin !== bits / 8) return fail('invalid shape, data type, or offset for tensor', n);
    expected = t.end;
  }
  if (expected + 8 + n !== src.size) return fail('incomplete metadata, file not fully covered', n);
  const tensors: TensorRecord[] = infos.map((t) => {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    return {
      name: t.name,
      dtype: TORCH_NAME[t.dtype] ?? t.dtype,
      shape: t.shape,
      numel,
      bytes: t.end - t.begin,
    };
  });
  return { error: null, tensors, metadata, headerLength: n };
}
