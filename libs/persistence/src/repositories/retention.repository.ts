import { TableRepository } from './table-repository';

export interface RetentionRuleRow {
  keep_newest: number | null;
  keep_tagged: boolean;
  delete_unsafe_after_days: number | null;
}

/** The `retention_rules` table: one rule per checkpoint. */
export class RetentionRulesRepository extends TableRepository {
  async set(
    checkpointId: string,
    keepNewest: number | null,
    keepTagged: boolean,
    deleteUnsafeAfterDays: number | null,
  ): Promise<void> {
    await this.m.query(
      `INSERT INTO retention_rules (checkpoint_id, keep_newest, keep_tagged, delete_unsafe_after_days)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (checkpoint_id) DO UPDATE SET keep_newest = EXCLUDED.keep_newest, keep_tagged = EXCLUDED.keep_tagged,
         delete_unsafe_after_days = EXCLUDED.delete_unsafe_after_days, updated_at = now()`,
      [checkpointId, keepNewest, keepTagged, deleteUnsafeAfterDays],
    );
  }

  async clear(checkpointId: string): Promise<void> {
    await this.m.query('DELETE FROM retention_rules WHERE checkpoint_id = $1', [checkpointId]);
  }

  async of(checkpointId: string): Promise<RetentionRuleRow | null> {
    const [r] = await this.rows<RetentionRuleRow>(
      'SELECT keep_newest, keep_tagged, delete_unsafe_after_days FROM retention_rules WHERE checkpoint_id = $1',
      [checkpointId],
    );
    return r ?? null;
  }

  /** the names of the checkpoints that have a rule */
  async checkpointNames(): Promise<string[]> {
    const rows = await this.rows<{ name: string }>(
      'SELECT c.name FROM retention_rules r JOIN checkpoints c ON c.id = r.checkpoint_id',
    );
    return rows.map((r) => r.name);
  }
}

/** The `retention_log` table: the audit of what retention rules deleted. */
export class RetentionLogRepository extends TableRepository {
  async record(checkpoint: string, version: string, sha256: string, reason: string): Promise<void> {
    await this.m.query(
      'INSERT INTO retention_log (checkpoint, version, sha256, reason) VALUES ($1, $2, $3, $4)',
      [checkpoint, version, sha256, reason],
    );
  }

  async history(
    checkpoint: string,
    limit: number,
  ): Promise<Array<{ version: string; sha256: string; reason: string; deleted_at: Date }>> {
    return this.rows<{ version: string; sha256: string; reason: string; deleted_at: Date }>(
      'SELECT version, sha256, reason, deleted_at FROM retention_log WHERE checkpoint = $1 ORDER BY deleted_at DESC, id DESC LIMIT $2',
      [checkpoint, limit],
    );
  }
}
