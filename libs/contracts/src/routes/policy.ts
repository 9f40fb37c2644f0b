import * as S from '../schemas';
import { auth, notFound, bad, route, type Route } from './common';

/** The scan policy: globals declared safe. */
export const POLICY_ROUTES = {
  listSafeGlobals: route({
    method: 'get',
    path: '/policy/safe-globals',
    scope: 'read',
    tag: 'Policy',
    summary: 'The safe globals (as torch.serialization.add_safe_globals adds them)',
    responses: { 200: { description: 'the list', body: S.SafeGlobalView.array() }, ...auth },
  }),
  addSafeGlobal: route({
    method: 'put',
    path: '/policy/safe-globals/{name}',
    scope: 'admin',
    tag: 'Policy',
    summary: 'Allow a global; versions importing it are re-scanned. Code-execution primitives are refused',
    params: S.NameParams.extend({ name: S.GlobalName }),
    body: S.SafeGlobalPut,
    bodyOptional: true,
    responses: {
      201: { description: 'added', body: S.SafeGlobalChange },
      200: { description: 'already there (note updated)', body: S.SafeGlobalChange },
      ...bad('not a dotted name, or a code-execution primitive'),
      ...auth,
    },
  }),
  removeSafeGlobal: route({
    method: 'delete',
    path: '/policy/safe-globals/{name}',
    scope: 'admin',
    tag: 'Policy',
    summary: 'Stop allowing a global; versions importing it are re-scanned',
    params: S.NameParams.extend({ name: S.GlobalName }),
    responses: { 200: { description: 'removed', body: S.Rescanning }, ...auth, ...notFound },
  }),
} satisfies Record<string, Route>;
