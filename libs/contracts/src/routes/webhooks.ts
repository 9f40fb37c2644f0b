import * as S from '../schemas';
import { auth, notFound, bad, route, type Route } from './common';

/** Webhooks and their deliveries. */
export const WEBHOOK_ROUTES = {
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
    summary:
      'Delete a subscription; its deliveries and their attempts go with it (pending ones are never sent)',
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
