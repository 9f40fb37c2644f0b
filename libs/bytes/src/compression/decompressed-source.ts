import { MemorySource, type ByteSource } from '../source';
import { DecodeError, DecodeLimitError } from './input';

/**
 * A decompressed stream as a ByteSource, so the pickle walk (and anything else) reads it like a file — without ever
 * holding more of it than a few blocks, and never more than the budgets allow.
 *
 * open() decodes the stream once to learn its size, stopping at the size budget or the ratio budget, or at the
 * first decoding error (the bytes before it are kept: a loader has read them by then). A stream of up to
 * IN_MEMORY bytes is kept from that pass; a longer one is decoded again as it is read: a 1 MiB block cache (the
 * first block pinned, the most recent others kept), decoding forward from where it is, from the start again for a
 * read behind it (a pickle walk reads forward, so that is rare, and it is counted and capped).
 */

/** the decoder, started afresh: its output chunks, and how far into the compressed bytes it has read */
export interface DecoderRun {
  chunks: AsyncGenerator<Uint8Array, void>;
  consumed(): number;
}

export interface StreamBudget {
  /** decompressed bytes scanned at most */
  maxBytes: number;
  /** decompressed ÷ compressed bytes allowed past `ratioFloor` */
  maxRatio: number;
  ratioFloor: number;
}

export interface DecompressedStream {
  source: ByteSource;
  /** bytes the decoder produced before it stopped (all of them, unless a budget stopped it) */
  size: number;
  /** compressed bytes it consumed */
  consumed: number;
  /** why decoding stopped before the end of the stream: corrupt or cut short */
  error: string | null;
  /** the decoder needed more than the scanner allows (an LZMA dictionary) */
  limit: string | null;
  /** which budget stopped it */
  budget: 'size' | 'ratio' | null;
}

const IN_MEMORY = 32 * 1024 * 1024;
const BLOCK = 1024 * 1024;
const CACHED_BLOCKS = 8;
const MAX_RESTARTS = 32;

export async function openDecompressed(
  start: () => DecoderRun,
  compressedSize: number,
  budget: StreamBudget,
): Promise<DecompressedStream> {
  const run = start();
  const kept: Uint8Array[] = [];
  let total = 0;
  let error: string | null = null;
  let limit: string | null = null;
  let over: 'size' | 'ratio' | null = null;
  const ratioCap = Math.max(budget.ratioFloor, budget.maxRatio * Math.max(1, compressedSize));
  try {
    for await (const chunk of run.chunks) {
      let c = chunk;
      const cap = Math.min(budget.maxBytes, ratioCap);
      if (total + c.length > cap) {
        over = total + c.length > budget.maxBytes && budget.maxBytes <= ratioCap ? 'size' : 'ratio';
        c = c.subarray(0, cap - total);
      }
      if (total + c.length <= IN_MEMORY) kept.push(Uint8Array.from(c));
      else kept.length = 0;
      total += c.length;
      if (over) break;
    }
  } catch (e) {
    if (e instanceof DecodeLimitError) limit = e.message;
    else if (e instanceof DecodeError) error = e.message;
    else throw e;
  } finally {
    await run.chunks.return(undefined);
  }
  const consumed = run.consumed();
  const source: ByteSource =
    total <= IN_MEMORY ? new MemorySource(concat(kept, total)) : new StreamedSource(start, total);
  return { source, size: total, consumed, error, limit, budget: over };
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}

/** the decoded bytes of a stream too long to keep, decoded again as they are read */
class StreamedSource implements ByteSource {
  private run: DecoderRun | null = null;
  /** decoded position of the run, and the part of its last chunk not yet consumed */
  private runPos = 0;
  private carry: Uint8Array = new Uint8Array(0);
  private readonly blocks = new Map<number, Uint8Array>();
  private first: Uint8Array | null = null;
  restarts = 0;

  constructor(
    private readonly start: () => DecoderRun,
    readonly size: number,
  ) {}

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    const firstBlock = Math.floor(offset / BLOCK);
    const lastBlock = Math.floor((end - 1) / BLOCK);
    if (firstBlock === lastBlock) {
      const b = await this.block(firstBlock);
      return b.subarray(offset - firstBlock * BLOCK, end - firstBlock * BLOCK);
    }
    const out = new Uint8Array(end - offset);
    for (let i = firstBlock; i <= lastBlock; i++) {
      const b = await this.block(i);
      const from = Math.max(offset, i * BLOCK);
      const to = Math.min(end, (i + 1) * BLOCK);
      out.set(b.subarray(from - i * BLOCK, to - i * BLOCK), from - offset);
    }
    return out;
  }

  private async block(i: number): Promise<Uint8Array> {
    if (i === 0 && this.first) return this.first;
    const hit = this.blocks.get(i);
    if (hit) {
      this.blocks.delete(i);
      this.blocks.set(i, hit);
      return hit;
    }
    const at = i * BLOCK;
    if (this.run === null || this.runPos > at) {
      if (this.run !== null) {
        if (++this.restarts > MAX_RESTARTS)
          throw new Error(
            `the compressed stream was decoded ${MAX_RESTARTS} times over; the scan stops there`,
          );
        await this.run.chunks.return(undefined);
      }
      this.run = this.start();
      this.runPos = 0;
      this.carry = new Uint8Array(0);
    }
    // skip to the block, then fill it
    const want = Math.min(BLOCK, this.size - at);
    const out = new Uint8Array(want);
    let filled = 0;
    while (filled < want) {
      if (this.carry.length === 0) {
        const n = await this.run.chunks.next();
        if (n.done) throw new Error('the compressed stream ended sooner than on its first reading');
        this.carry = n.value;
      }
      const pos = this.runPos;
      const c = this.carry;
      if (pos + c.length <= at) {
        this.runPos += c.length;
        this.carry = new Uint8Array(0);
        continue;
      }
      const from = Math.max(0, at - pos);
      const take = Math.min(c.length - from, want - filled);
      out.set(c.subarray(from, from + take), filled);
      filled += take;
      this.runPos = pos + from + take;
      this.carry = c.subarray(from + take);
    }
    if (i === 0) this.first = out;
    else {
      this.blocks.set(i, out);
      if (this.blocks.size > CACHED_BLOCKS) this.blocks.delete(this.blocks.keys().next().value as number);
    }
    return out;
  }
}
