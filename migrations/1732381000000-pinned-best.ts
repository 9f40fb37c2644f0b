import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A `best` moved by hand is pinned: the best rule leaves it where it was put (re-evaluations after scans and new
 * metrics skip it) until the rule is set again or the tag is deleted.
 */
export class PinnedBest1732381000000 implements MigrationInterface {
  name = 'PinnedBest1732381000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tags ADD COLUMN pinned boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tags DROP COLUMN pinned');
  }
}
