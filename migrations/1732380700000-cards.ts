import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Model cards: markdown per checkpoint and per version. */
export class Cards1732380700000 implements MigrationInterface {
  name = 'Cards1732380700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE checkpoints ADD COLUMN card text, ADD COLUMN card_updated_at timestamptz;
      ALTER TABLE versions ADD COLUMN card text, ADD COLUMN card_updated_at timestamptz;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE versions DROP COLUMN card, DROP COLUMN card_updated_at;
      ALTER TABLE checkpoints DROP COLUMN card, DROP COLUMN card_updated_at;
    `);
  }
}
