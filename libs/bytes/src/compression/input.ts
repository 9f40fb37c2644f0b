import type { ByteSource } from '../source';

/** why a compressed stream stops: corrupt or cut-short data, in the words of the Python module that reads it */
export class DecodeError extends Error {}

/** a decoder needs more than the scanner allows it (a dictionary, a block) */
export class DecodeLimitError extends Error {}

/** concatenated members or streams read at most (each costs a decoder; a file of tiny ones would not end) */
export const MAX_STREAMS = 10_000;

export function tooManyStreams(what: string): DecodeLimitError {
  return new DecodeLimitError(`more than ${MAX_STREAMS} concatenated ${what}; the scan stops there`);
}

/**
 * A compressed stream's bytes, read forward through a window. Decoders ask for what they need next with
 * `ensure(n)` (async), then take bytes synchronously, so their inner loops need no await.
 */
export class InputCursor {
  private buf: Uint8Array = new Uint8Array(0);
  /** position in the source of buf[0] */
  private bufAt: number;
  /** absolute position of the next byte */
  pos: number;

  constructor(
    private readonly src: ByteSource,
    start: number,
    /** bytes read from the source at a time */
    private readonly windowBytes = 1024 * 1024,
    /** where the stream ends (exclusive) */
    readonly end = src.size,
  ) {
    this.pos = start;
    this.bufAt = start;
  }

  /** bytes left before the end of the stream */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** bytes available without reading */
  get available(): number {
    return this.bufAt + this.buf.length - this.pos;
  }

  /** makes at least min(n, remaining) bytes available; returns how many are */
  async ensure(n: number): Promise<number> {
    const want = Math.min(n, this.remaining);
    if (this.available >= want) return this.available;
    const keep = this.buf.subarray(this.pos - this.bufAt);
    const len = Math.min(Math.max(want, this.windowBytes) - keep.length, this.end - this.pos - keep.length);
    const more = await this.src.read(this.pos + keep.length, len);
    if (more.length !== len) throw new Error(`short read at ${this.pos + keep.length}`);
    const next = new Uint8Array(keep.length + more.length);
    next.set(keep);
    next.set(more, keep.length);
    this.buf = next;
    this.bufAt = this.pos;
    return this.available;
  }

  /** the next byte (ensure() first); -1 at the end of what is available */
  byte(): number {
    const i = this.pos - this.bufAt;
    if (i >= this.buf.length) return -1;
    this.pos++;
    return this.buf[i];
  }

  /** the next n available bytes (ensure() first), as a view */
  take(n: number): Uint8Array {
    const i = this.pos - this.bufAt;
    const out = this.buf.subarray(i, Math.min(this.buf.length, i + n));
    this.pos += out.length;
    return out;
  }

  /** the next n available bytes without moving */
  peek(n: number): Uint8Array {
    const i = this.pos - this.bufAt;
    return this.buf.subarray(i, Math.min(this.buf.length, i + n));
  }

  /** the whole window and where the next byte is in it, for decoders that read bytes in a hot loop */
  window(): { buf: Uint8Array; at: number } {
    return { buf: this.buf, at: this.pos - this.bufAt };
  }

  /** moves to an absolute position (the window is dropped when it does not hold it) */
  seek(pos: number): void {
    this.pos = pos;
    if (pos < this.bufAt || pos > this.bufAt + this.buf.length) {
      this.buf = new Uint8Array(0);
      this.bufAt = pos;
    }
  }
}
