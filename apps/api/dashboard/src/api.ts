/** The dashboard talks to the same API as every other client, with a token the person enters. */

const TOKEN_KEY = 'brine.token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null, remember: boolean): void {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
  if (token) (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

/** an API failure, with a message a person can act on */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function explain(status: number, apiMessage: string): string {
  switch (status) {
    case 0:
      return `The registry could not be reached (${apiMessage}). Check that it is running, then reload.`;
    case 401:
      return `The registry did not accept your token: ${apiMessage}. Enter a valid token on the Token page.`;
    case 403:
      return `Your token may not do this: ${apiMessage}.`;
    case 404:
      return `Not found: ${apiMessage}.`;
    default:
      return status >= 500
        ? `The registry failed (${status}): ${apiMessage}. Try again; if it persists, check the server's log.`
        : apiMessage;
  }
}

export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const token = getToken();
  if (token) headers.set('authorization', `Bearer ${token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers, body });
  } catch (e) {
    throw new ApiError(0, (e as Error).message);
  }
  if (!res.ok) {
    let message = res.statusText;
    try {
      const j = (await res.json()) as { message?: string | string[] };
      if (j.message) message = Array.isArray(j.message) ? j.message.join('; ') : j.message;
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(res.status, explain(res.status, message));
  }
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export const enc = encodeURIComponent;

// The shapes the API returns: declared once, in @brine/contracts (and the scan report by the scanner)
export type {
  CheckpointSummary,
  DeliveryView as Delivery,
  TagMove,
  TokenView as Token,
  VersionDiff,
  VersionView as VersionRecord,
  WebhookView as Webhook,
} from '@brine/contracts';
export type {
  Finding,
  ImportRecord,
  ScanReport,
  TensorRecord,
  TorchVersion,
  Verdict,
  VersionResult,
  WeightsOnlyReport as WeightsOnly,
} from '@brine/scanner/report';
import type { TorchVersion } from '@brine/scanner/report';

export const TORCH_VERSIONS: TorchVersion[] = ['1.13', '2.6', '2.14'];
