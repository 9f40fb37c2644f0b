import type { VersionView } from '@brine/contracts';
import type { VersionEntity } from '@brine/persistence';

export type { ScanView, VersionView } from '@brine/contracts';

/** The JSON shapes the API returns. */

export function versionView(
  v: VersionEntity,
  name: string,
  baseUrl: string,
  tags: string[] = [],
  uploader: string | null = null,
): VersionView {
  const self = `${baseUrl}/checkpoints/${encodeURIComponent(name)}/${encodeURIComponent(v.version)}`;
  return {
    name,
    version: v.version,
    sha256: v.sha256,
    size: v.size,
    filename: v.filename,
    frameworkVersion: v.frameworkVersion,
    metadata: v.metadata,
    metrics: v.metrics,
    tags,
    uploadedBy: uploader,
    createdAt: v.createdAt.toISOString(),
    scan: {
      status: v.scanStatus,
      verdict: v.verdict as VersionView['scan']['verdict'],
      kind: v.kind,
      format: v.format,
      summary: v.summary,
      weightsOnly: v.weightsOnly as VersionView['scan']['weightsOnly'],
      tensors: v.tensorCount === null ? null : { count: v.tensorCount, parameters: v.parameterCount ?? 0 },
      attempts: v.scanAttempts,
      error: v.scanError,
      startedAt: v.scanStartedAt?.toISOString() ?? null,
      finishedAt: v.scanFinishedAt?.toISOString() ?? null,
    },
    links: { self, report: `${self}/report`, file: `${self}/file` },
  };
}
