import { ENDPOINTS } from '@brine/contracts';
import { ApiError, call, type Remote } from './client';

/** a version's name from VERSION or TAG: the version when there is one by that name, else the tag's version */
export async function resolveVersion(r: Remote, name: string, ref: string): Promise<string> {
  try {
    return (await call(r, ENDPOINTS.getVersion, { params: { name, version: ref } })).version;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    try {
      return (await call(r, ENDPOINTS.getTag, { params: { name, tag: ref } })).version;
    } catch (t) {
      // no tag either: the version's own 404 says what is missing
      throw t instanceof ApiError && (t.status === 404 || t.status === 400) ? e : t;
    }
  }
}
