import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Objects of deleted versions (the file and its twin) are listed in the transaction that deletes the version and
 * struck off once the store has deleted them: when it cannot at the time (it is down, the process dies), the
 * sweeper deletes them later instead of leaving them in the bucket for ever.
 */
export class ObjectDeletions1732380900000 implements MigrationInterface {
  name = 'ObjectDeletions1732380900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE object_deletions (
        object_key text PRIMARY KEY,
        listed_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE object_deletions');
  }
}
