import { ROUTES, type RouteName } from './routes';
import { endpoint, type Endpoint } from './request';

/** the route table as clients hold it: each route's endpoint, typed with the whole route */
export type Endpoints = { readonly [K in RouteName]: Endpoint<(typeof ROUTES)[K]> };

/**
 * What request() needs of every route, derived from ROUTES: plain data (method, path, the kinds of body and
 * answer). The dashboard gets a copy of this object written at build time (scripts/copy-assets.js), so the
 * browser receives neither the schemas nor zod, and still every type the table declares.
 */
export const ENDPOINTS = Object.fromEntries(
  Object.entries(ROUTES).map(([name, route]) => [name, endpoint(route)]),
) as Endpoints;
