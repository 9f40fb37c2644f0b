import { UsageError } from './usage-error';

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

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** a JSON request; errors carry the registry's message */
export async function call<T>(
  r: Remote,
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${r.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  let res: Response;
  try {
    res = await fetch(`${r.url}${path}`, { ...init, headers, body });
  } catch (e) {
    throw new ApiError(
      0,
      `cannot reach ${r.url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`,
    );
  }
  if (!res.ok) throw await apiError(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export async function apiError(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const j = (await res.json()) as { message?: string };
    if (j.message) message = `${res.status}: ${j.message}`;
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, message);
}

/** NAME, NAME:VERSION or NAME:TAG (a tag when the part after ':' is a known tag word or has no version) */
export function parseRef(ref: string): { name: string; ref: string | null } {
  const i = ref.indexOf(':');
  if (i < 0) return { name: ref, ref: null };
  return { name: ref.slice(0, i), ref: ref.slice(i + 1) };
}
