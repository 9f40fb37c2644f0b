import * as S from '../schemas';
import { auth, notFound, bad, route, type Route } from './common';

/** Model cards. */
/** why a card write is a 400: what cardProblem() (libs/registry/src/card-render.ts) and the render limit refuse */
const CARD_REFUSED =
  'not markdown text, or markdown that cannot be rendered: nested deeper than 32 blockquotes, lists or emphasis levels, a run of more than 32 * or _ or of more than 1 000 of another punctuation mark, or taking more than 2 s to render (the message says where)';

export const CARD_ROUTES = {
  getCheckpointCard: route({
    method: 'get',
    path: '/checkpoints/{name}/card',
    scope: 'read',
    tag: 'Cards',
    summary: "The checkpoint's model card (markdown, and HTML rendered and sanitized)",
    params: S.NameParams,
    responses: { 200: { description: 'the card', body: S.CardView }, ...auth, ...notFound },
  }),
  setCheckpointCard: route({
    method: 'put',
    path: '/checkpoints/{name}/card',
    scope: 'write',
    tag: 'Cards',
    summary: "Write the checkpoint's model card (markdown, at most 64 KiB)",
    params: S.NameParams,
    body: S.CardPut,
    responses: {
      200: { description: 'the card', body: S.CardView },
      ...bad(CARD_REFUSED),
      ...auth,
      ...notFound,
    },
  }),
  getVersionCard: route({
    method: 'get',
    path: '/checkpoints/{name}/{version}/card',
    scope: 'read',
    tag: 'Cards',
    summary: "The version's model card",
    params: S.VersionParams,
    responses: { 200: { description: 'the card', body: S.CardView }, ...auth, ...notFound },
  }),
  setVersionCard: route({
    method: 'put',
    path: '/checkpoints/{name}/{version}/card',
    scope: 'write',
    tag: 'Cards',
    summary: "Write the version's model card (markdown, at most 64 KiB; the file itself stays immutable)",
    params: S.VersionParams,
    body: S.CardPut,
    responses: {
      200: { description: 'the card', body: S.CardView },
      ...bad(CARD_REFUSED),
      ...auth,
      ...notFound,
    },
  }),
} satisfies Record<string, Route>;
