import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Config } from '@brine/config';
import {
  CheckpointsRepository,
  FindingsRepository,
  ImportsRepository,
  ScanReportsRepository,
  TwinsRepository,
  VersionsRepository,
  type VersionEntity,
} from '@brine/persistence';
import type { ScanJobData } from '@brine/queue';
import { scan, type ScanProgress, type ScanReport } from '@brine/scanner';
import { ObjectStore } from '@brine/storage';
import { EventsService, PolicyService, TagsService, TelemetryService } from '@brine/registry';
import { CONFIG } from '@brine/runtime';
import { TwinQueueService } from './twin-queue.service';

export type ScanOutcome = 'scanned' | 'stale' | 'gone';

/** a safe state dict or training checkpoint in a torch zip gets a safetensors twin */
export function wantsTwin(report: ScanReport): boolean {
  return (
    report.verdict === 'safe' &&
    report.format === 'torch-zip' &&
    (report.kind === 'state_dict' || report.kind === 'checkpoint')
  );
}

/** what a scan.unsafe / scan.completed event carries: thin (well under 20 KB) and enough to act on */
export function scanEventPayload(
  name: string,
  version: string,
  report: ScanReport,
  reportUrl: string,
): Record<string, unknown> {
  const pick = (cls: 'dangerous' | 'suspicious') =>
    report.imports
      .filter((i) => i.class === cls)
      .slice(0, 25)
      .map((i) => ({
        module: i.module,
        name: i.name,
        entry: i.first.entry,
        offset: i.first.offset,
        opcode: i.first.opcode,
        ...(i.reason ? { reason: i.reason.slice(0, 200) } : {}),
      }));
  return {
    checkpoint: name,
    version,
    sha256: report.sha256,
    verdict: report.verdict,
    kind: report.kind,
    format: report.format,
    summary: report.summary.slice(0, 500),
    weightsOnly: {
      target: report.weightsOnly.target,
      byVersion: Object.fromEntries(
        Object.entries(report.weightsOnly.byVersion).map(([v, r]) => [
          v,
          { loads: r.loads, reason: r.reason ? r.reason.slice(0, 300) : null },
        ]),
      ),
    },
    dangerousImports: pick('dangerous'),
    suspiciousImports: pick('suspicious'),
    findings: report.findings
      .filter((f) => f.severity === 'dangerous')
      .slice(0, 10)
      .map((f) => ({ rule: f.rule, entry: f.entry, offset: f.offset, message: f.message.slice(0, 300) })),
    report: reportUrl,
  };
}

/** Runs one scan job: reads the object through S3 range GETs, stores the report and its consequences. */
@Injectable()
export class ScanProcessor {
  private readonly log = new Logger('Scan');

  constructor(
    private readonly db: DataSource,
    private readonly store: ObjectStore,
    private readonly policy: PolicyService,
    private readonly events: EventsService,
    private readonly tags: TagsService,
    @Inject(CONFIG) private readonly config: Config,
    private readonly telemetry: TelemetryService,
    private readonly twins: TwinQueueService,
    private readonly checkpoints: CheckpointsRepository,
    private readonly versions: VersionsRepository,
    private readonly reports: ScanReportsRepository,
    private readonly findings: FindingsRepository,
    private readonly imports: ImportsRepository,
    private readonly twinRows: TwinsRepository,
  ) {}

  async process(job: ScanJobData, onProgress?: (p: ScanProgress) => void): Promise<ScanOutcome> {
    const v = await this.versions.findWithCheckpoint(job.versionId);
    if (!v || !v.checkpoint) return 'gone';
    if (v.scanGeneration !== job.generation || v.scanStatus === 'done' || v.scanStatus === 'failed')
      return 'stale';
    await this.versions.claimForScan(v.id, job.generation);
    const name = v.checkpoint.name;
    const source = this.store.rangeSource(v.objectKey, v.size);
    const started = Date.now();
    const report = await scan(source, {
      path: `${name}:${v.version}`,
      filename: v.filename ?? undefined,
      sha256: v.sha256,
      target: this.config.scanTarget,
      allow: await this.policy.names(),
      failOnReadError: true,
      onProgress,
    });
    const stored = await this.db.transaction((tx) => this.storeReport(tx, v, name, job.generation, report));
    if (stored) await this.events.nudge();
    if (stored && wantsTwin(report)) await this.twins.enqueue(v.id, 0);
    if (stored) {
      this.telemetry.scanDuration.observe({ format: report.format }, (Date.now() - started) / 1000);
      this.telemetry.verdicts.inc({ verdict: report.verdict });
      this.log.log(
        `${name}:${v.version} → ${report.verdict} (${report.format}/${report.kind}) in ${Date.now() - started} ms, ${source.bytesRead} bytes read`,
      );
    }
    return stored ? 'scanned' : 'stale';
  }

  private async storeReport(
    tx: EntityManager,
    v: VersionEntity,
    name: string,
    generation: number,
    report: ScanReport,
  ): Promise<boolean> {
    // the checkpoint's lock first, then the version's: the order deletions, rescans and tag moves take them in, so
    // a scan finishing while its version is deleted waits instead of deadlocking
    await this.checkpoints.in(tx).lockOfVersion(v.id);
    const versions = this.versions.in(tx);
    const current = await versions.lockGeneration(v.id);
    if (current !== generation) return false;
    await this.reports.in(tx).store(v.id, generation, report);
    await this.findings.in(tx).replace(v.id, report.findings);
    await this.imports.in(tx).replace(v.id, report.imports);
    await versions.recordVerdict(v.id, {
      verdict: report.verdict,
      kind: report.kind,
      format: report.format,
      weightsOnly: report.weightsOnly,
      summary: report.summary,
      tensorCount: report.tensors.count,
      parameterCount: report.tensors.parameters,
    });
    const reportUrl = `${this.config.publicUrl}/checkpoints/${encodeURIComponent(name)}/${encodeURIComponent(v.version)}/report`;
    const payload = scanEventPayload(name, v.version, report, reportUrl);
    await this.events.record(tx, 'scan.completed', name, payload);
    if (report.verdict !== 'safe') await this.events.record(tx, 'scan.unsafe', name, payload);
    await this.tags.reevaluate(tx, v.id, `scan of ${v.version} finished (${report.verdict})`);
    if (wantsTwin(report)) await this.twinRows.in(tx).createPending(v.id);
    return true;
  }

  /**
   * A dependency failed while scanning: the scan waits for it. The version goes back to pending with the reason,
   * and the attempt does not count (only the file's own content, or a worker that keeps dying on it, can make
   * a version unknown).
   */
  async markWaiting(job: ScanJobData, message: string): Promise<void> {
    await this.versions.markWaiting(job.versionId, job.generation, message);
  }

  /** how many times a scan of this generation was started and did not finish */
  async attempts(job: ScanJobData): Promise<number> {
    return this.versions.scanAttempts(job.versionId, job.generation);
  }

  /** the last attempt failed: the version gets verdict unknown and the reason, and an unsafe event goes out */
  async markFailed(job: ScanJobData, message: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const r = await this.versions.in(tx).markFailed(job.versionId, job.generation, message);
      if (!r) return;
      const payload = {
        checkpoint: r.name,
        version: r.version,
        sha256: r.sha256,
        verdict: 'unknown',
        summary: `the scan failed: ${message.slice(0, 300)}`,
        report: `${this.config.publicUrl}/checkpoints/${encodeURIComponent(r.name)}/${encodeURIComponent(r.version)}`,
      };
      await this.events.record(tx, 'scan.completed', r.name, payload);
      await this.events.record(tx, 'scan.unsafe', r.name, payload);
      this.telemetry.verdicts.inc({ verdict: 'unknown' });
    });
    await this.events.nudge();
  }
}
