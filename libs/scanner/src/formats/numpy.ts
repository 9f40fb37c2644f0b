import type { ByteSource } from '../source';

/** numpy .npy headers: `\x93NUMPY`, version, header length, then a Python dict literal. */

export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

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

export async function readNpyHeader(src: ByteSource, base = 0): Promise<NpyHeader | string> {
  const pre = await src.read(base, 12);
  if (pre.length < 10 || !isNpy(pre)) return 'not an .npy file';
  const major = pre[6];
  const dv = new DataView(pre.buffer, pre.byteOffset, pre.length);
  let hlen: number;
  let start: number;
  if (major === 1) {
    hlen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (pre.length < 12) return 'truncated .npy header';
    hlen = dv.getUint32(8, true);
    start = 12;
  } else return `unsupported .npy version ${major}`;
  if (hlen > 1 << 20 || base + start + hlen > src.size) return 'invalid .npy header length';
  const text = Buffer.from(await src.read(base + start, hlen)).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*('([^']*)'|\[.*\])\s*,/s.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shape) return 'invalid .npy header dictionary';
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => Number(s.replace(/L$/, '')));
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) return 'invalid .npy shape';
  const d = descr[2] ?? descr[1];
  const objects = /O/.test(d);
  const m = /^[<>|=]?([a-zA-Z])(\d+)/.exec(d);
  let itemSize: number | null = null;
  let dtype = d;
  if (m) {
    const code = m[1] + m[2];
    dtype = KINDS[code] ?? d;
    itemSize = m[1] === 'U' ? 4 * Number(m[2]) : Number(m[2]);
  }
  return {
    descr: d,
    fortranOrder: fortran[1] === 'True',
    shape: dims,
    dataOffset: base + start + hlen,
    objects,
    itemSize,
    dtype,
  };
}
