import type { VersionEntity } from '@brine/persistence';

/** The JSON shapes the API returns. */

export interface ScanView {
  status: VersionEntity['scanStatus'];
  verdict: string | null;
  kind: string | null;
  format: string | null;
  summary: string | null;
  weightsOnly: Record<string, unknown> | null;
  tensors: { count: number; parameters: number } | null;
  attempts: number;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface VersionView {
  name: string;
  version: string;
  sha256: string;
  size: number;
  filename: string | null;
  frameworkVersion: string | null;
  metadata: Record<string, unknown>;
  metrics: Record<string, number>;
  tags: string[];
  /** the name of the token that uploaded it */
  uploadedBy: string | null;
  createdAt: string;
  scan: ScanView;
  links: { self: string; report: string; file: string };
}

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
      verdict: v.verdict,
      kind: v.kind,
      format: v.format,
      summary: v.summary,
      weightsOnly: v.weightsOnly,
      tensors: v.tensorCount === null ? null : { count: v.tensorCount, parameters: v.parameterCount ?? 0 },
      attempts: v.scanAttempts,
      error: v.scanError,
      startedAt: v.scanStartedAt?.toISOString() ?? null,
      finishedAt: v.scanFinishedAt?.toISOString() ?? null,
    },
    links: { self, report: `${self}/report`, file: `${self}/file` },
  };
}
