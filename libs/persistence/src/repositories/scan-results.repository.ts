import { ScanReportEntity } from '../entities/scan-report.entity';
import { TableRepository } from './table-repository';

/** a finding as the scanner reports it (the columns of `findings`) */
export interface FindingInput {
  severity: string;
  rule: string;
  entry: string | null;
  offset: number | null;
  opcode: string | null;
  module: string | null;
  name: string | null;
  message: string;
}

/** an imported global as the scanner reports it (the columns of `imports`) */
export interface ImportInput {
  module: string;
  name: string;
  class: string;
  count: number;
  calls: string[];
  first: { entry: string | null; offset: number };
}

/** rows written per INSERT */
const CHUNK = 500;

/** The `scan_reports` table: the whole report of a version's latest finished scan. */
export class ScanReportsRepository extends TableRepository {
  async store(versionId: string, generation: number, report: unknown): Promise<void> {
    await this.m.query(
      `INSERT INTO scan_reports (version_id, generation, report) VALUES ($1, $2, $3)
       ON CONFLICT (version_id) DO UPDATE SET generation = EXCLUDED.generation, report = EXCLUDED.report, created_at = now()`,
      [versionId, generation, JSON.stringify(report)],
    );
  }

  async reportOf(versionId: string): Promise<Record<string, unknown> | null> {
    const r = await this.m.getRepository(ScanReportEntity).findOne({ where: { versionId } });
    return r?.report ?? null;
  }
}

/** The `findings` table: a version's findings, searchable. */
export class FindingsRepository extends TableRepository {
  /** the version's findings become these */
  async replace(versionId: string, findings: readonly FindingInput[]): Promise<void> {
    await this.m.query('DELETE FROM findings WHERE version_id = $1', [versionId]);
    for (let i = 0; i < findings.length; i += CHUNK) {
      const chunk = findings.slice(i, i + CHUNK);
      await this.m.query(
        `INSERT INTO findings (version_id, severity, rule, entry, byte_offset, opcode, module, name, message)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[])`,
        [
          versionId,
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
  }
}

/** The `imports` table: the globals each version imports (what a policy change re-scans). */
export class ImportsRepository extends TableRepository {
  /** the version's imports become these */
  async replace(versionId: string, imports: readonly ImportInput[]): Promise<void> {
    await this.m.query('DELETE FROM imports WHERE version_id = $1', [versionId]);
    for (let i = 0; i < imports.length; i += CHUNK) {
      const chunk = imports.slice(i, i + CHUNK);
      await this.m.query(
        `INSERT INTO imports (version_id, module, name, class, count, calls, first_entry, first_offset)
         SELECT $1, m, n, c, k, string_to_array(cs, ','), e, o
           FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::bigint[]) AS t(m, n, c, k, cs, e, o)`,
        [
          versionId,
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
  }

  /** the versions that import `module.name` */
  async versionsImporting(global: string): Promise<string[]> {
    const rows = await this.rows<{ version_id: string }>(
      `SELECT DISTINCT i.version_id FROM imports i WHERE i.module || '.' || i.name = $1`,
      [global],
    );
    return rows.map((r) => r.version_id);
  }
}
