/** The dashboard talks to the same API as every other client, with a token the person enters. */

// libs/contracts' request() and the route table's plain data, built for the browser next to the dashboard
// (scripts/copy-assets.js; the declarations come from dist/types, see tsconfig.json)
import { ApiError, request, type Answer, type Endpoint, type RequestInput } from './contracts/src/request.js';
import type { Route, ROUTES } from '@brine/contracts';
export { ApiError } from './contracts/src/request.js';
export { ENDPOINTS } from './contracts/src/endpoints.js';

const TOKEN_KEY = 'brine.token';

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null, remember: boolean): void {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
  if (token) (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
}

/**
 * A request to the API: the route from ENDPOINTS (the route table's plain data), its inputs and answer typed by
 * the table. A failure is an ApiError whose message a person can act on.
 */
export async function api<R extends Route>(route: Endpoint<R>, input: RequestInput<R>): Promise<Answer<R>> {
  try {
    return await request(route, input, { token: getToken() });
  } catch (e) {
    throw e instanceof ApiError ? new ApiError(e.status, e.error, explain(e.status, e.message)) : e;
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

export const enc = encodeURIComponent;

/** one deletion in a checkpoint's retention log (the contract declares the schema, not a type of its own) */
export type RetentionLogEntry = Answer<(typeof ROUTES)['retentionLog']>[number];

// The shapes the API returns: declared once, in @brine/contracts (and the scan report by the scanner)
export type {
  CheckpointSummary,
  DeliveryView as Delivery,
  RetentionPlan,
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
