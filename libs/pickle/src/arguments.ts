import type { Machine } from './machine';
import { PyBytes, PyFloat, type PyValue } from './values';
import { DecodeError, decodeAscii, decodeLatin1, decodeUtf8, parsePythonInt } from './text';

/**
 * Argument readers: each reads the opcode's inline argument at `m.pos`, advances `m.pos`, and returns the decoded
 * value. When the window ends before the argument does, they call `m.needMore(n)` (which throws), so the machine
 * can refill and retry the whole opcode. Declared lengths are checked against the stream before anything is
 * allocated; long payloads are skipped rather than copied.
 */
export interface ArgReader {
  readonly name: string;
  /** fixed size in bytes, or -1 for variable-length arguments */
  readonly size: number;
  /** how the machine's loop decodes it: a fixed-width ARG_* kind inline, ARG_READER through read() */
  readonly kind: ArgKind;
  read(m: Machine): ArgValue;
}

/** argument kinds the machine decodes inline; everything else is read through the reader */
export const ARG_NONE = 0;
export const ARG_UINT1 = 1;
export const ARG_UINT2 = 2;
export const ARG_INT4 = 3;
export const ARG_UINT4 = 4;
export const ARG_FLOAT8 = 5;
export const ARG_READER = 9;
export type ArgKind = 0 | 1 | 2 | 3 | 4 | 5 | 9;

export type ArgValue = number | bigint | string | PyValue | GlobalArg | TextLine | undefined;

export interface GlobalArg {
  readonly module: string;
  readonly name: string;
}

/** a newline-terminated argument, raw (PERSID/INT/LONG/FLOAT/STRING/UNICODE/GET/PUT decode it further) */
export interface TextLine {
  readonly line: Uint8Array;
}

function fixed(
  name: string,
  size: number,
  kind: ArgKind,
  read: (m: Machine, i: number) => ArgValue,
): ArgReader {
  return {
    name,
    size,
    kind,
    read(m) {
      const i = m.pos;
      if (i + size > m.end) m.needMore(size);
      m.pos = i + size;
      return read(m, i);
    },
  };
}

export const uint1 = fixed('uint1', 1, ARG_UINT1, (m, i) => m.buf[i]);
export const uint2 = fixed('uint2', 2, ARG_UINT2, (m, i) => m.buf[i] | (m.buf[i + 1] << 8));
export const int4 = fixed('int4', 4, ARG_INT4, (m, i) => m.view.getInt32(i, true));
export const uint4 = fixed('uint4', 4, ARG_UINT4, (m, i) => m.view.getUint32(i, true));
export const uint8 = fixed('uint8', 8, ARG_READER, (m, i) => {
  const v = m.view.getBigUint64(i, true);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
});
export const float8 = fixed('float8', 8, ARG_FLOAT8, (m, i) => new PyFloat(m.view.getFloat64(i, false)));

/** two's-complement little-endian integer of n bytes */
export function decodeLong(b: Uint8Array, start: number, n: number): number | bigint {
  if (n === 0) return 0;
  if (n <= 6) {
    let v = 0;
    for (let k = n - 1; k >= 0; k--) v = v * 256 + b[start + k];
    if (b[start + n - 1] & 0x80) v -= 2 ** (8 * n);
    return v;
  }
  let v = 0n;
  for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[start + k]);
  if (b[start + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** length-prefixed payloads: `lenSize` bytes of length, then that many bytes */
function counted(
  name: string,
  lenSize: 1 | 4 | 8,
  signed: boolean,
  make: (m: Machine, start: number, len: number, kept: boolean) => ArgValue,
): ArgReader {
  return {
    name,
    size: -1,
    kind: ARG_READER,
    read(m) {
      const i = m.pos;
      if (i + lenSize > m.end) m.needMore(lenSize);
      let len: number;
      if (lenSize === 1) len = m.buf[i];
      else if (lenSize === 4) len = signed ? m.view.getInt32(i, true) : m.view.getUint32(i, true);
      else {
        const big = m.view.getBigUint64(i, true);
        len = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
      }
      if (len < 0) m.fail('UnpicklingError', `${name} pickle has negative byte count`, 'value');
      const start = i + lenSize;
      // checked before anything is allocated: the declared length must fit in what is left of the stream
      if (m.base + start + len > m.streamEnd) {
        m.fail('UnpicklingError', 'pickle data was truncated', 'truncated');
      }
      const kept = len <= m.limits.maxRetainedBytes;
      if (kept && start + len > m.end) m.needMore(lenSize + len);
      m.pos = start + len; // may run past the window: the driver then skips ahead
      return make(m, start, len, kept);
    },
  };
}

/**
 * A copy of buf[start, start + len). Short payloads share 64 KiB slabs (a view each) rather than an ArrayBuffer
 * apiece: a pickle of millions of small bytes objects would otherwise make millions of buffers outside the heap.
 * (Nothing writes into a PyBytes' data.)
 */
function copyBytes(buf: Uint8Array, start: number, len: number): Uint8Array {
  if (len > SLAB_ITEM) return buf.slice(start, start + len);
  if (slabUsed + len > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + len);
  for (let k = 0; k < len; k++) out[k] = buf[start + k];
  slabUsed += len;
  return out;
}
const SLAB_BYTES = 64 * 1024;
const SLAB_ITEM = 256;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

function bytesValue(mutable: boolean) {
  return (m: Machine, start: number, len: number, kept: boolean): PyValue =>
    new PyBytes(len, kept ? copyBytes(m.buf, start, len) : null, mutable, m.base + start);
}

function strValue(codec: 'utf-8' | 'utf-8-surrogatepass' | 'bytes-or-str') {
  return (m: Machine, start: number, len: number, kept: boolean): PyValue => {
    if (!kept) {
      m.note('long-string', `a string of ${len} bytes was skipped, not decoded`);
      return `<${len} bytes not decoded>`;
    }
    if (codec === 'bytes-or-str') return m.decodeLegacyString(start, start + len);
    try {
      return decodeUtf8(m.buf, start, start + len, codec === 'utf-8-surrogatepass');
    } catch (e) {
      if (e instanceof DecodeError) m.fail('UnicodeDecodeError', e.message, 'decode');
      throw e;
    }
  };
}

export const bytes1 = counted('SHORT_BINBYTES', 1, false, bytesValue(false));
export const bytes4 = counted('BINBYTES', 4, false, bytesValue(false));
export const bytes8 = counted('BINBYTES8', 8, false, bytesValue(false));
export const bytearray8 = counted('BYTEARRAY8', 8, false, bytesValue(true));
export const unicodestring1 = counted('SHORT_BINUNICODE', 1, false, strValue('utf-8-surrogatepass'));
export const unicodestring4 = counted('BINUNICODE', 4, false, strValue('utf-8-surrogatepass'));
export const unicodestring8 = counted('BINUNICODE8', 8, false, strValue('utf-8-surrogatepass'));
/** SHORT_BINSTRING / BINSTRING: Python 2 str, decoded with the unpickler's encoding */
export const string1 = counted('SHORT_BINSTRING', 1, false, strValue('bytes-or-str'));
export const string4 = counted('BINSTRING', 4, true, strValue('bytes-or-str'));

export const long1: ArgReader = {
  name: 'long1',
  size: -1,
  kind: ARG_READER,
  read(m) {
    const i = m.pos;
    if (i + 1 > m.end) m.needMore(1);
    const n = m.buf[i];
    if (i + 1 + n > m.end) m.needMore(1 + n);
    m.pos = i + 1 + n;
    return decodeLong(m.buf, i + 1, n);
  },
};

export const long4: ArgReader = {
  name: 'long4',
  size: -1,
  kind: ARG_READER,
  read(m) {
    const i = m.pos;
    if (i + 4 > m.end) m.needMore(4);
    const n = m.view.getInt32(i, true);
    if (n < 0) m.fail('UnpicklingError', 'LONG pickle has negative byte count', 'value');
    if (m.base + i + 4 + n > m.streamEnd) m.fail('UnpicklingError', 'pickle data was truncated', 'truncated');
    if (n > m.limits.maxRetainedBytes) {
      m.pos = i + 4 + n;
      m.note('long-int', `an integer of ${n} bytes was skipped`);
      return 2n ** 64n; // a big int: its exact value is irrelevant to every check we make
    }
    if (i + 4 + n > m.end) m.needMore(4 + n);
    m.pos = i + 4 + n;
    return decodeLong(m.buf, i + 4, n);
  },
};

/** one newline-terminated line; the newline is consumed but not returned */
function readLine(m: Machine): Uint8Array {
  const i = m.pos;
  return m.buf.subarray(i, lineEnd(m));
}

/** where the line at m.pos ends (its newline, not included), with m.pos moved past the newline */
function lineEnd(m: Machine): number {
  const i = m.pos;
  const max = m.limits.maxLineBytes;
  const stop = Math.min(m.end, i + max + 1);
  for (let k = i; k < stop; k++) {
    if (m.buf[k] === 0x0a) {
      m.pos = k + 1;
      return k;
    }
  }
  if (stop - i > max) m.fail('UnpicklingError', `a text argument is longer than ${max} bytes`, 'limit');
  if (m.base + m.end >= m.streamEnd) {
    // Python's readline()[:-1] at the end of the stream: the partial line minus its last character
    if (i === m.end) m.fail('EOFError', '', 'truncated');
    m.pos = m.end;
    m.note('line-at-eof', 'a text argument ends at the end of the stream without a newline');
    return m.end - 1;
  }
  m.needMore(m.end - i + 1);
}

export const stringnl: ArgReader = {
  name: 'stringnl',
  size: -1,
  kind: ARG_READER,
  read: (m) => ({ line: readLine(m) }),
};
export const decimalnl: ArgReader = {
  name: 'decimalnl',
  size: -1,
  kind: ARG_READER,
  read: (m) => ({ line: readLine(m) }),
};
/** GET and PUT: a memo index as a decimal line, Python's int() of it (base 10), decoded here */
export const memoIndexnl: ArgReader = {
  name: 'decimalnl_short',
  size: -1,
  kind: ARG_READER,
  read(m) {
    const start = m.pos;
    const end = lineEnd(m);
    const v = simpleInt(m.buf, start, end, false);
    return v ?? lineInt(m, m.buf.subarray(start, end), false);
  },
};
export const floatnl: ArgReader = {
  name: 'floatnl',
  size: -1,
  kind: ARG_READER,
  read: (m) => ({ line: readLine(m) }),
};
export const unicodestringnl: ArgReader = {
  name: 'unicodestringnl',
  size: -1,
  kind: ARG_READER,
  read: (m) => ({ line: readLine(m) }),
};
export const stringnlNoescape: ArgReader = {
  name: 'stringnl_noescape',
  size: -1,
  kind: ARG_READER,
  read: (m) => ({ line: readLine(m) }),
};

/** GLOBAL and INST: module and name, each on its own line */
export function globalPair(codec: 'utf-8' | 'ascii'): ArgReader {
  return {
    name: 'stringnl_noescape_pair',
    size: -1,
    kind: ARG_READER,
    read(m) {
      const a = readLine(m);
      const b = readLine(m);
      const decode = (x: Uint8Array): string =>
        codec === 'ascii' ? decodeAscii(x, 0, x.length) : decodeUtf8(x, 0, x.length, false);
      try {
        return { module: decode(a), name: decode(b) };
      } catch (e) {
        if (e instanceof DecodeError) m.fail('UnicodeDecodeError', e.message, 'decode');
        throw e;
      }
    },
  };
}

// ---- decoding of text arguments, shared by the opcodes that need them ----

export function lineText(line: Uint8Array): string {
  return decodeLatin1(line, 0, line.length);
}

/**
 * The common case of a text integer, `[+-]?digits` of up to 15 digits, read from the bytes without a string:
 * Python's int() of it is its value. Null for anything else (base 0 refuses leading zeros, so "007" is left to
 * the general path, which fails as Python fails).
 */
function simpleInt(b: Uint8Array, start: number, end: number, base0: boolean): number | null {
  let i = start < end && (b[start] === 0x2d || b[start] === 0x2b) ? start + 1 : start;
  const digits = end - i;
  if (digits < 1 || digits > 15 || (base0 && b[i] === 0x30 && digits > 1)) return null;
  let v = 0;
  for (; i < end; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return b[start] === 0x2d ? -v : v;
}

export function lineInt(m: Machine, line: Uint8Array, base0: boolean): number | bigint {
  const simple = simpleInt(line, 0, line.length, base0);
  if (simple !== null) return simple;
  const v = parsePythonInt(lineText(line), base0);
  if (v === null)
    m.fail('ValueError', `invalid literal for int(): '${lineText(line).slice(0, 40)}'`, 'value');
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
