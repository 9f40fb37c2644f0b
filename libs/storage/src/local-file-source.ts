import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { ByteSource } from '@brine/scanner';

/** A ByteSource over a local file, read with positioned reads (no whole-file buffering). */
export class LocalFileSource implements ByteSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<LocalFileSource> {
    const fh = await open(path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Error(`${path} is not a regular file`);
      return new LocalFileSource(fh, st.size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const len = Math.max(0, Math.min(length, this.size - offset));
    const buf = Buffer.allocUnsafe(len);
    let done = 0;
    while (done < len) {
      const { bytesRead } = await this.fh.read(buf, done, len - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === len ? buf : buf.subarray(0, done);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * A file as a web ReadableStream (a fetch body) that reads one chunk per pull, so memory stays at one chunk
 * whatever the file's size. (Readable.toWeb over a file stream reads ahead without bound on Node 20.)
 */
export function fileBodyStream(
  path: string,
  opts: { chunkSize?: number; onChunk?: (bytes: number) => void } = {},
): ReadableStream<Uint8Array> {
  const chunkSize = opts.chunkSize ?? 1 << 20;
  let fh: FileHandle | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async start() {
        fh = await open(path, 'r');
      },
      async pull(controller) {
        const buf = Buffer.allocUnsafe(chunkSize);
        const { bytesRead } = await fh!.read(buf, 0, chunkSize, null);
        if (bytesRead === 0) {
          await fh!.close();
          controller.close();
          return;
        }
        opts.onChunk?.(bytesRead);
        controller.enqueue(bytesRead === chunkSize ? buf : buf.subarray(0, bytesRead));
      },
      async cancel() {
        await fh?.close();
      },
    },
    { highWaterMark: 1 },
  );
}
