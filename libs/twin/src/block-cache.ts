import { readExactly, type ByteSource } from '@brine/bytes';

/** reads up to this long are served from cached blocks of this size */
export const BLOCK_BYTES = 1024 * 1024;
/** and at most this many blocks are kept (the least recently used goes first) */
export const CACHED_BLOCKS = 32;

/**
 * A source that serves short reads from 1 MiB blocks of the file it caches (32 at most, least recently used out),
 * and passes long reads straight on. A state dict of many small tensors (biases, norms) would otherwise cost two
 * range requests per tensor — its local header, then its data — where neighbouring records share a block.
 */
export class BlockCachedSource implements ByteSource {
  private readonly blocks = new Map<number, Uint8Array>();
  /** blocks fetched from the inner source */
  fetched = 0;

  constructor(private readonly inner: ByteSource) {}

  get size(): number {
    return this.inner.size;
  }

  private async block(i: number): Promise<Uint8Array> {
    let b = this.blocks.get(i);
    if (b) {
      this.blocks.delete(i); // re-inserted: most recently used last
    } else {
      const start = i * BLOCK_BYTES;
      b = await readExactly(this.inner, start, Math.min(BLOCK_BYTES, this.inner.size - start));
      this.fetched++;
      if (this.blocks.size >= CACHED_BLOCKS) this.blocks.delete(this.blocks.keys().next().value as number);
    }
    this.blocks.set(i, b);
    return b;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.inner.size);
    if (length > BLOCK_BYTES || end <= offset) return this.inner.read(offset, length);
    const first = Math.floor(offset / BLOCK_BYTES);
    const last = Math.floor((end - 1) / BLOCK_BYTES);
    if (first === last) {
      const b = await this.block(first);
      return b.subarray(offset - first * BLOCK_BYTES, end - first * BLOCK_BYTES);
    }
    const out = new Uint8Array(end - offset);
    const a = await this.block(first);
    const head = a.subarray(offset - first * BLOCK_BYTES);
    out.set(head, 0);
    const b = await this.block(last);
    out.set(b.subarray(0, end - last * BLOCK_BYTES), head.length);
    return out;
  }
}
