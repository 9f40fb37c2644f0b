import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The safetensors twin of a safe state dict or training checkpoint: one row per version, the work list of the twin
 * queue (like versions for scans) and the twin's own SHA-256, size, scan verdict and what was left out. Versions
 * already scanned safe get a pending row, so the worker converts them too.
 */
export class SafetensorsTwins1732380400000 implements MigrationInterface {
  name = 'SafetensorsTwins1732380400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE twins (
        version_id uuid PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE,
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'converting', 'done', 'skipped', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        object_key text,
        sha256 char(64),
        size bigint,
        tensors int,
        aliases jsonb NOT NULL DEFAULT '{}',
        left_out jsonb NOT NULL DEFAULT '[]',
        verdict text,
        error text,
        heartbeat_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
      CREATE INDEX twins_open ON twins (status) WHERE status IN ('pending', 'converting');
      INSERT INTO twins (version_id)
        SELECT id FROM versions
         WHERE scan_status = 'done' AND verdict = 'safe' AND format = 'torch-zip' AND kind IN ('state_dict', 'checkpoint');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE twins');
  }
}
