import type { TwinView, VersionView } from '@brine/contracts';
import type { TwinEntity, VersionEntity } from '@brine/persistence';

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
    links: {
      self,
      report: `${self}/report`,
      file: `${self}/file`,
      children: `${baseUrl}/checkpoints?parent=${encodeURIComponent(`${name}:${v.version}`)}`,
    },
    twin: v.twin ? twinView(v.twin, self) : null,
    lineage: {
      parent: v.lineage?.parent ?? null,
      gitCommit: v.lineage?.gitCommit ?? null,
      runUrl: v.lineage?.runUrl ?? null,
      dataset: v.lineage?.dataset ?? null,
    },
  };
}

/** a twin is offered for download only once it is written and its own scan found it safe */
export function twinServable(t: TwinEntity | null | undefined): t is TwinEntity & { objectKey: string } {
  return !!t && t.status === 'done' && t.verdict === 'safe' && t.objectKey !== null;
}

function twinView(t: TwinEntity, self: string): TwinView {
  return {
    status: t.status,
    sha256: t.sha256,
    size: t.size,
    tensors: t.tensors,
    aliases: t.aliases,
    leftOut: t.leftOut,
    verdict: t.verdict as TwinView['verdict'],
    error: t.error,
    file: twinServable(t) ? `${self}/file?format=safetensors` : null,
  };
}
