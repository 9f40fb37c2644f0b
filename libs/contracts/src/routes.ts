import type { z } from 'zod';
import * as S from './schemas';

/**
 * Brine's HTTP API, one entry per route: its path, method, scope, what it takes and what it answers. The API's
 * controllers bind their handlers to these entries (validation happens here, not by hand), the OpenAPI document is
 * generated from them, and a test checks that Nest serves exactly these routes.
 */
export type RouteScope = 'public' | 'read' | 'write' | 'admin';
export type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';

export interface Response {
  description: string;
  /** a JSON body, raw bytes ('binary'), Prometheus text ('text') or nothing (undefined) */
  body?: z.ZodType | 'binary' | 'text';
}

export interface Route {
  method: Method;
  /** OpenAPI style: /checkpoints/{name} */
  path: string;
  scope: RouteScope;
  summary: string;
  params?: z.ZodType;
  query?: z.ZodType;
  headers?: z.ZodType;
  /** a JSON body, or the raw bytes of a file ('binary', streamed: never parsed) */
  body?: z.ZodType | 'binary';
  /** the body may be left out */
  bodyOptional?: boolean;
  responses: Record<number, Response>;
  /** a signed download link (?link=) may stand in for the Authorization header */
  signedLink?: boolean;
}

const e = (description: string): Response => ({ description, body: S.ErrorBody });
const auth = {
  401: e('missing, unknown or revoked token'),
  403: e('the token lacks the scope this route needs'),
};
const notFound = { 404: e('no such checkpoint, version, tag or id') };
const bad = (why: string) => ({ 400: e(why) });
/** the 503 of an outage; `budget` says how long the route waits for the object store before answering it */
const unavailable = (budget?: string) => ({
  503: e(
    `PostgreSQL, Redis or the object store is unavailable or not answering; nothing was changed — retry after Retry-After (5 s)${budget ? `. ${budget}` : ''}`,
  ),
});

const fileResponses = {
  200: { description: 'the file', body: 'binary' as const },
  206: { description: 'the requested range', body: 'binary' as const },
  403: e(
    'the version is not safe and acknowledgeRisk=true was not given (or the token lacks the read scope)',
  ),
  416: e('the range lies outside the file'),
  401: e('missing, unknown or revoked token'),
  ...notFound,
  ...unavailable(
    'A hung object store is answered within 8 s (BRINE_S3_BUDGET_MS): the wait for the start of the file is bounded, a transfer that moves is not',
  ),
};
function route<R extends Route>(r: R): R {
  return r;
}

export const ROUTES = {
  health: route({
    method: 'get',
    path: '/health',
    scope: 'public',
    summary: 'The same as /health/ready (kept for existing probes)',
    responses: {
      200: { description: 'all dependencies answer', body: S.Health },
      503: { description: 'a dependency does not answer', body: S.Health },
    },
  }),
  ready: route({
    method: 'get',
    path: '/health/ready',
    scope: 'public',
    summary: 'Readiness: PostgreSQL, Redis and the object store answer',
    responses: {
      200: { description: 'all dependencies answer', body: S.Health },
      503: { description: 'a dependency does not answer', body: S.Health },
    },
  }),
  live: route({
    method: 'get',
    path: '/health/live',
    scope: 'public',
    summary: 'Liveness: the process answers',
    responses: { 200: { description: 'alive', body: S.Alive } },
  }),
  metrics: route({
    method: 'get',
    path: '/metrics',
    scope: 'public',
    summary: 'Prometheus metrics (uploads, scans, verdicts, queues, webhook deliveries, dependencies)',
    responses: { 200: { description: 'the Prometheus text exposition format', body: 'text' } },
  }),

  listCheckpoints: route({
    method: 'get',
    path: '/checkpoints',
    scope: 'read',
    summary: 'List checkpoints with their version counts and verdicts',
    query: S.ListCheckpointsQuery,
    responses: {
      200: { description: 'a page of checkpoints', body: S.CheckpointList },
      ...bad('bad query'),
      ...auth,
    },
  }),
  getCheckpoint: route({
    method: 'get',
    path: '/checkpoints/{name}',
    scope: 'read',
    summary: 'A checkpoint and a page of its versions',
    params: S.NameParams,
    query: S.VersionsQuery,
    responses: {
      200: { description: 'the checkpoint', body: S.VersionListing },
      ...bad('bad name or query'),
      ...auth,
      ...notFound,
    },
  }),
  upload: route({
    method: 'put',
    path: '/checkpoints/{name}/{version}',
    scope: 'write',
    summary: 'Upload a version: the raw file is the body, streamed to object storage with its SHA-256',
    params: S.VersionParams,
    headers: S.UploadHeaders,
    body: 'binary',
    responses: {
      201: { description: 'stored; the scan is queued', body: S.VersionView },
      200: {
        description: 'the same bytes were already stored as this version (metrics sent are merged in)',
        body: S.VersionView,
      },
      ...bad(
        'bad name, header or empty body, a checksum mismatch, or a "__proto__" key in x-brine-metadata or x-brine-metrics (nothing stored)',
      ),
      ...auth,
      409: e('this version exists with other bytes: versions are immutable'),
      413: e('the body is larger than BRINE_MAX_UPLOAD_BYTES'),
      415: e('send Content-Type: application/octet-stream'),
      ...unavailable(
        'A hung object store is answered within 8 s (BRINE_S3_BUDGET_MS) of the body, or its first 8 MiB part, having arrived; a body that keeps moving is never cut',
      ),
    },
  }),
  getVersion: route({
    method: 'get',
    path: '/checkpoints/{name}/{version}',
    scope: 'read',
    summary: 'A version and its scan summary',
    params: S.VersionParams,
    responses: { 200: { description: 'the version', body: S.VersionView }, ...auth, ...notFound },
  }),
  patchVersion: route({
    method: 'patch',
    path: '/checkpoints/{name}/{version}',
    scope: 'write',
    summary: 'Set metrics (null removes one); the best tag is re-evaluated',
    params: S.VersionParams,
    body: S.MetricsPatch,
    responses: {
      200: { description: 'the version', body: S.VersionView },
      ...bad('bad metrics, or a "__proto__" key in the body'),
      ...auth,
      ...notFound,
    },
  }),
  deleteVersion: route({
    method: 'delete',
    path: '/checkpoints/{name}/{version}',
    scope: 'admin',
    summary: 'Delete a version and its file (its tags go with it)',
    params: S.VersionParams,
    responses: {
      204: {
        description:
          'deleted; its objects are deleted at once, or by the sweeper when the object store does not answer within 8 s',
      },
      ...auth,
      ...notFound,
      ...unavailable(),
    },
  }),
  report: route({
    method: 'get',
    path: '/checkpoints/{name}/{version}/report',
    scope: 'read',
    summary: 'The full scan report',
    params: S.VersionParams,
    responses: { 200: { description: 'the report', body: S.ScanReport }, ...auth, ...notFound },
  }),
  file: route({
    method: 'get',
    path: '/checkpoints/{name}/{version}/file',
    scope: 'read',
    summary: 'The file (Range supported); a version that is not safe needs acknowledgeRisk=true',
    params: S.VersionParams,
    query: S.FileQuery,
    responses: fileResponses,
    signedLink: true,
  }),
  downloadLink: route({
    method: 'post',
    path: '/checkpoints/{name}/{version}/download-link',
    scope: 'read',
    summary: 'A path to the file that works without the Authorization header for 5 minutes (for browsers)',
    params: S.VersionParams,
    body: S.DownloadLinkRequest,
    bodyOptional: true,
    responses: {
      201: { description: 'the link', body: S.DownloadLink },
      ...bad('acknowledgeRisk is not a boolean'),
      ...auth,
      ...notFound,
    },
  }),
  rescan: route({
    method: 'post',
    path: '/checkpoints/{name}/{version}/rescan',
    scope: 'write',
    summary: 'Scan a version again (with the current scanner and safe globals)',
    params: S.VersionParams,
    responses: {
      202: { description: 'queued; the version as it is now', body: S.VersionView },
      ...auth,
      ...notFound,
    },
  }),

  listTags: route({
    method: 'get',
    path: '/checkpoints/{name}/tags',
    scope: 'read',
    summary: "A checkpoint's tags",
    params: S.NameParams,
    responses: { 200: { description: 'the tags', body: S.TagView.array() }, ...auth, ...notFound },
  }),
  diff: route({
    method: 'get',
    path: '/checkpoints/{name}/diff',
    scope: 'read',
    summary:
      "What changed between two versions: tensors added, removed, reshaped and with new values (from the storage records' CRC-32, no tensor data read), parameters, imports, findings and verdicts",
    params: S.NameParams,
    query: S.DiffQuery,
    responses: {
      200: { description: 'the differences', body: S.VersionDiff },
      ...bad('from or to is missing or not a version name'),
      409: e('a version is not scanned yet (its scan is pending, running or failed)'),
      ...auth,
      ...notFound,
    },
  }),
  getRetention: route({
    method: 'get',
    path: '/checkpoints/{name}/retention',
    scope: 'read',
    summary: 'The retention rule, and what it would delete now (a dry run: nothing is deleted)',
    params: S.NameParams,
    responses: { 200: { description: 'the rule and its plan', body: S.RetentionPlan }, ...auth, ...notFound },
  }),
  setRetention: route({
    method: 'put',
    path: '/checkpoints/{name}/retention',
    scope: 'admin',
    summary:
      'Set the retention rule; the worker applies it (deleting versions, their files and twins, with an audit entry and a version.deleted event each)',
    params: S.NameParams,
    body: S.RetentionRule,
    responses: {
      200: { description: 'the rule and what it will delete', body: S.RetentionPlan },
      ...bad('bad rule'),
      ...auth,
      ...notFound,
    },
  }),
  clearRetention: route({
    method: 'delete',
    path: '/checkpoints/{name}/retention',
    scope: 'admin',
    summary: 'Remove the retention rule (nothing more is deleted)',
    params: S.NameParams,
    responses: { 204: { description: 'removed' }, ...auth, ...notFound },
  }),
  retentionLog: route({
    method: 'get',
    path: '/checkpoints/{name}/retention/log',
    scope: 'read',
    summary: 'What retention deleted, newest first',
    params: S.NameParams,
    query: S.HistoryQuery,
    responses: { 200: { description: 'the deletions', body: S.RetentionLogEntry.array() }, ...auth },
  }),
  getCheckpointCard: route({
    method: 'get',
    path: '/checkpoints/{name}/card',
    scope: 'read',
    summary: "The checkpoint's model card (markdown, and HTML rendered and sanitized)",
    params: S.NameParams,
    responses: { 200: { description: 'the card', body: S.CardView }, ...auth, ...notFound },
  }),
  setCheckpointCard: route({
    method: 'put',
    path: '/checkpoints/{name}/card',
    scope: 'write',
    summary: "Write the checkpoint's model card (markdown, at most 64 KiB)",
    params: S.NameParams,
    body: S.CardPut,
    responses: {
      200: { description: 'the card', body: S.CardView },
      ...bad(
        'not markdown text, or markdown that cannot be rendered: nested deeper than 32 blockquotes, lists or emphasis levels, or a run of more than 32 * or _ (the message says where)',
      ),
      ...auth,
      ...notFound,
    },
  }),
  getVersionCard: route({
    method: 'get',
    path: '/checkpoints/{name}/{version}/card',
    scope: 'read',
    summary: "The version's model card",
    params: S.VersionParams,
    responses: { 200: { description: 'the card', body: S.CardView }, ...auth, ...notFound },
  }),
  setVersionCard: route({
    method: 'put',
    path: '/checkpoints/{name}/{version}/card',
    scope: 'write',
    summary: "Write the version's model card (markdown, at most 64 KiB; the file itself stays immutable)",
    params: S.VersionParams,
    body: S.CardPut,
    responses: {
      200: { description: 'the card', body: S.CardView },
      ...bad(
        'not markdown text, or markdown that cannot be rendered: nested deeper than 32 blockquotes, lists or emphasis levels, or a run of more than 32 * or _ (the message says where)',
      ),
      ...auth,
      ...notFound,
    },
  }),
  tagHistory: route({
    method: 'get',
    path: '/checkpoints/{name}/tag-history',
    scope: 'read',
    summary: 'Every tag move, newest first: who, from, to, why',
    params: S.NameParams,
    query: S.HistoryQuery,
    responses: { 200: { description: 'the moves', body: S.TagMove.array() }, ...auth, ...notFound },
  }),
  getBestRule: route({
    method: 'get',
    path: '/checkpoints/{name}/best-rule',
    scope: 'read',
    summary: 'The rule that moves the best tag',
    params: S.NameParams,
    responses: {
      200: { description: 'the rule (null when none is set)', body: S.BestRuleHolder },
      ...auth,
      ...notFound,
    },
  }),
  setBestRule: route({
    method: 'put',
    path: '/checkpoints/{name}/best-rule',
    scope: 'write',
    summary: 'Set the best rule (allowed before the first version); best is re-evaluated at once',
    params: S.NameParams,
    body: S.BestRule,
    responses: {
      200: { description: 'the rule and the best version now', body: S.BestRuleResult },
      ...bad('bad rule'),
      ...auth,
    },
  }),
  clearBestRule: route({
    method: 'delete',
    path: '/checkpoints/{name}/best-rule',
    scope: 'write',
    summary: 'Remove the best rule (the tag stays where it is)',
    params: S.NameParams,
    responses: { 204: { description: 'removed' }, ...auth, ...notFound },
  }),
  getTag: route({
    method: 'get',
    path: '/checkpoints/{name}/tags/{tag}',
    scope: 'read',
    summary: 'The version a tag points at',
    params: S.TagParams,
    responses: { 200: { description: 'the version', body: S.VersionView }, ...auth, ...notFound },
  }),
  setTag: route({
    method: 'put',
    path: '/checkpoints/{name}/tags/{tag}',
    scope: 'write',
    summary:
      'Point a tag at a version (a version that is not safe needs acknowledgeRisk; moving best by hand needs admin; latest and latest-safe move by themselves)',
    params: S.TagParams,
    body: S.TagPut,
    responses: {
      200: { description: 'moved', body: S.TagView },
      ...bad('bad tag or body, or a tag the registry moves itself'),
      ...auth,
      ...notFound,
    },
  }),
  deleteTag: route({
    method: 'delete',
    path: '/checkpoints/{name}/tags/{tag}',
    scope: 'write',
    summary: 'Remove a tag',
    params: S.TagParams,
    responses: {
      204: { description: 'removed' },
      ...bad('a tag the registry moves itself'),
      ...auth,
      ...notFound,
    },
  }),
  tagReport: route({
    method: 'get',
    path: '/checkpoints/{name}/tags/{tag}/report',
    scope: 'read',
    summary: "The scan report of the tag's version",
    params: S.TagParams,
    responses: { 200: { description: 'the report', body: S.ScanReport }, ...auth, ...notFound },
  }),
  tagFile: route({
    method: 'get',
    path: '/checkpoints/{name}/tags/{tag}/file',
    scope: 'read',
    summary: "The tag's file (Range supported; x-brine-version names the version)",
    params: S.TagParams,
    query: S.FileQuery,
    responses: fileResponses,
  }),

  me: route({
    method: 'get',
    path: '/tokens/me',
    scope: 'read',
    summary: "The calling token's name and scopes",
    responses: { 200: { description: 'the token', body: S.TokenView }, ...auth },
  }),
  createToken: route({
    method: 'post',
    path: '/tokens',
    scope: 'admin',
    summary: 'Create a token; the secret is shown once',
    body: S.TokenCreate,
    responses: { 201: { description: 'created', body: S.NewToken }, ...bad('bad name or scopes'), ...auth },
  }),
  listTokens: route({
    method: 'get',
    path: '/tokens',
    scope: 'admin',
    summary: 'List tokens (never their secrets)',
    responses: { 200: { description: 'the tokens', body: S.TokenView.array() }, ...auth },
  }),
  revokeToken: route({
    method: 'delete',
    path: '/tokens/{id}',
    scope: 'admin',
    summary: 'Revoke a token (its download links die with it)',
    params: S.IdParams('token'),
    responses: {
      200: { description: 'revoked', body: S.TokenView },
      ...bad('not a UUID'),
      ...auth,
      ...notFound,
    },
  }),

  listSafeGlobals: route({
    method: 'get',
    path: '/policy/safe-globals',
    scope: 'read',
    summary: 'The safe globals (as torch.serialization.add_safe_globals adds them)',
    responses: { 200: { description: 'the list', body: S.SafeGlobalView.array() }, ...auth },
  }),
  addSafeGlobal: route({
    method: 'put',
    path: '/policy/safe-globals/{name}',
    scope: 'admin',
    summary: 'Allow a global; versions importing it are re-scanned. Code-execution primitives are refused',
    params: S.NameParams.extend({ name: S.GlobalName }),
    body: S.SafeGlobalPut,
    bodyOptional: true,
    responses: {
      201: { description: 'added', body: S.SafeGlobalChange },
      200: { description: 'already there (note updated)', body: S.SafeGlobalChange },
      ...bad('not a dotted name, or a code-execution primitive'),
      ...auth,
    },
  }),
  removeSafeGlobal: route({
    method: 'delete',
    path: '/policy/safe-globals/{name}',
    scope: 'admin',
    summary: 'Stop allowing a global; versions importing it are re-scanned',
    params: S.NameParams.extend({ name: S.GlobalName }),
    responses: { 200: { description: 'removed', body: S.Rescanning }, ...auth, ...notFound },
  }),

  createWebhook: route({
    method: 'post',
    path: '/webhooks',
    scope: 'admin',
    summary: 'Subscribe a URL to events; the response shows the signing secret once',
    body: S.WebhookCreate,
    responses: {
      201: { description: 'created', body: S.NewWebhook },
      ...bad('bad URL, events or filter; or a private address while the SSRF guard is on'),
      ...auth,
    },
  }),
  listWebhooks: route({
    method: 'get',
    path: '/webhooks',
    scope: 'admin',
    summary: 'List subscriptions',
    responses: { 200: { description: 'the subscriptions', body: S.WebhookView.array() }, ...auth },
  }),
  getWebhook: route({
    method: 'get',
    path: '/webhooks/{id}',
    scope: 'admin',
    summary: 'A subscription',
    params: S.IdParams('webhook'),
    responses: { 200: { description: 'the subscription', body: S.WebhookView }, ...auth, ...notFound },
  }),
  updateWebhook: route({
    method: 'patch',
    path: '/webhooks/{id}',
    scope: 'admin',
    summary: 'Update a subscription; re-enabling clears the failure count',
    params: S.IdParams('webhook'),
    body: S.WebhookPatch,
    responses: {
      200: { description: 'updated', body: S.WebhookView },
      ...bad('bad field'),
      ...auth,
      ...notFound,
    },
  }),
  deleteWebhook: route({
    method: 'delete',
    path: '/webhooks/{id}',
    scope: 'admin',
    summary: 'Delete a subscription',
    params: S.IdParams('webhook'),
    responses: { 204: { description: 'deleted' }, ...auth, ...notFound },
  }),
  rotateSecret: route({
    method: 'post',
    path: '/webhooks/{id}/rotate-secret',
    scope: 'admin',
    summary: 'Rotate the signing secret; the old one keeps signing during the grace period',
    params: S.IdParams('webhook'),
    body: S.RotateSecret,
    bodyOptional: true,
    responses: {
      200: { description: 'the new secret, once', body: S.NewWebhook },
      ...bad('bad graceSeconds'),
      ...auth,
      ...notFound,
    },
  }),
  testWebhook: route({
    method: 'post',
    path: '/webhooks/{id}/test',
    scope: 'admin',
    summary: 'Send a test event now',
    params: S.IdParams('webhook'),
    responses: { 202: { description: 'queued', body: S.DeliveryView }, ...auth, ...notFound },
  }),
  deliveries: route({
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    scope: 'admin',
    summary: 'Deliveries and their attempts, newest first',
    params: S.IdParams('webhook'),
    query: S.LimitQuery,
    responses: {
      200: { description: 'the delivery log', body: S.DeliveryView.array() },
      ...auth,
      ...notFound,
    },
  }),
  redeliver: route({
    method: 'post',
    path: '/webhooks/{id}/deliveries/{deliveryId}/redeliver',
    scope: 'admin',
    summary: 'Send a delivery again with the same webhook-id',
    params: S.DeliveryParams,
    responses: { 202: { description: 'queued', body: S.DeliveryView }, ...auth, ...notFound },
  }),
} satisfies Record<string, Route>;

export type RouteName = keyof typeof ROUTES;

/** what a handler receives for a route: its validated, parsed inputs */
export type Params<R extends Route> = R['params'] extends z.ZodType
  ? z.output<R['params']>
  : Record<string, never>;
export type Query<R extends Route> = R['query'] extends z.ZodType
  ? z.output<R['query']>
  : Record<string, never>;
export type Body<R extends Route> = R['body'] extends z.ZodType ? z.output<R['body']> : never;
export type Headers<R extends Route> = R['headers'] extends z.ZodType
  ? z.output<R['headers']>
  : Record<string, never>;
