import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Retention rules per checkpoint, and the audit log of what they deleted. */
export class Retention1732380600000 implements MigrationInterface {
  name = 'Retention1732380600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE retention_rules (
        checkpoint_id uuid PRIMARY KEY REFERENCES checkpoints(id) ON DELETE CASCADE,
        keep_newest int,
        keep_tagged boolean NOT NULL DEFAULT true,
        delete_unsafe_after_days int,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE retention_log (
        id bigserial PRIMARY KEY,
        checkpoint text NOT NULL,
        version text NOT NULL,
        sha256 char(64) NOT NULL,
        reason text NOT NULL,
        deleted_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX retention_log_checkpoint ON retention_log (checkpoint, deleted_at DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE retention_log; DROP TABLE retention_rules;');
  }
}
