import * as S from '../schemas';
import { auth, notFound, bad, route, type Route } from './common';

/** API tokens. */
export const TOKEN_ROUTES = {
  me: route({
    method: 'get',
    path: '/tokens/me',
    scope: 'read',
    tag: 'Tokens',
    summary: "The calling token's name and scopes",
    responses: { 200: { description: 'the token', body: S.TokenView }, ...auth },
  }),
  createToken: route({
    method: 'post',
    path: '/tokens',
    scope: 'admin',
    tag: 'Tokens',
    summary: 'Create a token; the secret is shown once',
    body: S.TokenCreate,
    responses: { 201: { description: 'created', body: S.NewToken }, ...bad('bad name or scopes'), ...auth },
  }),
  listTokens: route({
    method: 'get',
    path: '/tokens',
    scope: 'admin',
    tag: 'Tokens',
    summary: 'List tokens (never their secrets)',
    responses: { 200: { description: 'the tokens', body: S.TokenView.array() }, ...auth },
  }),
  revokeToken: route({
    method: 'delete',
    path: '/tokens/{id}',
    scope: 'admin',
    tag: 'Tokens',
    summary: 'Revoke a token (its download links die with it)',
    params: S.IdParams('token'),
    responses: {
      200: { description: 'revoked', body: S.TokenView },
      ...bad('not a UUID'),
      ...auth,
      ...notFound,
    },
  }),
} satisfies Record<string, Route>;
