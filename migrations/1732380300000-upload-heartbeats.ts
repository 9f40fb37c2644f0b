import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Uploads in progress say they are alive: the process that streams one touches `heartbeat_at` while it runs and
 * records the object store's multipart upload id. An upload whose heartbeat stopped belongs to a process that
 * died: the sweeper aborts its multipart upload (freeing the parts) and deletes whatever it wrote.
 */
export class UploadHeartbeats1732380300000 implements MigrationInterface {
  name = 'UploadHeartbeats1732380300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE uploads ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT now();
      ALTER TABLE uploads ADD COLUMN multipart_id text;
      CREATE INDEX uploads_heartbeat ON uploads (heartbeat_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX uploads_heartbeat;
      ALTER TABLE uploads DROP COLUMN multipart_id;
      ALTER TABLE uploads DROP COLUMN heartbeat_at;
    `);
  }
}
