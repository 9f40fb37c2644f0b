import * as S from '../schemas';
import { auth, notFound, bad, route, type Route } from './common';

/** Retention rules, their dry run and log. */
export const RETENTION_ROUTES = {
  getRetention: route({
    method: 'get',
    path: '/checkpoints/{name}/retention',
    scope: 'read',
    tag: 'Retention',
    summary: 'The retention rule, and what it would delete now (a dry run: nothing is deleted)',
    params: S.NameParams,
    responses: { 200: { description: 'the rule and its plan', body: S.RetentionPlan }, ...auth, ...notFound },
  }),
  setRetention: route({
    method: 'put',
    path: '/checkpoints/{name}/retention',
    scope: 'admin',
    tag: 'Retention',
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
  previewRetention: route({
    method: 'post',
    path: '/checkpoints/{name}/retention/preview',
    scope: 'read',
    tag: 'Retention',
    summary:
      'What a rule that is not saved would delete now: the dry run of the body, by the same planner as the real pass (nothing is saved or deleted)',
    params: S.NameParams,
    body: S.RetentionRule,
    responses: {
      200: { description: 'the rule given and what it would delete', body: S.RetentionPlan },
      ...bad('bad rule'),
      ...auth,
      ...notFound,
    },
  }),
  clearRetention: route({
    method: 'delete',
    path: '/checkpoints/{name}/retention',
    scope: 'admin',
    tag: 'Retention',
    summary: 'Remove the retention rule (nothing more is deleted)',
    params: S.NameParams,
    responses: { 204: { description: 'removed' }, ...auth, ...notFound },
  }),
  retentionLog: route({
    method: 'get',
    path: '/checkpoints/{name}/retention/log',
    scope: 'read',
    tag: 'Retention',
    summary: 'What retention deleted, newest first',
    params: S.NameParams,
    query: S.HistoryQuery,
    responses: { 200: { description: 'the deletions', body: S.RetentionLogEntry.array() }, ...auth },
  }),
} satisfies Record<string, Route>;
