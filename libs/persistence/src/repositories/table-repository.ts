import type { EntityManager } from 'typeorm';

/**
 * The one home of a table's SQL: every statement that reads or changes the table is a named method of its
 * repository, and services call those. A repository runs on the data source's manager; `in(tx)` gives the same
 * repository bound to a transaction, so the locks a service takes and the state it re-checks are those of the
 * transaction that acts.
 */
export abstract class TableRepository {
  constructor(protected readonly m: EntityManager) {}

  /** this repository, running its statements in the transaction `tx` */
  in(tx: EntityManager): this {
    return new (this.constructor as new (m: EntityManager) => this)(tx);
  }

  protected async rows<T>(sql: string, params?: unknown[]): Promise<T[]> {
    return (await this.m.query(sql, params)) as T[];
  }

  /** an UPDATE or DELETE: PostgreSQL's driver answers [rows RETURNING, number of rows affected] */
  protected async change<T = unknown>(
    sql: string,
    params?: unknown[],
  ): Promise<{ rows: T[]; count: number }> {
    const [rows, count] = (await this.m.query(sql, params)) as [T[], number];
    return { rows, count };
  }
}

/** a card column (markdown, its rendered HTML and when it changed), on checkpoints and on versions */
export interface CardRow {
  card: string | null;
  card_html: string | null;
  card_updated_at: Date | null;
}

/** the card columns that checkpoints and versions share */
export abstract class CardTable extends TableRepository {
  protected abstract readonly table: 'checkpoints' | 'versions';

  async card(id: string): Promise<CardRow | null> {
    const [r] = await this.rows<CardRow>(
      `SELECT card, card_html, card_updated_at FROM ${this.table} WHERE id = $1`,
      [id],
    );
    return r ?? null;
  }

  async setCard(id: string, markdown: string, html: string): Promise<void> {
    await this.m.query(
      `UPDATE ${this.table} SET card = $2, card_html = $3, card_updated_at = now() WHERE id = $1`,
      [id, markdown, html],
    );
  }

  /** keeps the HTML rendered for a card stored without it, unless the card changed meanwhile */
  async keepCardHtml(id: string, markdown: string, html: string): Promise<void> {
    await this.m.query(
      `UPDATE ${this.table} SET card_html = $3 WHERE id = $1 AND card = $2 AND card_html IS NULL`,
      [id, markdown, html],
    );
  }
}
