import * as S from '../schemas';
import { e, auth, notFound, bad, route, type Route } from './common';

/** Version diffs. */
export const DIFF_ROUTES = {
  diff: route({
    method: 'get',
    path: '/checkpoints/{name}/diff',
    scope: 'read',
    tag: 'Diffs',
    summary:
      "What changed between two versions: tensors added, removed, reshaped and with new values (from the storage records' CRC-32, no tensor data read), parameters, imports, findings and verdicts",
    params: S.NameParams,
    query: S.DiffQuery,
    responses: {
      200: { description: 'the differences', body: S.VersionDiff },
      ...bad('from or to is missing or not a version name'),
      409: e('a version is not scanned yet (its scan is pending, running or failed)'),
      ...auth,
      ...notFound,
    },
  }),
} satisfies Record<string, Route>;
