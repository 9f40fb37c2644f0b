import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Where a version came from: parent version, git commit, run URL, dataset (set at upload, searchable). */
export class Lineage1732380500000 implements MigrationInterface {
  name = 'Lineage1732380500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE versions ADD COLUMN lineage jsonb NOT NULL DEFAULT '{}';
      CREATE INDEX versions_lineage ON versions USING gin (lineage jsonb_path_ops);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX versions_lineage; ALTER TABLE versions DROP COLUMN lineage;');
  }
}
