import type { z } from 'zod';
import type { Method, Route } from './routes';

/**
 * One typed request to Brine's HTTP API, for every client: the CLI on Node and the dashboard in a browser. The
 * route comes from the table (ENDPOINTS, derived from ROUTES), so the method, the path, what goes in and what comes
 * back are the table's; a caller never writes a URL.
 *
 * This file imports nothing at run time and uses only web APIs (fetch, URL, Headers, streams): the dashboard loads
 * this very code, transpiled to an ES module by scripts/copy-assets.js, with no zod and no server code.
 */

declare const ROUTE: unique symbol;

/** what request() reads of a route at run time: all the browser receives of the table */
export interface Endpoint<R extends Route = Route> {
  readonly method: Method;
  /** OpenAPI style: /checkpoints/{name} */
  readonly path: string;
  /** what the body is, when the route takes one: JSON, or the raw bytes of a file */
  readonly body?: 'json' | 'binary';
  /** what a success answers: JSON, the raw bytes (as a Response to stream), Prometheus text, or nothing */
  readonly answer: 'json' | 'binary' | 'text' | 'none';
  /** the route it stands for: a type only, never set, from which request() infers its input and answer */
  readonly [ROUTE]?: R;
}

/** a route's endpoint: what a client needs of its declaration */
export function endpoint<R extends Route>(r: R): Endpoint<R> {
  const success = Object.entries(r.responses).find(([status]) => Number(status) < 300)?.[1];
  return {
    method: r.method,
    path: r.path,
    ...(r.body === undefined ? {} : { body: r.body === 'binary' ? 'binary' : 'json' }),
    answer: success?.body === undefined ? 'none' : typeof success.body === 'string' ? success.body : 'json',
  };
}

// ---- what goes in ----

/** raw bytes as fetch sends them: a stream (sent as it is read) or bytes in memory */
export type Bytes = ReadableStream<Uint8Array> | Blob | ArrayBuffer | Uint8Array<ArrayBuffer>;

/** a query value: the string the schema reads, or a number or boolean written as one */
type QueryValue<T> = T extends 'true' | 'false' ? T | boolean : string extends T ? T | number : T;
type QueryInput<T> = { [K in keyof T]: QueryValue<T[K]> };

type SchemaInput<S> = S extends z.ZodType ? z.input<S> : never;

/** a part of the input: absent when the route has none, optional when none of its fields is required */
type Part<K extends string, T> = [T] extends [never]
  ? { readonly [P in K]?: undefined }
  : Partial<T> extends T
    ? { readonly [P in K]?: T }
    : { readonly [P in K]: T };

type BodyPart<R extends Route> = R['body'] extends 'binary'
  ? { readonly body: Bytes }
  : R['body'] extends z.ZodType
    ? R['bodyOptional'] extends true
      ? { readonly body?: z.input<R['body']> }
      : { readonly body: z.input<R['body']> }
    : { readonly body?: undefined };

/** what a request to route R takes: path parameters, query, headers and body, as the route declares them */
export type RequestInput<R extends Route> = Part<'params', SchemaInput<R['params']>> &
  Part<'query', QueryInput<SchemaInput<R['query']>>> &
  Part<
    'headers',
    SchemaInput<R['headers']> & (R['body'] extends 'binary' ? { 'content-length'?: string } : unknown)
  > &
  BodyPart<R>;

// ---- what comes back ----

type Success<R extends Route> = Extract<keyof R['responses'], 200 | 201 | 202 | 203 | 204 | 206>;

type AnswerBody<B> = B extends 'binary'
  ? Response
  : B extends 'text'
    ? string
    : B extends z.ZodType
      ? z.output<B>
      : undefined;

/** a success of route R: its status, headers and body (parsed JSON, text, the Response of a file, or nothing) */
export type Reply<R extends Route> = {
  [S in Success<R>]: { status: S; headers: Headers; body: AnswerBody<R['responses'][S]['body']> };
}[Success<R>];

/** the body a success of route R answers */
export type Answer<R extends Route> = Reply<R>['body'];

/**
 * A request that failed: Brine's JSON error (`{"statusCode", "error", "message"}`), or status 0 when the registry
 * could not be reached at all.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    /** seconds to wait before trying again, from a 503's (or 429's) Retry-After; null when it sent none */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** the error an answer that is not a success carries (its status text when the body is not Brine's JSON) */
  static async of(res: Response): Promise<ApiError> {
    let error = res.statusText;
    let message = res.statusText || `HTTP ${res.status}`;
    try {
      const j = (await res.json()) as { error?: unknown; message?: unknown };
      if (typeof j.error === 'string') error = j.error;
      if (Array.isArray(j.message)) message = j.message.join('; ');
      else if (typeof j.message === 'string' && j.message) message = j.message;
    } catch {
      // not JSON: the status text says what little there is
    }
    const after = res.headers.get('retry-after');
    const seconds = after !== null && /^\d+$/.test(after.trim()) ? Number(after) : null;
    return new ApiError(res.status, error, message, seconds);
  }
}

export interface RequestOptions {
  /** the registry's address, like http://127.0.0.1:3000; '' (the default) for the page's own origin */
  baseUrl?: string;
  /** the API token, sent as `Authorization: Bearer …` */
  token?: string | null;
  signal?: AbortSignal;
}

/** the URL of a request to `route`: its path with the parameters filled in (percent-encoded), then the query */
export function url<R extends Route>(route: Endpoint<R>, input: RequestInput<R>, baseUrl = ''): string {
  const params = (input.params ?? {}) as Record<string, string>;
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (params[name] === undefined) throw new TypeError(`${route.path} needs the parameter ${name}`);
    return encodeURIComponent(params[name]);
  });
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries((input.query ?? {}) as Record<string, unknown>))
    if (v !== undefined) query.set(k, String(v));
  const qs = query.toString();
  return `${baseUrl}${path}${qs ? `?${qs}` : ''}`;
}

/** sends a request to `route` and answers its status, headers and body; anything but a success throws an ApiError */
export async function send<R extends Route>(
  route: Endpoint<R>,
  input: RequestInput<R>,
  options: RequestOptions = {},
): Promise<Reply<R>> {
  const headers = new Headers();
  if (options.token) headers.set('authorization', `Bearer ${options.token}`);
  for (const [k, v] of Object.entries((input.headers ?? {}) as Record<string, string | undefined>))
    if (v !== undefined) headers.set(k, v);
  const init: RequestInit & { duplex?: 'half' } = { method: route.method.toUpperCase(), headers };
  if (options.signal) init.signal = options.signal;
  if (input.body !== undefined) {
    if (route.body === 'binary') {
      headers.set('content-type', 'application/octet-stream');
      init.body = input.body as Bytes;
      // a stream is sent as it is read (fetch needs to be told so)
      if (input.body instanceof ReadableStream) init.duplex = 'half';
    } else {
      headers.set('content-type', 'application/json');
      init.body = JSON.stringify(input.body);
    }
  }
  let res: Response;
  try {
    res = await fetch(url(route, input, options.baseUrl), init);
  } catch (e) {
    if (options.signal?.aborted) throw e;
    // the registry did not answer; Node puts the reason (ECONNREFUSED …) in the cause
    const cause = (e as Error).cause;
    throw new ApiError(0, 'Unreachable', cause instanceof Error ? cause.message : (e as Error).message);
  }
  if (!res.ok) throw await ApiError.of(res);
  const body =
    res.status === 204 || route.answer === 'none'
      ? undefined
      : route.answer === 'json'
        ? ((await res.json()) as unknown)
        : route.answer === 'text'
          ? await res.text()
          : res;
  return { status: res.status, headers: res.headers, body } as Reply<R>;
}

/** sends a request to `route` and answers the body of its success; anything else throws an ApiError */
export async function request<R extends Route>(
  route: Endpoint<R>,
  input: RequestInput<R>,
  options: RequestOptions = {},
): Promise<Answer<R>> {
  return (await send(route, input, options)).body;
}
