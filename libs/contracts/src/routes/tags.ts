import * as S from '../schemas';
import { auth, notFound, bad, fileResponses, route, type Route } from './common';

/** Tags, their history, the best rule, and what a tag points at. */
export const TAG_ROUTES = {
  listTags: route({
    method: 'get',
    path: '/checkpoints/{name}/tags',
    scope: 'read',
    summary: "A checkpoint's tags",
    params: S.NameParams,
    responses: { 200: { description: 'the tags', body: S.TagView.array() }, ...auth, ...notFound },
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
} satisfies Record<string, Route>;
