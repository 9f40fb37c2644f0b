import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { ByteSource } from '@brine/bytes';

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
/**
 * The file's SHA-256. A large file is hashed on a worker thread, so the hash runs beside a scan instead of taking
 * turns with it on the main thread (hashing 64 MB costs about as much as scanning a large state dict).
 */
export async function sha256File(path: string): Promise<string> {
  if ((await stat(path)).size >= WORKER_HASH_BYTES) {
    const worker = new Worker(HASH_WORKER, { eval: true, workerData: path });
    return new Promise<string>((resolve, reject) => {
      worker.once('message', (hex: string) => resolve(hex));
      worker.once('error', reject);
      worker.once('exit', (code) => {
        if (code !== 0) reject(new Error(`hashing ${path} stopped with code ${code}`));
      });
    });
  }
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** below this a worker costs more to start than it saves */
const WORKER_HASH_BYTES = 16 * 1024 * 1024;

const HASH_WORKER = `
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const fd = openSync(workerData, 'r');
const h = createHash('sha256');
const buf = Buffer.allocUnsafe(1 << 20);
try {
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
} finally {
  closeSync(fd);
}
parentPort.postMessage(h.digest('hex'));
`;

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
