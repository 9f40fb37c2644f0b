import type { ByteSource } from '@brine/bytes';
import { LiteralError, literalEquals, literalEval, type PyLiteral } from './python-literal';

/**
 * numpy .npy headers, read as numpy.lib.format reads them: `\x93NUMPY`, a (major, 0) version, the header length
 * (2 bytes for 1.0, 4 for 2.0 and 3.0), then a Python dict literal evaluated with `ast.literal_eval` (Latin-1 for
 * 1.0/2.0, UTF-8 for 3.0; Python 2 `L` suffixes dropped for 1.0/2.0). A repeated key takes its last value, as in
 * Python; when an earlier value differs, readers that take the first one see another array — that is reported.
 */

export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** numpy's _MAX_HEADER_SIZE: larger headers load only with allow_pickle=True */
const MAX_HEADER_SIZE = 10_000;

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** absolute offset of the array data (or of the pickle, for object arrays) */
  dataOffset: number;
  /** the array holds Python objects: its data is a pickle */
  objects: boolean;
  itemSize: number | null;
  dtype: string;
  /** a repeated key whose values differ: what a first-value reader would see instead */
  differential: string | null;
  /** the header is longer than numpy reads without allow_pickle=True */
  oversized: boolean;
}

export function isNpy(head: Uint8Array): boolean {
  return NPY_MAGIC.every((b, i) => head[i] === b);
}

const KINDS: Readonly<Record<string, string>> = {
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
  b1: 'bool',
  c8: 'complex64',
  c16: 'complex128',
};

const EXPECTED_KEYS = ['descr', 'fortran_order', 'shape'];

function show(v: PyLiteral): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));
}

/** whether a dtype description can hold Python objects (numpy then pickles the array) */
function holdsObjects(descr: PyLiteral): boolean {
  if (typeof descr === 'string') return /O|object/.test(descr);
  if (descr !== null && typeof descr === 'object' && (descr.t === 'list' || descr.t === 'tuple'))
    return descr.items.some(holdsObjects);
  return false;
}

export async function readNpyHeader(src: ByteSource, base = 0): Promise<NpyHeader | string> {
  const pre = await src.read(base, 12);
  if (pre.length < 10 || !isNpy(pre)) return 'not an .npy file';
  const major = pre[6];
  const minor = pre[7];
  if (minor !== 0 || major < 1 || major > 3) return `Invalid version (${major}, ${minor})`;
  const dv = new DataView(pre.buffer, pre.byteOffset, pre.length);
  let hlen: number;
  let start: number;
  if (major === 1) {
    hlen = dv.getUint16(8, true);
    start = 10;
  } else {
    if (pre.length < 12) return 'EOF: reading array header length';
    hlen = dv.getUint32(8, true);
    start = 12;
  }
  if (base + start + hlen > src.size) return 'EOF: reading array header';
  if (hlen > 16 * 1024 * 1024) return `array header of ${hlen} bytes is beyond the scan limit`;
  const text = Buffer.from(await src.read(base + start, hlen)).toString(major === 3 ? 'utf8' : 'latin1');
  let d: PyLiteral;
  try {
    try {
      d = literalEval(text);
    } catch (e) {
      if (major === 3 || !(e instanceof LiteralError)) throw e;
      d = literalEval(text, true);
    }
  } catch (e) {
    return `Cannot parse header: ${(e as Error).message}`;
  }
  if (d === null || typeof d !== 'object' || d.t !== 'dict') return 'Header is not a dictionary';
  const keys = d.entries.map(([k]) => k);
  if (
    keys.length !== 3 ||
    !EXPECTED_KEYS.every((k) => keys.includes(k)) ||
    !keys.every((k) => typeof k === 'string')
  ) {
    return `Header does not contain the correct keys: ${show({ t: 'list', items: keys })}`;
  }
  const get = (k: string) =>
    (d as { entries: Array<[PyLiteral, PyLiteral]> }).entries.find(([x]) => x === k)![1];
  const shapeV = get('shape');
  if (
    shapeV === null ||
    typeof shapeV !== 'object' ||
    shapeV.t !== 'tuple' ||
    !shapeV.items.every(
      (x) => typeof x === 'boolean' || (x !== null && typeof x === 'object' && x.t === 'int'),
    )
  ) {
    return `shape is not valid: ${show(shapeV)}`;
  }
  const shape = shapeV.items.map((x) =>
    typeof x === 'boolean' ? Number(x) : Number((x as { v: bigint }).v),
  );
  if (shape.some((x) => !Number.isSafeInteger(x) || x < 0)) return `shape is not valid: ${show(shapeV)}`;
  const fortran = get('fortran_order');
  if (typeof fortran !== 'boolean') return `fortran_order is not a valid bool: ${show(fortran)}`;
  const descrV = get('descr');
  if (typeof descrV !== 'string' && !(descrV !== null && typeof descrV === 'object' && descrV.t === 'list'))
    return `descr is not a valid dtype descriptor: ${show(descrV)}`;
  const differing = d.duplicates.filter(([, values]) => !literalEquals(values[0], values[values.length - 1]));
  const differential =
    differing.length === 0
      ? null
      : `the header repeats ${differing.map(([k]) => show(k)).join(', ')} with different values: numpy takes the last (${differing.map(([, v]) => show(v[v.length - 1])).join(', ')}), a reader that takes the first sees ${differing.map(([, v]) => show(v[0])).join(', ')}`;
  const descr = typeof descrV === 'string' ? descrV : show(descrV);
  const m = typeof descrV === 'string' ? /^[<>|=]?([a-zA-Z])(\d+)$/.exec(descrV) : null;
  let itemSize: number | null = null;
  let dtype = descr;
  if (m) {
    dtype = KINDS[m[1] + m[2]] ?? descr;
    itemSize = m[1] === 'U' ? 4 * Number(m[2]) : Number(m[2]);
  }
  return {
    descr,
    fortranOrder: fortran,
    shape,
    dataOffset: base + start + hlen,
    objects: holdsObjects(descrV),
    itemSize,
    dtype,
    differential,
    oversized: text.length > MAX_HEADER_SIZE,
  };
}
