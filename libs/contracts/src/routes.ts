import type { z } from 'zod';
import type { Route } from './routes/common';
import { HEALTH_ROUTES } from './routes/health';
import { CHECKPOINT_ROUTES } from './routes/checkpoints';
import { VERSION_ROUTES } from './routes/versions';
import { DIFF_ROUTES } from './routes/diffs';
import { RETENTION_ROUTES } from './routes/retention';
import { CARD_ROUTES } from './routes/cards';
import { TAG_ROUTES } from './routes/tags';
import { TOKEN_ROUTES } from './routes/tokens';
import { POLICY_ROUTES } from './routes/policy';
import { WEBHOOK_ROUTES } from './routes/webhooks';

export type { Method, Resource, Response, Route, RouteScope } from './routes/common';
export { RESOURCES } from './routes/common';

/**
 * Brine's HTTP API, one entry per route: its path, method, scope, what it takes and what it answers, declared per
 * resource in routes/ and assembled here. The API's controllers bind their handlers to these entries (validation
 * happens here, not by hand), the OpenAPI document is generated from them, and a test checks that Nest serves
 * exactly these routes.
 */
// the tag list has always come right after the versions: it stays there, so the OpenAPI document keeps its order
const { listTags, ...tagRoutes } = TAG_ROUTES;

export const ROUTES = {
  ...HEALTH_ROUTES,
  ...CHECKPOINT_ROUTES,
  ...VERSION_ROUTES,
  listTags,
  ...DIFF_ROUTES,
  ...RETENTION_ROUTES,
  ...CARD_ROUTES,
  ...tagRoutes,
  ...TOKEN_ROUTES,
  ...POLICY_ROUTES,
  ...WEBHOOK_ROUTES,
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
