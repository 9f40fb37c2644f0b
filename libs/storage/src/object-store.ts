import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { ByteSource } from '@brine/bytes';
import type { PartDiscard } from './embedded-s3';
import { StorageTimeoutError, Wait, WaitingHttpHandler, type HttpHandlerOptions } from './s3-waits';

export interface ObjectStoreOptions {
  endpoint: string | null;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  partSize: number;
  queueSize: number;
  /**
   * How long to wait for the store (see S3Waits): ms to connect; ms one attempt may hear nothing (before the
   * answer, or mid-body while a reader waits); ms one call may wait in all, retries included.
   */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  budgetMs?: number;
}

const ABANDONED = new WeakMap<object, Promise<boolean>>();

/**
 * After ObjectStore.upload failed with `e`: resolves once what the upload had sent is removed (true), or could not
 * be (false: the store is down; the sweeper finishes it later).
 */
export function abandonedUpload(e: unknown): Promise<boolean> {
  return (typeof e === 'object' && e !== null && ABANDONED.get(e)) || Promise.resolve(true);
}

/** how fast a store is assumed to assemble a multipart object at least (s3rver concatenates the part files) */
const ASSEMBLY_BYTES_PER_SECOND = 32 * 1024 * 1024;

export interface MultipartUpload {
  key: string;
  uploadId: string;
  initiated: Date | null;
}

export class UploadTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than the limit of ${limit} bytes`);
  }
}

/** the object store failed while a response body was streaming in (its request itself had succeeded) */
export class StorageStreamError extends Error {
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`reading ${key} from the object store failed: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
    this.name = 'StorageStreamError';
  }
}

export interface UploadResult {
  size: number;
  sha256: string;
}

/** `count` buffers of `size` bytes, made when first needed and then reused; first come first served */
class BufferPool {
  private readonly free: Buffer[] = [];
  private made = 0;
  private readonly waiting: Array<(b: Buffer) => void> = [];

  constructor(
    private readonly count: number,
    private readonly size: number,
  ) {}

  async acquire(): Promise<Buffer> {
    const b = this.free.pop();
    if (b) return b;
    if (this.made < this.count) {
      this.made++;
      return Buffer.allocUnsafe(this.size);
    }
    return new Promise<Buffer>((resolve) => this.waiting.push(resolve));
  }

  release(b: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(b);
    else this.free.push(b);
  }
}

/**
 * The object store: S3, MinIO or the embedded s3rver through @aws-sdk/client-s3. Uploads stream as multipart
 * uploads with a bounded number of parts in memory and the SHA-256 computed on the way; reads use explicit byte
 * ranges (suffix ranges are wrong on s3rver).
 */
export class ObjectStore {
  readonly client: S3Client;
  readonly bucket: string;
  private readonly partSize: number;
  /** buffers for the parts in flight across every upload of this process (BRINE_UPLOAD_QUEUE_SIZE of them) */
  private readonly partBuffers: BufferPool;

  /** the waits every call gets (see S3Waits) */
  readonly waits: { connectMs: number; silenceMs: number; budgetMs: number };

  constructor(opts: ObjectStoreOptions) {
    this.waits = {
      connectMs: opts.connectTimeoutMs ?? 2_000,
      silenceMs: opts.requestTimeoutMs ?? 5_000,
      budgetMs: opts.budgetMs ?? 8_000,
    };
    this.client = new S3Client({
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
      // waiting for the store is bounded (connection, silence per attempt, the whole call with its retries);
      // transferring is not: bytes that move renew the allowances
      requestHandler: new WaitingHttpHandler({
        connectMs: this.waits.connectMs,
        silenceMs: this.waits.silenceMs,
        budgetMs: this.waits.budgetMs,
      }),
      // streamed bodies would otherwise be sent with aws-chunked framing, which s3rver stores verbatim
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    this.bucket = opts.bucket;
    this.partSize = opts.partSize;
    this.partBuffers = new BufferPool(opts.queueSize, opts.partSize);
  }

  /**
   * Runs one S3 call (`send` passes the options on to client.send) within its waiting budget: `waitMs` of waiting
   * in all, attempts and retries included, renewed while the request's body moves. A call that waits longer fails
   * with a StorageTimeoutError naming `what` — an outage, never an answer about the request.
   */
  async call<T>(
    what: string,
    send: (options: HttpHandlerOptions) => Promise<T>,
    waitMs = this.waits.budgetMs,
    silenceMs = this.waits.silenceMs,
  ): Promise<T> {
    const wait = new Wait(waitMs, silenceMs);
    try {
      return await send({ abortSignal: wait.signal });
    } catch (e) {
      if (wait.expired)
        throw new StorageTimeoutError(`the object store did not answer ${what} within ${waitMs} ms`);
      throw e;
    } finally {
      wait.done();
    }
  }

  async ensureBucket(): Promise<void> {
    try {
      await this.call('HeadBucket', (o) =>
        this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), o),
      );
    } catch {
      try {
        await this.call('CreateBucket', (o) =>
          this.client.send(new CreateBucketCommand({ Bucket: this.bucket }), o),
        );
      } catch (e) {
        const name = (e as { name?: string }).name;
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw e;
      }
    }
  }

  async ping(): Promise<void> {
    await this.call('HeadBucket', (o) => this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), o));
  }

  /**
   * Streams `body` to `key`. Nothing is visible under `key` unless the whole body arrived: a failure or a body
   * over `maxBytes` aborts the multipart upload (best effort — s3rver cannot abort, its parts stay invisible), in
   * the background: the error is thrown at once, and abandonedUpload(error) says when the abort is done.
   */
  async upload(
    key: string,
    body: AsyncIterable<Buffer | Uint8Array>,
    maxBytes: number,
    onProgress?: (bytes: number) => void,
    onMultipartStarted?: (uploadId: string) => void | Promise<void>,
  ): Promise<UploadResult> {
    const hash = createHash('sha256');
    let size = 0;
    // the part being filled: one buffer per upload, reused for every part
    const fill = Buffer.allocUnsafe(this.partSize);
    let filled = 0;
    let uploadId: string | null = null;
    const parts: Array<{ PartNumber: number; ETag: string }> = [];
    const inflight = new Set<Promise<void>>();
    let nextPart = 1;
    let failure: unknown = null;

    /**
     * Sends the filled part once one of the process's part buffers is free (until then this upload reads no more
     * of its body): the memory of all uploads together is one fill buffer each plus the shared part buffers,
     * however many arrive at once, and nothing is left for the garbage collector to catch up with.
     */
    const sendPart = async (): Promise<void> => {
      const buffer = await this.partBuffers.acquire();
      let launched = false;
      try {
        fill.copy(buffer, 0, 0, filled);
        const part = buffer.subarray(0, filled);
        filled = 0;
        await launch(part, () => this.partBuffers.release(buffer));
        launched = true;
      } finally {
        if (!launched) this.partBuffers.release(buffer);
      }
    };
    const launch = async (part: Buffer, done: () => void): Promise<void> => {
      if (uploadId === null) {
        const r = await this.call('CreateMultipartUpload', (o) =>
          this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }), o),
        );
        if (!r.UploadId) throw new Error('the object store returned no upload id');
        uploadId = r.UploadId;
        await onMultipartStarted?.(uploadId);
      }
      const n = nextPart++;
      const id: string = uploadId;
      const p = this.call(`UploadPart ${n}`, (o) =>
        this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: id,
            PartNumber: n,
            Body: part,
            ContentLength: part.length,
          }),
          o,
        ),
      )
        .then((r) => {
          parts.push({ PartNumber: n, ETag: r.ETag ?? '' });
        })
        .catch((e: unknown) => {
          failure ??= e;
        })
        .finally(() => {
          inflight.delete(p);
          done();
        });
      inflight.add(p);
      if (failure) throw failure;
    };

    try {
      for await (const chunk of body) {
        const buf = Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        size += buf.length;
        if (size > maxBytes) throw new UploadTooLargeError(maxBytes);
        hash.update(buf);
        onProgress?.(size);
        for (let off = 0; off < buf.length;) {
          const n = Math.min(buf.length - off, this.partSize - filled);
          buf.copy(fill, filled, off, off + n);
          filled += n;
          off += n;
          if (filled === this.partSize) await sendPart();
        }
      }
      if (uploadId === null) {
        // small bodies are a single PUT
        const all = fill.subarray(0, filled);
        await this.call('PutObject', (o) =>
          this.client.send(
            new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: all, ContentLength: all.length }),
            o,
          ),
        );
      } else {
        if (filled > 0) await sendPart();
        await Promise.all(inflight);
        if (failure) throw failure;
        parts.sort((a, b) => a.PartNumber - b.PartNumber);
        // the store assembles the object before it answers: it may take a second per 32 MiB beyond the budget
        const id: string = uploadId;
        const assembleMs = this.waits.budgetMs + Math.ceil(size / ASSEMBLY_BYTES_PER_SECOND) * 1000;
        await this.call(
          'CompleteMultipartUpload',
          (o) =>
            this.client.send(
              new CompleteMultipartUploadCommand({
                Bucket: this.bucket,
                Key: key,
                UploadId: id,
                MultipartUpload: { Parts: parts },
              }),
              o,
            ),
          assembleMs,
          assembleMs,
        );
      }
      return { size, sha256: hash.digest('hex') };
    } catch (e) {
      // what was sent is removed in the background — the store may be what failed, and the caller answers now
      const id: string | null = uploadId;
      const cleanup = (async () => {
        await Promise.allSettled(inflight);
        if (id === null) return true;
        const aborted = await this.abortMultipart(key, id).then(
          () => true,
          () => false,
        );
        const freed = await this.discardParts({
          remove: [id],
          keep: [],
          staleMs: Number.POSITIVE_INFINITY,
        }).then(
          () => true,
          () => false,
        );
        return aborted || freed;
      })();
      if (typeof e === 'object' && e !== null) ABANDONED.set(e, cleanup);
      throw e;
    }
  }

  /**
   * Aborts a multipart upload and frees its parts. s3rver cannot abort; the embedded server's own sweep
   * (EmbeddedS3.removeUploads) removes its part files instead.
   */
  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.call('AbortMultipartUpload', (o) =>
      this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
        o,
      ),
    );
  }

  /**
   * Frees the parts of multipart uploads that will not complete where the server cannot abort them (the embedded
   * s3rver). Returns the bytes freed; a no-op on S3, where AbortMultipartUpload does it.
   */
  discardParts: (which: PartDiscard) => Promise<number> = async () => 0;

  /** multipart uploads in progress under `prefix` (empty on servers that cannot list them, like s3rver) */
  async multipartUploads(prefix: string): Promise<MultipartUpload[]> {
    const out: MultipartUpload[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    try {
      do {
        const [km, im] = [keyMarker, idMarker];
        const r = await this.call('ListMultipartUploads', (o) =>
          this.client.send(
            new ListMultipartUploadsCommand({
              Bucket: this.bucket,
              Prefix: prefix,
              KeyMarker: km,
              UploadIdMarker: im,
            }),
            o,
          ),
        );
        for (const u of r.Uploads ?? [])
          if (u.Key && u.UploadId)
            out.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated ?? null });
        keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
        idMarker = r.IsTruncated ? r.NextUploadIdMarker : undefined;
      } while (keyMarker);
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 501 || status === 405 || (e as { name?: string }).name === 'NotImplemented') return [];
      throw e;
    }
    return out;
  }

  async delete(key: string): Promise<void> {
    await this.call('DeleteObject', (o) =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), o),
    );
  }

  /** size of the object, or null when it does not exist */
  async size(key: string): Promise<number | null> {
    try {
      const r = await this.call('HeadObject', (o) =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), o),
      );
      return r.ContentLength ?? 0;
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (e as { name?: string }).name === 'NotFound') return null;
      throw e;
    }
  }

  /** the object's bytes [start, end] (inclusive), or all of them */
  async stream(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const r = await this.call('GetObject', (o) =>
      this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
        o,
      ),
    );
    return r.Body as Readable;
  }

  async keys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const t = token;
      const r = await this.call('ListObjectsV2', (o) =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: t }),
          o,
        ),
      );
      for (const o of r.Contents ?? []) if (o.Key) out.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** a ByteSource over the object: the scanner reads it with explicit range GETs */
  rangeSource(key: string, size: number): S3RangeSource {
    return new S3RangeSource(this, key, size);
  }

  destroy(): void {
    this.client.destroy();
  }
}

export class S3RangeSource implements ByteSource {
  bytesRead = 0;
  reads = 0;
  constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
    readonly size: number,
  ) {}

  /**
   * The bytes [offset, offset + length), by a ranged GET whose body is read only as far as asked: a server that
   * ignores the range (s3rver answers `bytes=0-0` with the whole object) cannot make the reader hold more than
   * `length` bytes.
   */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const len = Math.max(0, Math.min(length, this.size - offset));
    if (len === 0) return new Uint8Array(0);
    // never ask for the one-byte range 0-0 (s3rver returns everything for it): ask for two bytes, keep one
    const end = offset + Math.max(len, Math.min(2, this.size - offset)) - 1;
    const r = await this.store.call('GetObject', (o) =>
      this.store.client.send(
        new GetObjectCommand({ Bucket: this.store.bucket, Key: this.key, Range: `bytes=${offset}-${end}` }),
        o,
      ),
    );
    const out = new Uint8Array(len);
    let filled = 0;
    const body = r.Body as Readable;
    try {
      for await (const chunk of body) {
        const c = chunk as Uint8Array;
        const n = Math.min(c.length, len - filled);
        out.set(c.subarray(0, n), filled);
        filled += n;
        if (filled >= len) break;
      }
    } catch (e) {
      throw new StorageStreamError(this.key, e);
    } finally {
      body.destroy();
    }
    this.bytesRead += filled;
    this.reads++;
    return filled === len ? out : out.subarray(0, filled);
  }
}
