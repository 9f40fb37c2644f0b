import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Config } from '@brine/config';
import { VersionEntity } from '@brine/persistence';
import type { ScanJobData } from '@brine/queue';
import { scan, type ScanProgress, type ScanReport } from '@brine/scanner';
import { ObjectStore } from '@brine/storage';
import { EventsService } from './events.service';
import { PolicyService } from './policy.service';
import { TagsService } from './tags.service';
import { TelemetryService } from './telemetry.service';
import { CONFIG } from './tokens';
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
  ) {}

  async process(job: ScanJobData, onProgress?: (p: ScanProgress) => void): Promise<ScanOutcome> {
    const v = await this.db
      .getRepository(VersionEntity)
      .findOne({ where: { id: job.versionId }, relations: { checkpoint: true } });
    if (!v || !v.checkpoint) return 'gone';
    if (v.scanGeneration !== job.generation || v.scanStatus === 'done' || v.scanStatus === 'failed')
      return 'stale';
    await this.db.query(
      `UPDATE versions SET scan_status = 'scanning', scan_started_at = now(), scan_attempts = scan_attempts + 1
        WHERE id = $1 AND scan_generation = $2`,
      [v.id, job.generation],
    );
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
    await tx.query(
      'SELECT c.id FROM checkpoints c JOIN versions v ON v.checkpoint_id = c.id WHERE v.id = $1 FOR UPDATE OF c',
      [v.id],
    );
    const [current] = (await tx.query('SELECT scan_generation FROM versions WHERE id = $1 FOR UPDATE', [
      v.id,
    ])) as Array<{ scan_generation: number }>;
    if (!current || current.scan_generation !== generation) return false;
    await tx.query(
      `INSERT INTO scan_reports (version_id, generation, report) VALUES ($1, $2, $3)
       ON CONFLICT (version_id) DO UPDATE SET generation = EXCLUDED.generation, report = EXCLUDED.report, created_at = now()`,
      [v.id, generation, JSON.stringify(report)],
    );
    await tx.query('DELETE FROM findings WHERE version_id = $1', [v.id]);
    await tx.query('DELETE FROM imports WHERE version_id = $1', [v.id]);
    for (let i = 0; i < report.findings.length; i += 500) {
      const chunk = report.findings.slice(i, i + 500);
      await tx.query(
        `INSERT INTO findings (version_id, severity, rule, entry, byte_offset, opcode, module, name, message)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[])`,
        [
          v.id,
          chunk.map((f) => f.severity),
          chunk.map((f) => f.rule),
          chunk.map((f) => f.entry),
          chunk.map((f) => f.offset),
          chunk.map((f) => f.opcode),
          chunk.map((f) => f.module),
          chunk.map((f) => f.name),
          chunk.map((f) => f.message),
        ],
      );
    }
    for (let i = 0; i < report.imports.length; i += 500) {
      const chunk = report.imports.slice(i, i + 500);
      await tx.query(
        `INSERT INTO imports (version_id, module, name, class, count, calls, first_entry, first_offset)
         SELECT $1, m, n, c, k, string_to_array(cs, ','), e, o
           FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::bigint[]) AS t(m, n, c, k, cs, e, o)`,
        [
          v.id,
          chunk.map((x) => x.module),
          chunk.map((x) => x.name),
          chunk.map((x) => x.class),
          chunk.map((x) => x.count),
          chunk.map((x) => x.calls.join(',')),
          chunk.map((x) => x.first.entry),
          chunk.map((x) => x.first.offset),
        ],
      );
    }
    await tx.query(
      `UPDATE versions SET scan_status = 'done', scan_finished_at = now(), scan_error = NULL, verdict = $2, kind = $3, format = $4,
              weights_only = $5, summary = $6, tensor_count = $7, parameter_count = $8
        WHERE id = $1`,
      [
        v.id,
        report.verdict,
        report.kind,
        report.format,
        JSON.stringify(report.weightsOnly),
        report.summary,
        report.tensors.count,
        report.tensors.parameters,
      ],
    );
    const reportUrl = `${this.config.publicUrl}/checkpoints/${encodeURIComponent(name)}/${encodeURIComponent(v.version)}/report`;
    const payload = scanEventPayload(name, v.version, report, reportUrl);
    await this.events.record(tx, 'scan.completed', name, payload);
    if (report.verdict !== 'safe') await this.events.record(tx, 'scan.unsafe', name, payload);
    await this.tags.reevaluate(tx, v.id, `scan of ${v.version} finished (${report.verdict})`);
    if (wantsTwin(report))
      await tx.query('INSERT INTO twins (version_id) VALUES ($1) ON CONFLICT (version_id) DO NOTHING', [
        v.id,
      ]);
    return true;
  }

  /**
   * A dependency failed while scanning: the scan waits for it. The version goes back to pending with the reason,
   * and the attempt does not count (only the file's own content, or a worker that keeps dying on it, can make
   * a version unknown).
   */
  async markWaiting(job: ScanJobData, message: string): Promise<void> {
    await this.db.query(
      `UPDATE versions SET scan_status = 'pending', scan_error = $3, scan_attempts = greatest(scan_attempts - 1, 0)
        WHERE id = $1 AND scan_generation = $2 AND scan_status IN ('pending', 'scanning')`,
      [job.versionId, job.generation, message.slice(0, 1000)],
    );
  }

  /** how many times a scan of this generation was started and did not finish */
  async attempts(job: ScanJobData): Promise<number> {
    const [r] = (await this.db.query(
      'SELECT scan_attempts FROM versions WHERE id = $1 AND scan_generation = $2',
      [job.versionId, job.generation],
    )) as Array<{ scan_attempts: number }>;
    return r?.scan_attempts ?? 0;
  }

  /** the last attempt failed: the version gets verdict unknown and the reason, and an unsafe event goes out */
  async markFailed(job: ScanJobData, message: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows = (await tx.query(
        `UPDATE versions v SET scan_status = 'failed', scan_finished_at = now(), scan_error = $3, verdict = 'unknown'
           FROM checkpoints c WHERE v.id = $1 AND v.scan_generation = $2 AND c.id = v.checkpoint_id AND v.scan_status <> 'done'
         RETURNING c.name, v.version, v.sha256`,
        [job.versionId, job.generation, message.slice(0, 1000)],
      )) as [Array<{ name: string; version: string; sha256: string }>, number];
      const r = rows[0][0];
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
