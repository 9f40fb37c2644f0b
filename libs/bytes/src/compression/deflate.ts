import type { Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { DecodeError, MAX_STREAMS, tooManyStreams, type InputCursor } from './input';

/**
 * The zlib family (and zstd), decoded by Node's zlib as the stream arrives: raw deflate, zlib streams, gzip members
 * framed the way CPython's gzip module frames them, zstd frames. Each decoder is an async generator of output
 * chunks: it reads its input only as its output is asked for, so memory stays bounded whatever the ratio.
 */

type Engine = Transform & { bytesWritten: number };

const FEED = 64 * 1024;

/**
 * Runs a Node decompressor over the cursor's bytes from its position and yields what it produces. Afterwards the
 * cursor stands just past the bytes the engine consumed (the end of the compressed stream). Data produced before an
 * error is yielded before the error is thrown.
 */
async function* run(
  engine: Engine,
  cursor: InputCursor,
  describe: (e: Error) => string,
): AsyncGenerator<Uint8Array, void> {
  const start = cursor.pos;
  const end = cursor.end;
  const queue: Buffer[] = [];
  let done = false;
  let stopped = false;
  let error: Error | null = null;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  engine.on('data', (c: Buffer) => {
    queue.push(c);
    if (queue.length >= 8) engine.pause();
    poke();
  });
  engine.on('end', () => {
    done = true;
    poke();
  });
  engine.on('error', (e: Error) => {
    error = e;
    done = true;
    poke();
  });
  const feeder = (async () => {
    let at = start;
    try {
      // only the feeder moves the cursor while the engine runs
      while (!stopped && !done && at < end) {
        await cursor.ensure(Math.min(FEED, end - at));
        const chunk = cursor.take(FEED);
        if (chunk.length === 0) break;
        at += chunk.length;
        if (!engine.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))) {
          await new Promise<void>((resolve) => {
            const go = () => {
              engine.off('drain', go);
              engine.off('close', go);
              engine.off('end', go);
              resolve();
            };
            engine.on('drain', go);
            engine.on('close', go);
            engine.on('end', go);
          });
        }
      }
      if (!stopped && !done) engine.end();
    } catch (e) {
      error ??= e as Error;
      done = true;
      poke();
    }
  })();
  try {
    for (;;) {
      const c = queue.shift();
      if (c) {
        if (queue.length < 2) engine.resume();
        yield c;
        continue;
      }
      if (done) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    // stop the engine first: a feeder waiting for 'drain' on a paused engine is woken by its 'close'
    stopped = true;
    const consumed = engine.bytesWritten;
    engine.destroy();
    await feeder;
    cursor.seek(start + consumed);
  }
  if (error) throw new DecodeError(describe(error));
}

function zlibMessage(e: Error): string {
  return /unexpected end of file/i.test(e.message)
    ? 'Compressed file ended before the end-of-stream marker was reached'
    : `Error -3 while decompressing data: ${e.message}`;
}

/** one zlib stream (RFC 1950): what joblib's BinaryZlibFile reads, and what zipfile-free tools call "zlib" */
export async function* zlibStream(cursor: InputCursor): AsyncGenerator<Uint8Array, void> {
  yield* run(zlib.createInflate({ chunkSize: FEED }) as Engine, cursor, zlibMessage);
}

/** raw deflate (RFC 1951): a gzip member's body, a zip entry */
export async function* rawDeflate(cursor: InputCursor): AsyncGenerator<Uint8Array, void> {
  yield* run(zlib.createInflateRaw({ chunkSize: FEED }) as Engine, cursor, zlibMessage);
}

const FTEXT = 1;
const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/** what a gzip stream held besides its data, for the report */
export interface GzipFacts {
  members: number;
  /** header bits zlib refuses (joblib reads gzip through zlib) while CPython's gzip module ignores them */
  reservedFlags: boolean;
  headerCrcMismatch: boolean;
  /** NUL bytes between or after members, which CPython's gzip module skips */
  padding: number;
}

/**
 * A gzip file read the way CPython's gzip module (GzipFile, used by pandas.read_pickle for `.gz`) reads it:
 * member after member, each header parsed (method must be 8; FEXTRA, FNAME, FCOMMENT skipped; the header CRC read
 * but not checked), the deflate body, then CRC-32 and ISIZE checked; NUL padding after a member is skipped; anything
 * else after a member must be another member ("Not a gzipped file"). joblib reads the first member only, through
 * zlib (which also checks the header CRC and refuses reserved flag bits): its bytes are a prefix of these.
 */
export async function* gzipMembers(cursor: InputCursor, facts: GzipFacts): AsyncGenerator<Uint8Array, void> {
  for (;;) {
    await cursor.ensure(10);
    if (facts.members > 0) {
      // after a member: NUL padding, then the end of the file or another member
      for (;;) {
        await cursor.ensure(64 * 1024);
        const b = cursor.peek(64 * 1024);
        let zeros = 0;
        while (zeros < b.length && b[zeros] === 0) zeros++;
        cursor.take(zeros);
        facts.padding += zeros;
        if (zeros < b.length || b.length === 0) break;
      }
      if (cursor.remaining === 0) return;
      if (facts.members >= MAX_STREAMS) throw tooManyStreams('gzip members');
      await cursor.ensure(10);
    }
    const head = cursor.peek(10);
    if (head.length < 2 && facts.members > 0) throw new DecodeError(`Not a gzipped file (${pyBytes(head)})`);
    if (head[0] !== 0x1f || head[1] !== 0x8b)
      throw new DecodeError(`Not a gzipped file (${pyBytes(head.subarray(0, 2))})`);
    if (head.length < 10)
      throw new DecodeError('Compressed file ended before the end-of-stream marker was reached');
    if (head[2] !== 8) throw new DecodeError('Unknown compression method');
    const flags = head[3];
    if (flags & 0xe0) facts.reservedFlags = true;
    const headerStart = cursor.pos;
    cursor.take(10);
    if (flags & FEXTRA) {
      await cursor.ensure(2);
      const x = cursor.take(2);
      if (x.length < 2) throw truncated();
      const len = x[0] | (x[1] << 8);
      await cursor.ensure(len);
      if (cursor.take(len).length < len) throw truncated();
    }
    for (const bit of [FNAME, FCOMMENT]) {
      if (!(flags & bit)) continue;
      for (;;) {
        await cursor.ensure(1);
        const c = cursor.byte();
        if (c < 0) throw truncated();
        if (c === 0) break;
      }
    }
    if (flags & FHCRC) {
      const headerLen = cursor.pos - headerStart;
      cursor.seek(headerStart);
      await cursor.ensure(headerLen + 2);
      const crc = zlib.crc32(cursor.take(headerLen)) & 0xffff;
      const stored = cursor.take(2);
      if (stored.length < 2) throw truncated();
      if ((stored[0] | (stored[1] << 8)) !== crc) facts.headerCrcMismatch = true;
    }
    void FTEXT;
    let crc = 0;
    let size = 0;
    for await (const chunk of rawDeflate(cursor)) {
      crc = zlib.crc32(chunk, crc);
      size += chunk.length;
      yield chunk;
    }
    facts.members++;
    await cursor.ensure(8);
    const trailer = cursor.take(8);
    if (trailer.length < 8) throw truncated();
    const tv = new DataView(trailer.buffer, trailer.byteOffset, 8);
    if (tv.getUint32(0, true) !== crc >>> 0)
      throw new DecodeError(
        `CRC check failed 0x${tv.getUint32(0, true).toString(16)} != 0x${(crc >>> 0).toString(16)}`,
      );
    if (tv.getUint32(4, true) !== size % 2 ** 32) throw new DecodeError('Incorrect length of data produced');
  }
}

function truncated(): DecodeError {
  return new DecodeError('Compressed file ended before the end-of-stream marker was reached');
}

/** bytes as Python prints them (b'...') */
export function pyBytes(b: Uint8Array): string {
  let s = "b'";
  for (const c of b) {
    if (c === 0x5c) s += '\\\\';
    else if (c === 0x27) s += "\\'";
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x09) s += '\\t';
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `${s}'`;
}

/** Node's zstd decompressor, where this Node has one (22.15+, 24) */
export function zstdAvailable(): boolean {
  return typeof (zlib as Partial<typeof zlib>).createZstdDecompress === 'function';
}

/** zstd frames, one after another, as libzstd's streaming decoder reads them (skippable frames skipped) */
export async function* zstdFrames(cursor: InputCursor): AsyncGenerator<Uint8Array, void> {
  const make = (zlib as Partial<typeof zlib>).createZstdDecompress;
  if (!make) throw new DecodeError('this Node has no zstd decoder (Node 22.15 or later has one)');
  yield* run(make({ chunkSize: FEED }) as unknown as Engine, cursor, (e) => e.message);
}
