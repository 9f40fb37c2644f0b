import { Readable } from 'node:stream';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';

type HandleArgs = Parameters<NodeHttpHandler['handle']>;
type HttpRequest = HandleArgs[0];
export type HttpHandlerOptions = NonNullable<HandleArgs[1]>;

/**
 * How long Brine waits for the object store. Waiting is measured, never transferring: bytes that move renew every
 * allowance, so a long upload or download on a slow link is never cut, while a store that stops answering fails
 * the call soon enough for the API to answer 503 within its budget.
 */
export interface S3Waits {
  /** to establish a connection (one attempt) */
  connectMs: number;
  /**
   * the longest one attempt may hear nothing: from the request's last byte sent to its answer's first, and between
   * two pieces of a body being read while the reader waits for more (a reader that is slow itself does not count)
   */
  silenceMs: number;
  /** the longest one call may wait for the store, all its attempts and retries together */
  budgetMs: number;
}

/** the object store made a call wait longer than it may (the API answers 503; a scan waits and retries) */
export class StorageTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageTimeoutError';
  }
}

/**
 * One call's allowance for waiting: `ms` of waiting in all, across attempts, renewed by every piece of the request
 * body that goes out. When it runs out, its signal aborts whatever attempt is in flight.
 */
export class Wait {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  expired = false;

  constructor(
    readonly ms: number,
    readonly silenceMs: number,
  ) {
    WAITS.set(this.controller.signal, this);
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** bytes moved: the wait starts again (`ms`: this time, with this much) */
  progress(ms = this.ms): void {
    if (!this.expired && this.timer) this.arm(Math.max(ms, this.ms));
  }

  /** the call has its answer (a streamed body is watched by the reader's own silence limit from here) */
  done(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms = this.ms): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort();
    }, ms);
  }
}

const WAITS = new WeakMap<AbortSignal, Wait>();

/** request bodies at least this large are sent in pieces, so that their progress can be seen */
const WATCHED_BODY_BYTES = 64 * 1024;

/**
 * The last piece of a body handed to the socket is not the last byte to reach the store: up to a few MiB wait in
 * socket buffers, out of sight. Once a body is handed over, the silence allowed before the answer grows by the time
 * those bytes take at this rate (an 8 MiB part: 8 s more), the slowest link to the store Brine expects.
 */
export const TAIL_BYTES_PER_SECOND = 1024 * 1024;

/**
 * The AWS SDK's Node handler, with waiting measured the way S3Waits says. Each attempt: the connection within
 * connectMs (the SDK's own timer); then at most silenceMs without a byte of request body going out or, once the
 * body is sent, before the answer starts. The answer's body is handed on through a reader that fails after
 * silenceMs without data while someone waits for it. The call's Wait (found by its abort signal) is renewed by the
 * body's progress and aborts the attempt in flight when the call has waited too long.
 */
export class WaitingHttpHandler extends NodeHttpHandler {
  private readonly silenceMs: number;

  constructor(waits: S3Waits, options: NodeHttpHandlerOptions = {}) {
    // no socket or request timer of the SDK's own: theirs count time spent transferring too
    super({ ...options, connectionTimeout: waits.connectMs, requestTimeout: 0, socketTimeout: 0 });
    this.silenceMs = waits.silenceMs;
  }

  override async handle(
    request: HttpRequest,
    options: HttpHandlerOptions = {},
  ): Promise<Awaited<ReturnType<NodeHttpHandler['handle']>>> {
    const signal = options.abortSignal as AbortSignal | undefined;
    const wait = signal ? WAITS.get(signal) : undefined;
    const silenceMs = wait?.silenceMs ?? this.silenceMs;
    const attempt = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let silent = false;
    const arm = (ms = silenceMs) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        silent = true;
        attempt.abort();
      }, ms);
    };
    const body = request.body as unknown;
    let sent = request;
    if (body instanceof Uint8Array && body.length >= WATCHED_BODY_BYTES) {
      // a fresh reader of the same bytes for each attempt, reporting each piece as the socket takes it
      const tail = silenceMs + Math.ceil((body.length / TAIL_BYTES_PER_SECOND) * 1000);
      const onPiece = (last: boolean) => {
        arm(last ? tail : silenceMs);
        wait?.progress(last ? tail : undefined);
      };
      sent = { ...request, body: pieces(body, onPiece) } as HttpRequest;
    }
    arm();
    try {
      const r = await super.handle(sent, {
        ...options,
        abortSignal: signal ? AbortSignal.any([signal, attempt.signal]) : attempt.signal,
      });
      clearTimeout(timer);
      const answer = r.response.body as unknown;
      if (answer instanceof Readable) r.response.body = watched(answer, silenceMs);
      return r;
    } catch (e) {
      clearTimeout(timer);
      // one silent attempt is a timeout the SDK retries (the call's Wait bounds how long that goes on)
      if (silent && !signal?.aborted)
        throw Object.assign(new Error(`the object store sent nothing for ${silenceMs} ms`), {
          name: 'TimeoutError',
        });
      throw e;
    }
  }
}

/** `bytes` as a stream of 64 KiB pieces; `onPiece` when the consumer takes one (`last`: the body is handed over) */
function pieces(bytes: Uint8Array, onPiece: (last: boolean) => void): Readable {
  let offset = 0;
  return new Readable({
    highWaterMark: WATCHED_BODY_BYTES,
    read() {
      if (offset >= bytes.length) {
        this.push(null);
        return;
      }
      const end = Math.min(bytes.length, offset + WATCHED_BODY_BYTES);
      onPiece(end === bytes.length);
      this.push(bytes.subarray(offset, end));
      offset = end;
    },
  });
}

/**
 * `source` re-streamed, failing with a StorageTimeoutError when its reader has waited `silenceMs` for data that
 * does not come. Time the reader itself takes (a slow client of a download) is not counted: the timer runs only
 * while the reader asks for more and nothing is buffered.
 */
function watched(source: Readable, silenceMs: number): Readable {
  let timer: NodeJS.Timeout | undefined;
  const disarm = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const out = new Readable({
    read() {
      timer ??= setTimeout(
        () =>
          out.destroy(
            new StorageTimeoutError(
              `the object store sent nothing for ${silenceMs} ms in the middle of a body`,
            ),
          ),
        silenceMs,
      );
      source.resume();
    },
    destroy(err, cb) {
      disarm();
      source.destroy();
      cb(err);
    },
  });
  source.on('data', (chunk: Buffer) => {
    disarm();
    if (!out.push(chunk)) source.pause();
  });
  source.once('end', () => {
    disarm();
    out.push(null);
  });
  source.once('error', (e) => out.destroy(e));
  source.pause();
  return out;
}
