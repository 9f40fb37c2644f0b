import * as S from '../schemas';
import { route, type Route } from './common';

/** Health checks and metrics. */
export const HEALTH_ROUTES = {
  health: route({
    method: 'get',
    path: '/health',
    scope: 'public',
    tag: 'Health',
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
    tag: 'Health',
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
    tag: 'Health',
    summary: 'Liveness: the process answers',
    responses: { 200: { description: 'alive', body: S.Alive } },
  }),
  metrics: route({
    method: 'get',
    path: '/metrics',
    scope: 'public',
    tag: 'Health',
    summary: 'Prometheus metrics (uploads, scans, verdicts, queues, webhook deliveries, dependencies)',
    responses: { 200: { description: 'the Prometheus text exposition format', body: 'text' } },
  }),
} satisfies Record<string, Route>;
