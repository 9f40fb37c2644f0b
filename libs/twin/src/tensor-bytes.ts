import { readExactly, type ByteSource } from '@brine/bytes';
import type { TwinPlan, TwinTensor } from './twin-plan';

/** bytes handed to the uploader at a time */
export const TWIN_CHUNK = 4 * 1024 * 1024;

/**
 * The twin's bytes, in file order: the header, then each tensor's elements in logical (row-major) order. A
 * contiguous tensor is a slice of its storage record, read in chunks; a non-contiguous view is read once (its span
 * is bounded by MAX_GATHER_SPAN) and gathered element by element. Memory: one chunk, or one span and one chunk.
 * `dataStart` gives where a storage record's bytes begin in the file (the zip's local header decides it).
 */
export async function* twinBytes(
  plan: TwinPlan,
  source: ByteSource,
  dataStart: (t: TwinTensor) => Promise<number>,
  chunk = TWIN_CHUNK,
): AsyncGenerator<Buffer> {
  let spanBuffer: Uint8Array | null = null;
  yield plan.layout.header;
  for (const t of plan.layout.tensors) {
    if (t.bytes === 0) continue;
    const base = (await dataStart(t)) + t.offset * t.elementSize;
    if (t.contiguous) {
      for (let done = 0; done < t.bytes;) {
        const n = Math.min(chunk, t.bytes - done);
        const b = await readExactly(source, base + done, n);
        yield Buffer.from(b.buffer, b.byteOffset, b.byteLength);
        done += n;
      }
      continue;
    }
    let last = 0;
    t.shape.forEach((d, i) => (last += (d - 1) * t.stride[i]));
    const length = (last + 1) * t.elementSize;
    // one span buffer for every view, filled a chunk at a time (no 64 MiB of garbage per tensor)
    if (!spanBuffer || spanBuffer.length < length) spanBuffer = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const n = Math.min(chunk, length - done);
      spanBuffer.set(await readExactly(source, base + done, n), done);
      done += n;
    }
    yield* gather(spanBuffer.subarray(0, length), t.shape, t.stride, t.elementSize, chunk, true);
  }
}

/**
 * The elements of a strided view of `src` (offsets in elements from its start), in row-major order. With `reuse`,
 * every chunk is the same buffer, refilled once the consumer asks for the next (it must copy what it keeps).
 */
export function* gather(
  src: Uint8Array,
  shape: number[],
  stride: number[],
  elementSize: number,
  chunk = TWIN_CHUNK,
  reuse = false,
): Generator<Buffer> {
  let numel = 1;
  for (const d of shape) numel *= d;
  if (numel === 0) return;
  const nd = shape.length;
  const inner = nd > 0 ? shape[nd - 1] : 1;
  const innerStride = nd > 0 ? stride[nd - 1] : 0;
  const index = new Array<number>(nd).fill(0);
  const size = Math.min(chunk - (chunk % elementSize), numel * elementSize);
  let out = Buffer.allocUnsafe(size);
  let o = 0;
  let pos = 0;
  for (;;) {
    for (let j = 0; j < inner; j++) {
      const s = (pos + j * innerStride) * elementSize;
      for (let b = 0; b < elementSize; b++) out[o++] = src[s + b];
      if (o === out.length) {
        yield out;
        if (!reuse) out = Buffer.allocUnsafe(size);
        o = 0;
      }
    }
    let d = nd - 2;
    for (; d >= 0; d--) {
      index[d]++;
      pos += stride[d];
      if (index[d] < shape[d]) break;
      pos -= stride[d] * shape[d];
      index[d] = 0;
    }
    if (d < 0) break;
  }
  if (o > 0) yield out.subarray(0, o);
}
