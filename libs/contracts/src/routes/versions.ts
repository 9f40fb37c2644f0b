import * as S from '../schemas';
import { e, auth, notFound, bad, unavailable, fileResponses, route, type Route } from './common';

/** Versions: upload, read, change, delete, their report and file, download links and rescans. */
export const VERSION_ROUTES = {
  upload: route({
    method: 'put',
    path: '/checkpoints/{name}/{version}',
    scope: 'write',
    tag: 'Versions',
    summary: 'Upload a version: the raw file is the body, streamed to object storage with its SHA-256',
    params: S.VersionParams,
    headers: S.UploadHeaders,
    body: 'binary',
    responses: {
      201: { description: 'stored; the scan is queued', body: S.VersionView },
      200: {
        description: 'the same bytes were already stored as this version (metrics sent are merged in)',
        body: S.VersionView,
      },
      ...bad(
        'bad name, header or empty body, a checksum mismatch, or a "__proto__" key in x-brine-metadata or x-brine-metrics (nothing stored)',
      ),
      ...auth,
      409: e('this version exists with other bytes: versions are immutable'),
      413: e('the body is larger than BRINE_MAX_UPLOAD_BYTES'),
      415: e('send Content-Type: application/octet-stream'),
      ...unavailable(
        'A hung object store is answered within 8 s (BRINE_S3_BUDGET_MS) of the body, or its first 8 MiB part, having arrived; a body that keeps moving is never cut',
      ),
    },
  }),
  getVersion: route({
    method: 'get',
    path: '/checkpoints/{name}/{version}',
    scope: 'read',
    tag: 'Versions',
    summary: 'A version and its scan summary',
    params: S.VersionParams,
    responses: { 200: { description: 'the version', body: S.VersionView }, ...auth, ...notFound },
  }),
  patchVersion: route({
    method: 'patch',
    path: '/checkpoints/{name}/{version}',
    scope: 'write',
    tag: 'Versions',
    summary: 'Set metrics (null removes one); the best tag is re-evaluated',
    params: S.VersionParams,
    body: S.MetricsPatch,
    responses: {
      200: { description: 'the version', body: S.VersionView },
      ...bad('bad metrics, or a "__proto__" key in the body'),
      ...auth,
      ...notFound,
    },
  }),
  deleteVersion: route({
    method: 'delete',
    path: '/checkpoints/{name}/{version}',
    scope: 'admin',
    tag: 'Versions',
    summary: 'Delete a version and its file (its tags go with it)',
    params: S.VersionParams,
    responses: {
      204: {
        description:
          'deleted; its objects are deleted at once, or by the sweeper when the object store does not answer within 8 s',
      },
      ...auth,
      ...notFound,
      ...unavailable(),
    },
  }),
  report: route({
    method: 'get',
    path: '/checkpoints/{name}/{version}/report',
    scope: 'read',
    tag: 'Versions',
    summary: 'The full scan report',
    params: S.VersionParams,
    responses: { 200: { description: 'the report', body: S.ScanReport }, ...auth, ...notFound },
  }),
  file: route({
    method: 'get',
    path: '/checkpoints/{name}/{version}/file',
    scope: 'read',
    tag: 'Versions',
    summary: 'The file (Range supported); a version that is not safe needs acknowledgeRisk=true',
    params: S.VersionParams,
    query: S.FileQuery,
    responses: fileResponses,
    signedLink: true,
  }),
  downloadLink: route({
    method: 'post',
    path: '/checkpoints/{name}/{version}/download-link',
    scope: 'read',
    tag: 'Versions',
    summary: 'A path to the file that works without the Authorization header for 5 minutes (for browsers)',
    params: S.VersionParams,
    body: S.DownloadLinkRequest,
    bodyOptional: true,
    responses: {
      201: { description: 'the link', body: S.DownloadLink },
      ...bad('acknowledgeRisk is not a boolean'),
      ...auth,
      ...notFound,
    },
  }),
  rescan: route({
    method: 'post',
    path: '/checkpoints/{name}/{version}/rescan',
    scope: 'write',
    tag: 'Versions',
    summary: 'Scan a version again (with the current scanner and safe globals)',
    params: S.VersionParams,
    responses: {
      202: { description: 'queued; the version as it is now', body: S.VersionView },
      ...auth,
      ...notFound,
    },
  }),
} satisfies Record<string, Route>;
