import { DecodeError, MAX_STREAMS, tooManyStreams, type InputCursor } from './input';

/**
 * A bounded bzip2 decoder for what CPython's bz2 module (libbzip2 1.0.8) opens: joblib's `bz2` compressor (prefix
 * `BZ`) and pandas' `.bz2`. Stream after stream as BZ2File reads them (a following stream that does not start with
 * a valid header is ignored, as BZ2File ignores it), each block checked as libbzip2 checks it (group and selector
 * counts, code lengths 1..20, run lengths, the origin pointer, the block CRC and the combined stream CRC). Written
 * from the format as libbzip2 documents and decodes it, not from its code. Randomised blocks (an encoder mode
 * retired in 0.9.5) are refused, so such a file is never judged safe.
 *
 * Memory: one block's BWT vector (4 bytes a symbol, at most 900 000 symbols); output is yielded in chunks, so a
 * block that expands to 45 MB through its run lengths is never held whole.
 */

const CHUNK = 256 * 1024;
const MAX_GROUPS = 6;
const MAX_ALPHA = 258;
const MAX_SELECTORS = 18002;
const MAX_CODE_LEN = 20;
/** a block's compressed bits fit in this many bytes (900 000 symbols of at most 20 bits, plus its tables) */
const BLOCK_INPUT = 2_400_000;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

class Bits {
  private buf = 0;
  private live = 0;
  constructor(private readonly cursor: InputCursor) {}

  /** n ≤ 24 bits, most significant first */
  get(n: number): number {
    while (this.live < n) {
      const b = this.cursor.byte();
      if (b < 0) throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
      this.buf = ((this.buf << 8) | b) >>> 0;
      this.live += 8;
    }
    const v = (this.buf >>> (this.live - n)) & ((1 << n) - 1);
    this.live -= n;
    this.buf = this.live === 0 ? 0 : (this.buf & (0xffffffff >>> (32 - this.live))) >>> 0;
    return v;
  }

  bit(): number {
    return this.get(1);
  }

  /** whole bytes read ahead and not used (they belong to what follows the stream) */
  unreadBytes(): number {
    return this.live >> 3;
  }
}

export interface Bzip2Facts {
  streams: number;
  blocks: number;
}

/** BZ2File: stream after stream; what follows the last good stream is ignored when it does not open as one */
export async function* bzip2Streams(
  cursor: InputCursor,
  facts: Bzip2Facts,
): AsyncGenerator<Uint8Array, void> {
  for (;;) {
    await cursor.ensure(4);
    const h = cursor.peek(4);
    if (facts.streams > 0) {
      if (cursor.remaining === 0) return;
      if (facts.streams >= MAX_STREAMS) throw tooManyStreams('bzip2 streams');
      if (!(
        h.length === 4 &&
        h[0] === 0x42 &&
        h[1] === 0x5a &&
        h[2] === 0x68 &&
        h[3] >= 0x31 &&
        h[3] <= 0x39
      ))
        return;
    }
    yield* bzip2Stream(cursor, facts);
    facts.streams++;
  }
}

async function* bzip2Stream(cursor: InputCursor, facts: Bzip2Facts): AsyncGenerator<Uint8Array, void> {
  await cursor.ensure(4);
  const h = cursor.take(4);
  if (h.length < 4 || h[0] !== 0x42 || h[1] !== 0x5a || h[2] !== 0x68 || h[3] < 0x31 || h[3] > 0x39)
    throw new DecodeError('Invalid data stream');
  const blockMax = (h[3] - 0x30) * 100000;
  const bits = new Bits(cursor);
  const tt = new Uint32Array(blockMax);
  let combined = 0;
  for (;;) {
    await cursor.ensure(BLOCK_INPUT);
    const m1 = bits.get(24);
    const m2 = bits.get(24);
    if (m1 === 0x177245 && m2 === 0x385090) {
      const stored = ((bits.get(16) << 16) | bits.get(16)) >>> 0;
      if (stored !== combined >>> 0) throw new DecodeError('Invalid data stream');
      cursor.seek(cursor.pos - bits.unreadBytes());
      return;
    }
    if (m1 !== 0x314159 || m2 !== 0x265359) throw new DecodeError('Invalid data stream');
    const blockCrc = ((bits.get(16) << 16) | bits.get(16)) >>> 0;
    if (bits.bit()) throw new DecodeError('a randomised bzip2 block (not read by Brine)');
    const origPtr = bits.get(24);
    const n = decodeBlock(bits, tt, blockMax);
    if (origPtr >= n) throw new DecodeError('Invalid data stream');
    facts.blocks++;
    // undo the BWT and the first run-length stage, a chunk at a time, with the block CRC
    const state: Unrle = {
      tt,
      tPos: n === 0 ? 0 : tt[origPtr] >>> 8,
      left: n,
      last: -1,
      run: 0,
      crc: 0xffffffff,
      repeat: 0,
      repByte: 0,
    };
    for (;;) {
      const out = new Uint8Array(CHUNK);
      const k = unrle(state, out);
      if (k > 0) yield out.subarray(0, k);
      if (k < CHUNK) break;
    }
    let crc = state.crc;
    crc = ~crc >>> 0;
    if (crc !== blockCrc) throw new DecodeError('Invalid data stream');
    combined = (((combined << 1) | (combined >>> 31)) ^ crc) >>> 0;
  }
}

/** where the inverse BWT and the run-length decoding of a block stand */
interface Unrle {
  tt: Uint32Array;
  tPos: number;
  /** BWT symbols not yet read */
  left: number;
  last: number;
  run: number;
  crc: number;
  /** copies of repByte still to write (a run's count byte) */
  repeat: number;
  repByte: number;
}

/**
 * Fills `out` with the block's next bytes: the BWT links followed, 4 equal bytes then a count byte expanded, the
 * block CRC updated. Returns how many bytes it wrote (fewer than out.length at the block's end).
 */
function unrle(s: Unrle, out: Uint8Array): number {
  const tt = s.tt;
  let { tPos, left, last, run, crc, repeat } = s;
  const repByte = s.repByte;
  let rep = repByte;
  let k = 0;
  const n = out.length;
  while (k < n) {
    if (repeat > 0) {
      out[k++] = rep;
      crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ rep) & 0xff]) >>> 0;
      repeat--;
      continue;
    }
    if (left === 0) break;
    const t = tt[tPos];
    const b = t & 0xff;
    tPos = t >>> 8;
    left--;
    if (run === 4) {
      repeat = b;
      rep = last;
      run = 0;
      last = -1;
      continue;
    }
    if (b === last) run++;
    else {
      last = b;
      run = 1;
    }
    out[k++] = b;
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]) >>> 0;
  }
  s.tPos = tPos;
  s.left = left;
  s.last = last;
  s.run = run;
  s.crc = crc;
  s.repeat = repeat;
  s.repByte = rep;
  return k;
}

/**
 * One block's Huffman/MTF/RLE2 stage into tt (low byte = symbol), then the BWT links in the high 24 bits.
 * Returns the block's length.
 */
function decodeBlock(bits: Bits, tt: Uint32Array, blockMax: number): number {
  // the symbols in use
  const inUse16 = bits.get(16);
  const seqToUnseq: number[] = [];
  for (let i = 0; i < 16; i++) {
    if (!(inUse16 & (0x8000 >>> i))) continue;
    const m = bits.get(16);
    for (let j = 0; j < 16; j++) if (m & (0x8000 >>> j)) seqToUnseq.push(i * 16 + j);
  }
  if (seqToUnseq.length === 0) throw new DecodeError('Invalid data stream');
  const alphaSize = seqToUnseq.length + 2;
  const nGroups = bits.get(3);
  if (nGroups < 2 || nGroups > MAX_GROUPS) throw new DecodeError('Invalid data stream');
  let nSelectors = bits.get(15);
  if (nSelectors < 1) throw new DecodeError('Invalid data stream');
  const selectorMtf: number[] = [];
  for (let i = 0; i < nSelectors; i++) {
    let j = 0;
    while (bits.bit()) {
      j++;
      if (j >= nGroups) throw new DecodeError('Invalid data stream');
    }
    if (i < MAX_SELECTORS) selectorMtf.push(j);
  }
  if (nSelectors > MAX_SELECTORS) nSelectors = MAX_SELECTORS;
  // undo the MTF of the selectors
  const pos = [0, 1, 2, 3, 4, 5].slice(0, nGroups);
  const selectors = new Uint8Array(nSelectors);
  for (let i = 0; i < nSelectors; i++) {
    let v = selectorMtf[i];
    const tmp = pos[v];
    while (v > 0) {
      pos[v] = pos[v - 1];
      v--;
    }
    pos[0] = tmp;
    selectors[i] = tmp;
  }
  // the code lengths, delta-coded, and the decoding tables
  const tables: Array<{ minLen: number; limit: Int32Array; base: Int32Array; perm: Int32Array }> = [];
  for (let t = 0; t < nGroups; t++) {
    const len = new Uint8Array(alphaSize);
    let curr = bits.get(5);
    for (let i = 0; i < alphaSize; i++) {
      for (;;) {
        if (curr < 1 || curr > MAX_CODE_LEN) throw new DecodeError('Invalid data stream');
        if (!bits.bit()) break;
        curr += bits.bit() ? -1 : 1;
      }
      len[i] = curr;
    }
    tables.push(decodeTable(len, alphaSize));
  }
  // the symbols: MTF indices with RUNA/RUNB run lengths, 50 to a selector
  const yy = new Uint8Array(256);
  for (let i = 0; i < 256; i++) yy[i] = i;
  const unzftab = new Int32Array(256);
  const eob = seqToUnseq.length + 1;
  let groupNo = -1;
  let groupPos = 0;
  let table = tables[0];
  const next = (): number => {
    if (groupPos === 0) {
      groupNo++;
      if (groupNo >= nSelectors) throw new DecodeError('Invalid data stream');
      groupPos = 50;
      table = tables[selectors[groupNo]];
    }
    groupPos--;
    let zn = table.minLen;
    let zvec = bits.get(zn);
    for (;;) {
      if (zn > MAX_CODE_LEN) throw new DecodeError('Invalid data stream');
      if (zvec <= table.limit[zn]) break;
      zn++;
      zvec = (zvec << 1) | bits.bit();
    }
    const idx = zvec - table.base[zn];
    if (idx < 0 || idx >= MAX_ALPHA) throw new DecodeError('Invalid data stream');
    return table.perm[idx];
  };
  let nblock = 0;
  let sym = next();
  for (;;) {
    if (sym === eob) break;
    if (sym === 0 || sym === 1) {
      let es = -1;
      let N = 1;
      do {
        if (N >= 2 * 1024 * 1024) throw new DecodeError('Invalid data stream');
        es += (sym + 1) * N;
        N *= 2;
        sym = next();
      } while (sym === 0 || sym === 1);
      es++;
      const uc = seqToUnseq[yy[0]];
      unzftab[uc] += es;
      if (nblock + es > blockMax) throw new DecodeError('Invalid data stream');
      tt.fill(uc, nblock, nblock + es);
      nblock += es;
      continue;
    }
    if (nblock >= blockMax) throw new DecodeError('Invalid data stream');
    const nn = sym - 1;
    if (nn >= seqToUnseq.length) throw new DecodeError('Invalid data stream');
    const uc = yy[nn];
    yy.copyWithin(1, 0, nn);
    yy[0] = uc;
    const byte = seqToUnseq[uc];
    unzftab[byte]++;
    tt[nblock++] = byte;
    sym = next();
  }
  // the BWT links: for each symbol, where its successor lies
  const cftab = new Int32Array(257);
  for (let i = 0; i < 256; i++) cftab[i + 1] = cftab[i] + unzftab[i];
  for (let i = 0; i < nblock; i++) {
    const uc = tt[i] & 0xff;
    tt[cftab[uc]] |= i << 8;
    cftab[uc]++;
  }
  return nblock;
}

/** libbzip2's hbCreateDecodeTables: canonical codes by length, symbol order within a length */
function decodeTable(len: Uint8Array, alphaSize: number) {
  let minLen = 32;
  let maxLen = 0;
  for (let i = 0; i < alphaSize; i++) {
    if (len[i] > maxLen) maxLen = len[i];
    if (len[i] < minLen) minLen = len[i];
  }
  const perm = new Int32Array(MAX_ALPHA);
  let pp = 0;
  for (let i = minLen; i <= maxLen; i++) for (let j = 0; j < alphaSize; j++) if (len[j] === i) perm[pp++] = j;
  const base = new Int32Array(MAX_CODE_LEN + 3);
  for (let i = 0; i < alphaSize; i++) base[len[i] + 1]++;
  for (let i = 1; i < base.length; i++) base[i] += base[i - 1];
  const limit = new Int32Array(MAX_CODE_LEN + 2);
  let vec = 0;
  for (let i = minLen; i <= maxLen; i++) {
    vec += base[i + 1] - base[i];
    limit[i] = vec - 1;
    vec <<= 1;
  }
  for (let i = minLen + 1; i <= maxLen; i++) base[i] = ((limit[i - 1] + 1) << 1) - base[i];
  // lengths past the longest code match nothing (libbzip2 leaves limit there at its initial value)
  for (let i = maxLen + 1; i < limit.length; i++) limit[i] = -1;
  for (let i = 0; i < minLen; i++) limit[i] = -1;
  return { minLen, limit, base, perm };
}
