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

// The shapes the API returns (see /docs).

export type Verdict = 'safe' | 'suspicious' | 'dangerous' | 'unknown';
export type TorchVersion = '1.13' | '2.6' | '2.14';
export const TORCH_VERSIONS: TorchVersion[] = ['1.13', '2.6', '2.14'];

export interface CheckpointSummary {
  name: string;
  createdAt: string;
  versions: number;
  lastUpload: string | null;
  latest: string | null;
  best: string | null;
  verdicts: { safe: number; suspicious: number; dangerous: number; unknown: number; pending: number };
}

export interface VersionResult {
  loads: boolean;
  reason: string | null;
  fix?: string;
  uncertain?: boolean;
}

export interface WeightsOnly {
  target: TorchVersion;
  safe: boolean;
  byVersion: Record<TorchVersion, VersionResult>;
  extraAllowed?: string[];
}

export interface VersionRecord {
  name: string;
  version: string;
  sha256: string;
  size: number;
  filename: string | null;
  frameworkVersion: string | null;
  metrics: Record<string, number>;
  tags: string[];
  uploadedBy: string | null;
  createdAt: string;
  scan: {
    status: 'pending' | 'scanning' | 'done' | 'failed';
    verdict: Verdict | null;
    kind: string | null;
    format: string | null;
    summary: string | null;
    weightsOnly: WeightsOnly | null;
    tensors: { count: number; parameters: number } | null;
    error: string | null;
    finishedAt: string | null;
  };
}

export interface Finding {
  severity: 'dangerous' | 'suspicious' | 'unknown' | 'info';
  rule: string;
  entry: string | null;
  offset: number | null;
  opcode: string | null;
  module: string | null;
  name: string | null;
  message: string;
}

export interface ImportRecord {
  module: string;
  name: string;
  class: 'allowed' | 'suspicious' | 'dangerous';
  allowedBy: Record<TorchVersion, boolean>;
  calls: string[];
  count: number;
  first: { entry: string | null; offset: number; opcode: string };
  reason?: string;
}

export interface TensorRecord {
  name: string;
  dtype: string;
  shape: number[];
  numel: number;
  bytes: number;
}

export interface ScanReport {
  size: number;
  sha256: string | null;
  format: string;
  kind: string;
  verdict: Verdict;
  summary: string;
  weightsOnly: WeightsOnly;
  findings: Finding[];
  imports: ImportRecord[];
  tensors: {
    count: number;
    parameters: number;
    bytes: number;
    byDtype: Record<string, { count: number; numel: number; bytes: number }>;
    items: TensorRecord[];
    truncated: boolean;
  };
}

export interface TagMove {
  tag: string;
  from: string | null;
  to: string | null;
  actor: string;
  token: string | null;
  reason: string;
  at: string;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  createdAt: string;
}

export interface Delivery {
  id: string;
  event: string;
  status: 'pending' | 'succeeded' | 'failed' | 'abandoned';
  attemptCount: number;
  nextAttemptAt: string | null;
  createdAt: string;
  attempts: Array<{
    at: string;
    statusCode: number | null;
    latencyMs: number;
    error: string | null;
    response: string | null;
  }>;
}
