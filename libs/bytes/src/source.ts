/**
 * Random-access byte sources. The scanner reads only through this interface, so the same code scans a local file,
 * an S3 object (range GETs) or a buffer, and reads just the parts it needs (a zip's central directory and its
 * pickles, never the tensor data).
 */
export interface ByteSource {
  readonly size: number;
  /** Returns min(length, size - offset) bytes starting at offset. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export class MemorySource implements ByteSource {
  constructor(private readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.bytes.subarray(offset, Math.min(this.bytes.length, offset + length));
  }
}

/** A window [start, start + size) of another source, clamped to what the source holds. */
export class SliceSource implements ByteSource {
  readonly size: number;
  constructor(
    private readonly inner: ByteSource,
    private readonly start: number,
    size: number,
  ) {
    this.size = Math.max(0, Math.min(size, inner.size - start));
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    const len = Math.max(0, Math.min(length, this.size - offset));
    return this.inner.read(this.start + offset, len);
  }
}

/** An error of the underlying source (I/O), as opposed to a problem with the file's content. */
export class SourceReadError extends Error {
  constructor(override readonly cause: unknown) {
    super(`reading the file failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** Counts what is read, for the "bytes read to scan a 2 GB zip" figures; tags I/O failures as SourceReadError. */
export class CountingSource implements ByteSource {
  bytesRead = 0;
  reads = 0;
  constructor(private readonly inner: ByteSource) {}
  get size(): number {
    return this.inner.size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    let b: Uint8Array;
    try {
      b = await this.inner.read(offset, length);
    } catch (e) {
      throw e instanceof SourceReadError ? e : new SourceReadError(e);
    }
    this.bytesRead += b.length;
    this.reads++;
    return b;
  }
}

/** Reads exactly `length` bytes or fails (the scanner checks bounds first; a short read means the source lied). */
export async function readExactly(src: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  const b = await src.read(offset, length);
  if (b.length !== length)
    throw new Error(`short read at ${offset}: wanted ${length} bytes, got ${b.length}`);
  return b;
}
