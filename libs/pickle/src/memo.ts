import { decodeLatin1 } from './text';
import type { PyValue } from './values';

/**
 * The unpickler's memo, laid out so that millions of entries cost bytes, not objects: per slot a kind (1 byte), a
 * reference (4 bytes) and, for a string, its length (2 bytes), in pages of 65,536 slots allocated as slots are
 * used. Strings — most of what a large pickle memoizes — are packed characters in byte chunks (one byte per
 * character, two when one is above U+00FF) and decoded again when fetched; every other value sits in one dense
 * array. Nothing here is an object per entry for the garbage collector to trace.
 *
 * Bound: 7 bytes per slot + 8 per non-string value + the string bytes, which stop at `maxStringBytes`; a string
 * past that budget is marked dropped, and fetching it is the caller's limit failure.
 */
export class Memo {
  /** distinct slots written */
  count = 0;
  private pages: Array<MemoPage | undefined> = [];
  private readonly values: PyValue[] = [];
  /** values many slots share (the stand-ins of plain data past the retention budget): stored once, by number */
  private readonly shared: PyValue[] = [];
  private readonly sharedIds = new Map<PyValue, number>();
  private readonly chunks: Uint8Array[] = [];
  private chunkUsed = CHUNK_BYTES;
  private stringBytes = 0;

  private pagesAllocated = 0;

  constructor(
    /** at most 1 GiB: a slot's reference holds the chunk number in 11 bits */
    private readonly maxStringBytes: number,
    /** slots the pages may cover in all: memo indices far apart would otherwise cost a page each */
    private readonly maxSlots: number,
  ) {
    this.maxStringBytes = Math.min(maxStringBytes, 1 << 30);
  }

  has(index: number): boolean {
    const page = this.pages[index >>> PAGE_BITS];
    return page !== undefined && page.kind[index & PAGE_MASK] !== EMPTY;
  }

  /**
   * memo[index] = v; `sharedValue` says `v` is one of few values many slots hold (it is then kept once). Returns
   * PUT_DROPPED when `v` is a string that did not fit in the string budget (the slot is
   * then marked dropped), PUT_SPREAD when the index needs a page past `maxSlots`, PUT_LIMIT when it would be
   * slot number `maxSlots + 1` (nothing is written in those two cases).
   */
  put(index: number, v: PyValue, sharedValue = false): PutResult {
    const page = this.page(index);
    if (page === null) return PUT_SPREAD;
    const i = index & PAGE_MASK;
    const kind = page.kind[i];
    if (kind === EMPTY) {
      if (this.count >= this.maxSlots) return PUT_LIMIT;
      this.count++;
    }
    if (typeof v === 'string' && v.length > 0 && v.length <= 0xffff) {
      if (!this.putString(page, i, v)) {
        page.kind[i] = DROPPED;
        return PUT_DROPPED;
      }
      return PUT_OK;
    }
    if (kind === VALUE) this.values[page.ref[i]] = v;
    else if (sharedValue) {
      let id = this.sharedIds.get(v);
      if (id === undefined && this.shared.length < MAX_SHARED) {
        id = this.shared.length;
        this.shared.push(v);
        this.sharedIds.set(v, id);
      }
      if (id !== undefined) {
        page.kind[i] = SHARED;
        page.ref[i] = id;
        return PUT_OK;
      }
      page.ref[i] = this.values.length;
      this.values.push(v);
    } else {
      page.ref[i] = this.values.length;
      this.values.push(v);
    }
    page.kind[i] = VALUE;
    return PUT_OK;
  }

  /** memo[index]; undefined when the slot is empty, DROPPED_STRING when its string was past the budget */
  get(index: number): PyValue | undefined | typeof DROPPED_STRING {
    const page = this.pages[index >>> PAGE_BITS];
    if (page === undefined) return undefined;
    const i = index & PAGE_MASK;
    switch (page.kind[i]) {
      case VALUE:
        return this.values[page.ref[i]];
      case SHARED:
        return this.shared[page.ref[i]];
      case NARROW:
      case WIDE: {
        // decoded once, then kept as a value: a string fetched from the memo is usually fetched again (a dict
        // key of every record); its packed bytes stay where they are, counted in the budget
        const ref = page.ref[i];
        const s =
          page.kind[i] === WIDE
            ? this.wideString(ref, page.len[i])
            : decodeLatin1(
                this.chunks[ref >>> CHUNK_BITS],
                ref & CHUNK_MASK,
                (ref & CHUNK_MASK) + page.len[i],
              );
        page.kind[i] = VALUE;
        page.ref[i] = this.values.length;
        this.values.push(s);
        return s;
      }
      case DROPPED:
        return DROPPED_STRING;
      default:
        return undefined;
    }
  }

  private page(index: number): MemoPage | null {
    const p = index >>> PAGE_BITS;
    let page = this.pages[p];
    if (page === undefined) {
      if ((this.pagesAllocated + 1) * PAGE_SLOTS > this.maxSlots + PAGE_SLOTS) return null;
      this.pagesAllocated++;
      page = {
        kind: new Uint8Array(PAGE_SLOTS),
        ref: new Int32Array(PAGE_SLOTS),
        len: new Uint16Array(PAGE_SLOTS),
      };
      this.pages[p] = page;
    }
    return page;
  }

  private putString(page: MemoPage, i: number, s: string): boolean {
    const n = s.length;
    // assume one byte per character (the usual case) and copy as it checks; start over wide if not
    if (this.stringBytes + n <= this.maxStringBytes) {
      if (this.chunkUsed + n > CHUNK_BYTES) this.newChunk(n);
      const c = this.chunks.length - 1;
      const chunk = this.chunks[c];
      const start = this.chunkUsed;
      let k = 0;
      for (; k < n; k++) {
        const code = s.charCodeAt(k);
        if (code > 0xff) break;
        chunk[start + k] = code;
      }
      if (k === n) {
        this.chunkUsed = start + n;
        this.stringBytes += n;
        page.kind[i] = NARROW;
        page.ref[i] = (c << CHUNK_BITS) | start;
        page.len[i] = n;
        return true;
      }
    }
    let wide = false;
    for (let k = 0; k < n; k++) {
      if (s.charCodeAt(k) > 0xff) {
        wide = true;
        break;
      }
    }
    const size = wide ? 2 * n : n;
    if (this.stringBytes + size > this.maxStringBytes) return false;
    // a string never straddles chunks: a new chunk starts when it does not fit (the rest of the last one is lost)
    if (this.chunkUsed + size > CHUNK_BYTES) this.newChunk(size);
    const c = this.chunks.length - 1;
    const chunk = this.chunks[c];
    let p = this.chunkUsed;
    const ref = (c << CHUNK_BITS) | p;
    if (wide) {
      for (let k = 0; k < n; k++) {
        const code = s.charCodeAt(k);
        chunk[p++] = code & 0xff;
        chunk[p++] = code >> 8;
      }
    } else for (let k = 0; k < n; k++) chunk[p++] = s.charCodeAt(k);
    this.chunkUsed = p;
    this.stringBytes += size;
    page.kind[i] = wide ? WIDE : NARROW;
    page.ref[i] = ref;
    page.len[i] = n;
    return true;
  }

  private newChunk(size: number): void {
    this.chunks.push(new Uint8Array(Math.max(CHUNK_BYTES, size)));
    this.chunkUsed = 0;
  }

  private wideString(ref: number, n: number): string {
    const chunk = this.chunks[ref >>> CHUNK_BITS];
    const off = ref & CHUNK_MASK;
    const units: number[] = new Array<number>(n);
    for (let k = 0; k < n; k++) units[k] = chunk[off + 2 * k] | (chunk[off + 2 * k + 1] << 8);
    let s = '';
    for (let k = 0; k < n; k += 4096) s += String.fromCharCode(...units.slice(k, k + 4096));
    return s;
  }
}

export const PUT_OK = 0;
export const PUT_DROPPED = 1;
export const PUT_SPREAD = 2;
export const PUT_LIMIT = 3;
export type PutResult = typeof PUT_OK | typeof PUT_DROPPED | typeof PUT_SPREAD | typeof PUT_LIMIT;

/** what Memo.get returns for a string that was past the budget */
export const DROPPED_STRING: unique symbol = Symbol('dropped memo string');

interface MemoPage {
  kind: Uint8Array;
  ref: Int32Array;
  len: Uint16Array;
}

const EMPTY = 0;
const VALUE = 1;
const NARROW = 2;
const WIDE = 3;
const DROPPED = 4;
const SHARED = 5;
const MAX_SHARED = 1 << 16;

const PAGE_BITS = 16;
const PAGE_SLOTS = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SLOTS - 1;
/** string chunks of 1 MiB (a longer string gets a chunk of its own; strings are at most 128 KiB) */
const CHUNK_BITS = 20;
const CHUNK_BYTES = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_BYTES - 1;
