import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { MemorySource } from '../source';
import { DecodeError, DecodeLimitError, InputCursor, MAX_STREAMS, tooManyStreams } from './input';

/**
 * A bounded LZMA decoder for what CPython's lzma module opens with its default FORMAT_AUTO (joblib's `lzma` and
 * `xz` compressors, pandas' `.xz`): `.xz` streams (LZMA2 blocks, CRC-32/CRC-64/SHA-256 checks, the index and the
 * footer verified as liblzma verifies them) and `.lzma` ("alone") streams, with liblzma's auto-decoder checks on the
 * alone header (dictionary sizes 2^n or 2^n + 2^(n-1), a known size below 256 GiB). Written from the format
 * specifications (LZMA SDK's LzmaSpec, the .xz file format 1.1.0), not from liblzma's code.
 *
 * Bounded: the dictionary grows with the output and never past `maxWindow` (a stream that refers further back
 * stops with DecodeLimitError); output is yielded in chunks; input is read through the cursor's window.
 * Filters other than LZMA2 (BCJ, delta) are refused (DecodeError: the file is then never judged safe).
 */

const CHUNK = 256 * 1024;
/** the most input one LZMA symbol can consume, with margin */
const SYMBOL_INPUT = 64;
const DICT_MIN = 4096;

/** the dictionary: a window over the output, grown as the output grows, circular once at its limit */
class Window {
  buf: Uint8Array;
  /** bytes written so far */
  total = 0;
  /** bytes handed out so far */
  flushed = 0;
  private readonly capacity: number;

  constructor(
    /** the stream's dictionary size: distances must stay below it */
    public dictSize: number,
    maxWindow: number,
  ) {
    this.capacity = Math.max(Math.min(Math.max(dictSize, DICT_MIN), maxWindow), 4 * CHUNK);
    this.buf = new Uint8Array(Math.min(this.capacity, 1024 * 1024));
  }

  reset(dictSize: number): void {
    this.dictSize = dictSize;
    // a dictionary reset forgets the past; what was not handed out yet stays
    this.resetAt = this.total;
  }

  /** output before this position cannot be referred to (LZMA2 dictionary reset) */
  resetAt = 0;

  /** where the next byte goes in buf (total, until the window wraps) */
  private pos = 0;

  private grow(): void {
    if (this.buf.length >= this.capacity) return;
    const next = new Uint8Array(Math.min(this.capacity, this.buf.length * 2));
    next.set(this.buf);
    this.buf = next;
  }

  put(b: number): void {
    if (this.pos === this.buf.length) {
      if (this.buf.length < this.capacity) this.grow();
      else this.pos = 0;
    }
    this.buf[this.pos++] = b;
    this.total++;
  }

  /** the byte `dist` + 1 positions back (dist 0 = the last byte) */
  get(dist: number): number {
    let i = this.pos - dist - 1;
    if (i < 0) i += this.buf.length;
    return this.buf[i];
  }

  /** whether a match `dist` back is allowed: inside the dictionary size, the data written and the window */
  check(dist: number): void {
    const have = this.total - this.resetAt;
    if (dist >= have || dist >= Math.max(this.dictSize, DICT_MIN))
      throw new DecodeError('Corrupt input data');
    if (dist >= this.buf.length && this.buf.length >= this.capacity)
      throw new DecodeLimitError(
        `the LZMA dictionary reaches further back than the scan limit of ${this.capacity} bytes`,
      );
  }

  copy(dist: number, len: number): void {
    for (let i = 0; i < len; i++) this.put(this.get(dist));
  }

  get pending(): number {
    return this.total - this.flushed;
  }

  /** the bytes written since the last flush */
  flush(): Uint8Array {
    const n = this.pending;
    const out = new Uint8Array(n);
    const len = this.buf.length;
    let from = this.flushed % len;
    let k = 0;
    while (k < n) {
      const run = Math.min(n - k, len - from);
      out.set(this.buf.subarray(from, from + run), k);
      k += run;
      from = 0;
    }
    this.flushed = this.total;
    return out;
  }
}

/** the range decoder over the cursor's window (callers keep SYMBOL_INPUT bytes available or reach the end) */
class RangeDecoder {
  range = 0xffffffff;
  code = 0;
  /** the cursor's window while attached, and the next byte's index in it */
  private buf: Uint8Array = new Uint8Array(0);
  private idx = 0;
  private from = 0;
  constructor(private readonly input: InputCursor) {}

  /** reads straight from the cursor's window until detach() */
  attach(): void {
    const w = this.input.window();
    this.buf = w.buf;
    this.idx = this.from = w.at;
  }

  /** moves the cursor past what was read */
  detach(): void {
    this.input.take(this.idx - this.from);
    this.from = this.idx;
  }

  /** bytes left in the attached window */
  get available(): number {
    return this.buf.length - this.idx;
  }

  /** the 5 init bytes: a zero, then the code */
  init(): void {
    this.attach();
    try {
      if (this.idx >= this.buf.length || this.buf[this.idx++] !== 0)
        throw new DecodeError('Corrupt input data');
      this.range = 0xffffffff;
      this.code = 0;
      for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.next()) >>> 0;
      if (this.code === this.range) throw new DecodeError('Corrupt input data');
    } finally {
      this.detach();
    }
  }

  private next(): number {
    if (this.idx >= this.buf.length)
      throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
    return this.buf[this.idx++];
  }

  private normalize(): void {
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.next()) >>> 0;
    }
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i];
    const bound = (this.range >>> 11) * p;
    let b: number;
    if (this.code < bound) {
      probs[i] = p + ((2048 - p) >>> 5);
      this.range = bound;
      b = 0;
    } else {
      probs[i] = p - (p >>> 5);
      this.code -= bound;
      this.range -= bound;
      b = 1;
    }
    this.normalize();
    return b;
  }

  direct(count: number): number {
    let res = 0;
    for (let i = 0; i < count; i++) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      if (this.code === this.range) throw new DecodeError('Corrupt input data');
      res = res * 2 + b;
      this.normalize();
    }
    return res;
  }

  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) + this.bit(probs, base + m);
    return m - (1 << bits);
  }

  reverseTree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let symbol = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) + b;
      symbol |= b << i;
    }
    return symbol;
  }

  get finished(): boolean {
    return this.code === 0;
  }
}

// probability array layout
const STATES = 12;
const POS_STATES_MAX = 16;
const IS_MATCH = 0;
const IS_REP = IS_MATCH + STATES * POS_STATES_MAX;
const IS_REP_G0 = IS_REP + STATES;
const IS_REP_G1 = IS_REP_G0 + STATES;
const IS_REP_G2 = IS_REP_G1 + STATES;
const IS_REP0_LONG = IS_REP_G2 + STATES;
const POS_SLOT = IS_REP0_LONG + STATES * POS_STATES_MAX;
const SPEC_POS = POS_SLOT + 4 * 64;
const ALIGN = SPEC_POS + 115;
// a length coder: choice, choice2, low[16][8], mid[16][8], high[256]
const LEN_SIZE = 2 + 16 * 8 + 16 * 8 + 256;
const LEN_CODER = ALIGN + 16;
const REP_LEN_CODER = LEN_CODER + LEN_SIZE;
const LITERAL = REP_LEN_CODER + LEN_SIZE;

export interface LzmaProps {
  lc: number;
  lp: number;
  pb: number;
}

/** the props byte: (pb * 5 + lp) * 9 + lc */
export function decodeProps(d: number): LzmaProps | null {
  if (d > 224) return null;
  const lc = d % 9;
  const rest = Math.floor(d / 9);
  return { lc, lp: rest % 5, pb: Math.floor(rest / 5) };
}

/** the LZMA decoder proper: state, probabilities and the window they write into */
class Lzma {
  probs = new Uint16Array(0);
  state = 0;
  rep0 = 0;
  rep1 = 0;
  rep2 = 0;
  rep3 = 0;
  props: LzmaProps = { lc: 3, lp: 0, pb: 2 };
  readonly rc: RangeDecoder;

  constructor(
    readonly window: Window,
    readonly input: InputCursor,
  ) {
    this.rc = new RangeDecoder(input);
  }

  setProps(p: LzmaProps): void {
    this.props = p;
    this.probs = new Uint16Array(LITERAL + (0x300 << (p.lc + p.lp)));
    this.resetState();
  }

  resetState(): void {
    this.probs.fill(1024);
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  private len(base: number, posState: number): number {
    const rc = this.rc;
    const p = this.probs;
    if (rc.bit(p, base) === 0) return rc.tree(p, base + 2 + posState * 8, 3);
    if (rc.bit(p, base + 1) === 0) return 8 + rc.tree(p, base + 2 + 16 * 8 + posState * 8, 3);
    return 16 + rc.tree(p, base + 2 + 16 * 8 * 2, 8);
  }

  private distance(len: number): number {
    const rc = this.rc;
    const p = this.probs;
    const lenState = Math.min(len, 3);
    const slot = rc.tree(p, POS_SLOT + lenState * 64, 6);
    if (slot < 4) return slot;
    const direct = (slot >>> 1) - 1;
    let dist = (2 | (slot & 1)) * 2 ** direct;
    if (slot < 14) dist += rc.reverseTree(p, SPEC_POS + dist - slot, direct);
    else {
      dist += rc.direct(direct - 4) * 16;
      dist += rc.reverseTree(p, ALIGN, 4);
    }
    return dist;
  }

  /**
   * Decodes until `limit` bytes are written (null: until the end marker), `chunk` bytes are pending, or the input
   * window runs low. Returns 'marker' at an end marker, 'limit' when the limit is reached, 'more' otherwise.
   */
  run(limit: number | null, chunk: number, inputEnds: boolean): 'marker' | 'limit' | 'more' {
    this.rc.attach();
    try {
      return this.decode(limit, chunk, inputEnds);
    } finally {
      this.rc.detach();
    }
  }

  private decode(limit: number | null, chunk: number, inputEnds: boolean): 'marker' | 'limit' | 'more' {
    const rc = this.rc;
    const p = this.probs;
    const w = this.window;
    const { lc, lp, pb } = this.props;
    const pbMask = (1 << pb) - 1;
    const lpMask = (1 << lp) - 1;
    while (w.pending < chunk) {
      if (!inputEnds && rc.available < SYMBOL_INPUT) return 'more';
      if (limit !== null && w.total >= limit) return 'limit';
      const pos = w.total - w.resetAt;
      const posState = pos & pbMask;
      const s = this.state;
      if (rc.bit(p, IS_MATCH + (s << 4) + posState) === 0) {
        const prev = w.total > w.resetAt ? w.get(0) : 0;
        const base = LITERAL + 0x300 * (((pos & lpMask) << lc) + (prev >>> (8 - lc)));
        let symbol = 1;
        if (s >= 7) {
          let match = w.get(this.rep0);
          do {
            const matchBit = (match >>> 7) & 1;
            match <<= 1;
            const b = rc.bit(p, base + ((1 + matchBit) << 8) + symbol);
            symbol = (symbol << 1) | b;
            if (matchBit !== b) break;
          } while (symbol < 0x100);
        }
        while (symbol < 0x100) symbol = (symbol << 1) | rc.bit(p, base + symbol);
        w.put(symbol - 0x100);
        this.state = s < 4 ? 0 : s < 10 ? s - 3 : s - 6;
        continue;
      }
      let len: number;
      if (rc.bit(p, IS_REP + s) !== 0) {
        if (w.total === w.resetAt) throw new DecodeError('Corrupt input data');
        if (rc.bit(p, IS_REP_G0 + s) === 0) {
          if (rc.bit(p, IS_REP0_LONG + (s << 4) + posState) === 0) {
            this.state = s < 7 ? 9 : 11;
            w.put(w.get(this.rep0));
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(p, IS_REP_G1 + s) === 0) dist = this.rep1;
          else {
            if (rc.bit(p, IS_REP_G2 + s) === 0) dist = this.rep2;
            else {
              dist = this.rep3;
              this.rep3 = this.rep2;
            }
            this.rep2 = this.rep1;
          }
          this.rep1 = this.rep0;
          this.rep0 = dist;
        }
        len = this.len(REP_LEN_CODER, posState);
        this.state = s < 7 ? 8 : 11;
      } else {
        this.rep3 = this.rep2;
        this.rep2 = this.rep1;
        this.rep1 = this.rep0;
        len = this.len(LEN_CODER, posState);
        this.state = s < 7 ? 7 : 10;
        this.rep0 = this.distance(len);
        if (this.rep0 === 0xffffffff) return 'marker';
      }
      len += 2;
      w.check(this.rep0);
      if (limit !== null && w.total + len > limit) throw new DecodeError('Corrupt input data');
      w.copy(this.rep0, len);
    }
    return 'more';
  }
}

export interface LzmaOptions {
  /** the largest dictionary window kept in memory */
  maxWindow: number;
}

/** what the stream held, for the report */
export interface LzmaFacts {
  format: 'xz' | 'alone' | null;
  streams: number;
  check?: string;
}

/** FORMAT_AUTO: .xz or .lzma (alone), stream after stream as CPython's LZMAFile reads them */
export async function* lzmaAuto(
  cursor: InputCursor,
  opts: LzmaOptions,
  facts: LzmaFacts,
): AsyncGenerator<Uint8Array, void> {
  for (;;) {
    await cursor.ensure(13);
    const head = cursor.peek(6);
    if (facts.streams > 0) {
      // LZMAFile starts another decompressor on what follows; when that fails at once, the rest is ignored
      if (cursor.remaining === 0) return;
      if (facts.streams >= MAX_STREAMS) throw tooManyStreams('LZMA streams');
      if (
        head[0] === 0xfd ? !(head.length >= 6 && isXzMagic(head)) : aloneHeaderError(cursor.peek(13)) !== null
      )
        return;
    }
    if (head.length >= 1 && head[0] === 0xfd) {
      facts.format ??= 'xz';
      yield* xzStream(cursor, opts, facts);
    } else {
      facts.format ??= 'alone';
      yield* aloneStream(cursor, opts);
    }
    facts.streams++;
  }
}

function isXzMagic(b: Uint8Array): boolean {
  return b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0x00;
}

/** liblzma's alone decoder in the auto decoder ("picky"): why it refuses this header, or null */
function aloneHeaderError(h: Uint8Array): string | null {
  if (h.length < 13) return 'Compressed file ended before the end-of-stream marker was reached';
  if (decodeProps(h[0]) === null) return 'Input format not supported by decoder';
  const dict = (h[1] | (h[2] << 8) | (h[3] << 16) | (h[4] << 24)) >>> 0;
  if (dict !== 0xffffffff) {
    let d = (dict - 1) >>> 0;
    d |= d >>> 2;
    d |= d >>> 3;
    d |= d >>> 4;
    d |= d >>> 8;
    d |= d >>> 16;
    d = (d + 1) >>> 0;
    if (d !== dict) return 'Input format not supported by decoder';
  }
  const lo = (h[5] | (h[6] << 8) | (h[7] << 16) | (h[8] << 24)) >>> 0;
  const hi = (h[9] | (h[10] << 8) | (h[11] << 16) | (h[12] << 24)) >>> 0;
  const unknown = lo === 0xffffffff && hi === 0xffffffff;
  if (!unknown && hi >= 64) return 'Input format not supported by decoder';
  return null;
}

/** an .lzma (alone) stream: 13-byte header, then LZMA1 to the known size and/or an end marker */
async function* aloneStream(cursor: InputCursor, opts: LzmaOptions): AsyncGenerator<Uint8Array, void> {
  await cursor.ensure(13);
  const h = cursor.peek(13);
  const err = aloneHeaderError(h);
  if (err) throw new DecodeError(err);
  cursor.take(13);
  const props = decodeProps(h[0])!;
  const dict = (h[1] | (h[2] << 8) | (h[3] << 16) | (h[4] << 24)) >>> 0;
  const lo = (h[5] | (h[6] << 8) | (h[7] << 16) | (h[8] << 24)) >>> 0;
  const hi = (h[9] | (h[10] << 8) | (h[11] << 16) | (h[12] << 24)) >>> 0;
  const size = lo === 0xffffffff && hi === 0xffffffff ? null : hi * 2 ** 32 + lo;
  yield* lzma1(cursor, props, dict, size, opts);
}

/**
 * Raw LZMA1 (an alone stream's body; a zip entry of method 14): to `size` bytes, where an end marker may follow
 * right at the end (liblzma 5.4 accepts it), or to the end marker when the size is unknown.
 */
export async function* lzma1(
  cursor: InputCursor,
  props: LzmaProps,
  dictSize: number,
  size: number | null,
  opts: LzmaOptions,
): AsyncGenerator<Uint8Array, void> {
  const w = new Window(dictSize, opts.maxWindow);
  const lz = new Lzma(w, cursor);
  lz.setProps(props);
  await cursor.ensure(SYMBOL_INPUT);
  lz.rc.init();
  for (;;) {
    await cursor.ensure(SYMBOL_INPUT * 64);
    const r = lz.run(size, CHUNK, cursor.available >= cursor.remaining);
    if (w.pending > 0 && (r !== 'more' || w.pending >= CHUNK)) yield w.flush();
    if (r === 'marker') {
      if (!lz.rc.finished || (size !== null && w.total !== size)) throw new DecodeError('Corrupt input data');
      return;
    }
    if (r === 'limit') {
      if (lz.rc.finished) return;
      // an end marker may follow the last byte
      await cursor.ensure(SYMBOL_INPUT);
      const again = lz.run(null, CHUNK, true);
      if (again !== 'marker' || w.pending > 0 || !lz.rc.finished) throw new DecodeError('Corrupt input data');
      return;
    }
  }
}

/** LZMA2 (an xz block's only filter): chunks of LZMA and stored data, dictionary and state resets */
async function* lzma2(
  cursor: InputCursor,
  dictSize: number,
  opts: LzmaOptions,
  end: number | null,
): AsyncGenerator<Uint8Array, void> {
  const w = new Window(dictSize, opts.maxWindow);
  const lz = new Lzma(w, cursor);
  let needDictReset = true;
  let needProps = true;
  for (;;) {
    await cursor.ensure(6);
    const control = cursor.byte();
    if (control < 0)
      throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
    if (control === 0x00) return;
    if (control >= 0xe0 || control === 1) {
      needProps = true;
      needDictReset = false;
      w.reset(dictSize);
    } else if (needDictReset) throw new DecodeError('Corrupt input data');
    const hdr = cursor.take(control >= 0x80 ? 4 : 2);
    if (hdr.length < (control >= 0x80 ? 4 : 2))
      throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
    if (control >= 0x80) {
      const unpacked = (control & 0x1f) * 65536 + ((hdr[0] << 8) | hdr[1]) + 1;
      const packed = ((hdr[2] << 8) | hdr[3]) + 1;
      const mode = control >>> 5;
      if (mode >= 6) {
        const pb = cursor.byte();
        const props = pb < 0 ? null : decodeProps(pb);
        if (!props || props.lc + props.lp > 4) throw new DecodeError('Corrupt input data');
        lz.setProps(props);
        needProps = false;
      } else if (needProps) throw new DecodeError('Corrupt input data');
      else if (mode === 5) lz.resetState();
      const start = cursor.pos;
      await cursor.ensure(packed);
      if (cursor.available < packed)
        throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
      const limit = w.total + unpacked;
      lz.rc.init();
      for (;;) {
        const r = lz.run(limit, CHUNK, true);
        if (r === 'marker') throw new DecodeError('Corrupt input data');
        if (w.pending >= CHUNK || r === 'limit') {
          if (w.pending > 0) yield w.flush();
        }
        if (r === 'limit') break;
        if (cursor.pos - start > packed) throw new DecodeError('Corrupt input data');
      }
      if (cursor.pos - start !== packed || !lz.rc.finished) throw new DecodeError('Corrupt input data');
    } else {
      if (control > 2) throw new DecodeError('Corrupt input data');
      const size = ((hdr[0] << 8) | hdr[1]) + 1;
      await cursor.ensure(size);
      const data = cursor.take(size);
      if (data.length < size)
        throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
      for (const b of data) w.put(b);
      yield w.flush();
    }
    if (end !== null && cursor.pos > end) throw new DecodeError('Corrupt input data');
  }
}

const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
const CHECK_NAMES: Record<number, string> = { 0: 'none', 1: 'CRC-32', 4: 'CRC-64', 10: 'SHA-256' };

/** a multi-byte integer of the xz format (7 bits a byte, at most 9 bytes) */
function vli(cursor: InputCursor): number {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    const b = cursor.byte();
    if (b < 0) throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
    v += (b & 0x7f) * 2 ** (7 * i);
    if (!(b & 0x80)) {
      if (i > 0 && b === 0) throw new DecodeError('Corrupt input data');
      return v;
    }
  }
  throw new DecodeError('Corrupt input data');
}

/** one .xz stream: header, blocks, index, footer, each checked */
async function* xzStream(
  cursor: InputCursor,
  opts: LzmaOptions,
  facts: LzmaFacts,
): AsyncGenerator<Uint8Array, void> {
  await cursor.ensure(12);
  const header = cursor.take(12);
  if (header.length < 12 || !isXzMagic(header))
    throw new DecodeError('Input format not supported by decoder');
  const hv = new DataView(header.buffer, header.byteOffset, 12);
  if (crc32(header.subarray(6, 8)) >>> 0 !== hv.getUint32(8, true))
    throw new DecodeError('Corrupt input data');
  if (header[6] !== 0 || header[7] > 0x0f) throw new DecodeError('Unsupported options');
  const checkType = header[7];
  const checkSize = CHECK_SIZES[checkType];
  facts.check ??= CHECK_NAMES[checkType] ?? `check ${checkType}`;
  const blocks: Array<{ unpadded: number; uncompressed: number }> = [];
  for (;;) {
    await cursor.ensure(1024 + 8);
    const blockStart = cursor.pos;
    const sizeByte = cursor.byte();
    if (sizeByte < 0)
      throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
    if (sizeByte === 0) break; // the index
    const headerSize = (sizeByte + 1) * 4;
    cursor.seek(blockStart);
    const bh = cursor.take(headerSize);
    if (bh.length < headerSize)
      throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
    const bv = new DataView(bh.buffer, bh.byteOffset, headerSize);
    if (crc32(bh.subarray(0, headerSize - 4)) >>> 0 !== bv.getUint32(headerSize - 4, true))
      throw new DecodeError('Corrupt input data');
    const flags = bh[1];
    if (flags & 0x3c) throw new DecodeError('Unsupported options');
    // parse the rest of the header from a cursor over its bytes
    const fields = bh.subarray(2, headerSize - 4);
    const sub = new InputCursor(new MemorySource(fields), 0);
    await sub.ensure(fields.length);
    const compressedSize = flags & 0x40 ? vli(sub) : null;
    const uncompressedSize = flags & 0x80 ? vli(sub) : null;
    const filters = (flags & 3) + 1;
    let dictSize = 0;
    for (let f = 0; f < filters; f++) {
      const id = vli(sub);
      const propSize = vli(sub);
      const props = sub.take(propSize);
      if (props.length < propSize) throw new DecodeError('Corrupt input data');
      if (id !== 0x21 || f !== filters - 1)
        throw new DecodeError(`filter 0x${id.toString(16)} is not read by Brine (only LZMA2 is)`);
      if (propSize !== 1 || props[0] > 40) throw new DecodeError('Corrupt input data');
      const bits = props[0];
      dictSize = bits === 40 ? 0xffffffff : (2 | (bits & 1)) * 2 ** (Math.floor(bits / 2) + 11);
    }
    for (const b of sub.take(sub.remaining)) if (b !== 0) throw new DecodeError('Unsupported options');
    const dataStart = cursor.pos;
    const hash = checkType === 10 ? createHash('sha256') : null;
    let crc = 0;
    let crc64 = [0, 0];
    let produced = 0;
    for await (const chunk of lzma2(
      cursor,
      dictSize,
      opts,
      compressedSize === null ? null : dataStart + compressedSize,
    )) {
      produced += chunk.length;
      if (uncompressedSize !== null && produced > uncompressedSize)
        throw new DecodeError('Corrupt input data');
      if (checkType === 1) crc = crc32(chunk, crc);
      else if (checkType === 4) crc64 = crc64Update(crc64, chunk);
      else if (hash) hash.update(chunk);
      yield chunk;
    }
    const compressed = cursor.pos - dataStart;
    if (
      (compressedSize !== null && compressed !== compressedSize) ||
      (uncompressedSize !== null && produced !== uncompressedSize)
    )
      throw new DecodeError('Corrupt input data');
    await cursor.ensure(3 + checkSize);
    while ((cursor.pos - blockStart) % 4 !== 0) {
      if (cursor.byte() !== 0) throw new DecodeError('Corrupt input data');
    }
    const check = cursor.take(checkSize);
    if (check.length < checkSize)
      throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
    const cv = new DataView(check.buffer, check.byteOffset, check.length);
    if (checkType === 1 && cv.getUint32(0, true) !== crc >>> 0) throw new DecodeError('Corrupt input data');
    if (checkType === 4 && (cv.getUint32(0, true) !== crc64[1] || cv.getUint32(4, true) !== crc64[0]))
      throw new DecodeError('Corrupt input data');
    if (hash && !Buffer.from(check).equals(hash.digest())) throw new DecodeError('Corrupt input data');
    blocks.push({ unpadded: headerSize + compressed + checkSize, uncompressed: produced });
  }
  // the index: the indicator (already read), the count, then one record per block, padding, CRC-32
  const indexStart = cursor.pos - 1;
  await cursor.ensure(1024);
  const count = vli(cursor);
  if (count !== blocks.length) throw new DecodeError('Corrupt input data');
  for (const b of blocks) {
    await cursor.ensure(32);
    if (vli(cursor) !== b.unpadded || vli(cursor) !== b.uncompressed)
      throw new DecodeError('Corrupt input data');
  }
  await cursor.ensure(16);
  while ((cursor.pos - indexStart) % 4 !== 0)
    if (cursor.byte() !== 0) throw new DecodeError('Corrupt input data');
  const indexEnd = cursor.pos;
  const crcBytes = cursor.take(4);
  if (crcBytes.length < 4)
    throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
  cursor.seek(indexStart);
  await cursor.ensure(indexEnd - indexStart + 16);
  const indexCrc = crc32(cursor.take(indexEnd - indexStart)) >>> 0;
  cursor.take(4);
  if (new DataView(crcBytes.buffer, crcBytes.byteOffset, 4).getUint32(0, true) !== indexCrc)
    throw new DecodeError('Corrupt input data');
  // the footer: CRC-32, backward size, flags (as in the header), "YZ"
  await cursor.ensure(12);
  const footer = cursor.take(12);
  if (footer.length < 12)
    throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
  const fv = new DataView(footer.buffer, footer.byteOffset, 12);
  if (footer[10] !== 0x59 || footer[11] !== 0x5a) throw new DecodeError('Corrupt input data');
  if (crc32(footer.subarray(4, 10)) >>> 0 !== fv.getUint32(0, true))
    throw new DecodeError('Corrupt input data');
  if ((fv.getUint32(4, true) + 1) * 4 !== indexEnd + 4 - indexStart)
    throw new DecodeError('Corrupt input data');
  if (footer[8] !== header[6] || footer[9] !== header[7]) throw new DecodeError('Corrupt input data');
}

// CRC-64/XZ (ECMA-182 polynomial, reflected), in two 32-bit halves
const CRC64_TABLE = (() => {
  const hi = new Uint32Array(256);
  const lo = new Uint32Array(256);
  const polyHi = 0xc96c5795;
  const polyLo = 0xd7870f42;
  for (let i = 0; i < 256; i++) {
    let h = 0;
    let l = i;
    for (let k = 0; k < 8; k++) {
      const bit = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (bit) {
        h = (h ^ polyHi) >>> 0;
        l = (l ^ polyLo) >>> 0;
      }
    }
    hi[i] = h;
    lo[i] = l;
  }
  return { hi, lo };
})();

/** [hi, lo] of the CRC-64 after `data` */
function crc64Update(prev: number[], data: Uint8Array): number[] {
  let h = ~prev[0] >>> 0;
  let l = ~prev[1] >>> 0;
  const { hi, lo } = CRC64_TABLE;
  for (let i = 0; i < data.length; i++) {
    const idx = (l ^ data[i]) & 0xff;
    const nl = ((l >>> 8) | ((h & 0xff) << 24)) >>> 0;
    const nh = h >>> 8;
    l = (nl ^ lo[idx]) >>> 0;
    h = (nh ^ hi[idx]) >>> 0;
  }
  return [~h >>> 0, ~l >>> 0];
}
