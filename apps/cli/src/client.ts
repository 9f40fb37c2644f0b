import {
  ApiError,
  send,
  type Answer,
  type Endpoint,
  type Reply,
  type RequestInput,
  type Route,
} from '@brine/contracts';
import { UsageError } from './usage-error';

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
    throw new UsageError(
      'no token: pass --token or set BRINE_TOKEN (the registry printed an admin token on its first start)',
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

/** a request to the registry: its status, headers and body; a failure is an ApiError with the status in front */
export async function exchange<R extends Route>(
  r: Remote,
  route: Endpoint<R>,
  input: RequestInput<R>,
): Promise<Reply<R>> {
  try {
    return await send(route, input, { baseUrl: r.url, token: r.token });
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    throw new ApiError(
      e.status,
      e.error,
      e.status === 0 ? `cannot reach ${r.url}: ${e.message}` : `${e.status}: ${e.message}`,
    );
  }
}

/** NAME, NAME:VERSION or NAME:TAG (a tag when the part after ':' is a known tag word or has no version) */
export function parseRef(ref: string): { name: string; ref: string | null } {
  const i = ref.indexOf(':');
  if (i < 0) return { name: ref, ref: null };
  return { name: ref.slice(0, i), ref: ref.slice(i + 1) };
}
