import type { z } from 'zod';
import { ErrorBody } from '../schemas/common';

/** What a route of the table is, and the answers many routes share. */
export type RouteScope = 'public' | 'read' | 'write' | 'admin';
export type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';

/**
 * The resources the API is grouped by in the OpenAPI document (its tags), in the order it lists them, each with
 * what it is about. Every route names its resource.
 */
export const RESOURCES = {
  Health: 'Health checks and Prometheus metrics',
  Checkpoints: 'Checkpoints: the list, search by lineage, and one checkpoint with its versions',
  Versions: 'Versions: upload, read, change and delete; their scan report, file, download links and rescans',
  Diffs: 'What changed between two versions (or tags) of a checkpoint',
  Retention: 'Retention rules, their dry runs and the log of what they deleted',
  Cards: 'Model cards of checkpoints and versions',
  Tags: 'Tags, their history, the best rule, and reads through a tag',
  Tokens: 'API tokens and their scopes',
  Policy: 'The scan policy: globals declared safe',
  Webhooks: 'Webhook subscriptions and their deliveries',
} as const;

export type Resource = keyof typeof RESOURCES;

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
  /** the resource it belongs to: its OpenAPI tag */
  tag: Resource;
  /** one line on what it does: the operation's summary in the OpenAPI document */
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

export const e = (description: string): Response => ({ description, body: ErrorBody });
export const auth = {
  401: e('missing, unknown or revoked token'),
  403: e('the token lacks the scope this route needs'),
};
export const notFound = { 404: e('no such checkpoint, version, tag or id') };
export const bad = (why: string) => ({ 400: e(why) });
/** the 503 of an outage; `budget` says how long the route waits for the object store before answering it */
export const unavailable = (budget?: string) => ({
  503: e(
    `PostgreSQL, Redis or the object store is unavailable or not answering; nothing was changed — retry after Retry-After (5 s)${budget ? `. ${budget}` : ''}`,
  ),
});

export const fileResponses = {
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
export function route<R extends Route>(r: R): R {
  return r;
}
