import {
  ApiError,
  send,
  type Answer,
  type Endpoint,
  type Reply,
  type RequestInput,
  type Route,
} from '@brine/contracts';
import { cliHints, EXIT } from './exit';
import { CommandFailure, UsageError } from './usage-error';

export { ApiError };

/** How the CLI reaches a registry: --url/--token, else BRINE_URL/BRINE_TOKEN. */
export interface Remote {
  url: string;
  token: string;
}

export function remote(values: { url?: string; token?: string }): Remote {
  const url = (values.url ?? process.env.BRINE_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
  try {
    new URL(url);
  } catch {
    throw new UsageError(
      `--url (or BRINE_URL) must be the registry's address, like http://127.0.0.1:3000; got "${url}"`,
    );
  }
  const token = values.token ?? process.env.BRINE_TOKEN;
  if (!token)
    throw new CommandFailure(
      'no token: pass --token or set BRINE_TOKEN (the registry printed an admin token on its first start)',
      EXIT.auth,
    );
  return { url, token };
}

/** a request to the registry: the body of its success (see `exchange`) */
export async function call<R extends Route>(
  r: Remote,
  route: Endpoint<R>,
  input: RequestInput<R>,
): Promise<Answer<R>> {
  return (await exchange(r, route, input)).body;
}

/** how often a 503 (or 429) is tried again, and the longest wait its Retry-After may ask for */
export const RETRIES = { times: 3, maxWaitS: 30 } as const;

/**
 * A request to the registry: its status, headers and body; a failure is an ApiError with the status in front and
 * the HTTP names in its message replaced by the CLI's flags. A 503 or 429 is tried again after the Retry-After it
 * carries (1 s when none, at most RETRIES.maxWaitS), RETRIES.times at most — unless the body is a stream, which
 * cannot be sent twice (the caller opens it again: see `upload`).
 */
export async function exchange<R extends Route>(
  r: Remote,
  route: Endpoint<R>,
  input: RequestInput<R>,
): Promise<Reply<R>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send(route, input, { baseUrl: r.url, token: r.token });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const wait = retryWait(e, attempt);
      if (wait !== null && !(input.body instanceof ReadableStream)) {
        await sleep(wait);
        continue;
      }
      throw new ApiError(
        e.status,
        e.error,
        e.status === 0 ? `cannot reach ${r.url}: ${e.message}` : `${e.status}: ${cliHints(e.message)}`,
        e.retryAfter,
      );
    }
  }
}

/** seconds to wait before trying a failed request again, or null when it should not be tried again */
export function retryWait(e: ApiError, attempt: number): number | null {
  if ((e.status !== 503 && e.status !== 429) || attempt >= RETRIES.times) return null;
  const s = Math.min(e.retryAfter ?? 1, RETRIES.maxWaitS);
  if (process.stderr.isTTY)
    process.stderr.write(`registry unavailable (${e.status}); trying again in ${s} s\n`);
  return s;
}

export const sleep = (s: number) => new Promise<void>((res) => setTimeout(res, s * 1000));

/** NAME, NAME:VERSION or NAME:TAG (a tag when the part after ':' is a known tag word or has no version) */
export function parseRef(ref: string): { name: string; ref: string | null } {
  const i = ref.indexOf(':');
  if (i < 0) return { name: ref, ref: null };
  return { name: ref.slice(0, i), ref: ref.slice(i + 1) };
}
