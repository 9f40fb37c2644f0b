import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Model cards are rendered once, when written: the sanitized HTML is stored beside the markdown. Cards written
 * before have none; they are rendered (or shown as text) when read.
 */
export class CardHtml1732380800000 implements MigrationInterface {
  name = 'CardHtml1732380800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE checkpoints ADD COLUMN card_html text;
      ALTER TABLE versions ADD COLUMN card_html text;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE versions DROP COLUMN card_html;
      ALTER TABLE checkpoints DROP COLUMN card_html;
    `);
  }
}
