import * as S from '../schemas';
import { auth, notFound, bad, route, type Route } from './common';

/** Checkpoints: the list and one checkpoint with its versions. */
export const CHECKPOINT_ROUTES = {
  listCheckpoints: route({
    method: 'get',
    path: '/checkpoints',
    scope: 'read',
    tag: 'Checkpoints',
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
    tag: 'Checkpoints',
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
} satisfies Record<string, Route>;
