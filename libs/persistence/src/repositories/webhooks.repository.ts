import { TableRepository } from './table-repository';

export interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  filter: Record<string, unknown> | null;
  description: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
  created_at: Date;
}

export interface WebhookFields {
  url: string;
  events: string[];
  filter: unknown;
  description: string | null;
}

/** The `webhooks` table: subscriptions, their secrets and their health (consecutive failures, disabling). */
export class WebhooksRepository extends TableRepository {
  async find(id: string): Promise<WebhookRow | null> {
    const [r] = await this.rows<WebhookRow>('SELECT * FROM webhooks WHERE id = $1', [id]);
    return r ?? null;
  }

  async list(): Promise<WebhookRow[]> {
    return this.rows<WebhookRow>('SELECT * FROM webhooks ORDER BY created_at');
  }

  /** the enabled subscriptions, as dispatching matches events to them */
  async enabled(): Promise<Array<{ id: string; events: string[]; filter: Record<string, unknown> | null }>> {
    return this.rows<{ id: string; events: string[]; filter: Record<string, unknown> | null }>(
      `SELECT id, events, filter FROM webhooks WHERE enabled`,
    );
  }

  async create(f: WebhookFields, secret: string, createdBy: string | null): Promise<WebhookRow> {
    const [r] = await this.rows<WebhookRow>(
      `INSERT INTO webhooks (url, events, filter, description, secret, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [
        f.url,
        f.events,
        f.filter === null ? null : JSON.stringify(f.filter),
        f.description,
        secret,
        createdBy,
      ],
    );
    return r;
  }

  /**
   * Writes the subscription's fields. Disabling keeps (or gives) a reason; enabling clears it, and a subscription
   * enabled again (`reenabled`) starts counting failures from zero.
   */
  async update(id: string, f: WebhookFields, enabled: boolean, reenabled: boolean): Promise<WebhookRow> {
    const { rows } = await this.change<WebhookRow>(
      `UPDATE webhooks SET url = $2, events = $3, filter = $4, description = $5, enabled = $6,
              disabled_reason = CASE WHEN $6 THEN NULL ELSE COALESCE(disabled_reason, 'disabled by an admin') END,
              consecutive_failures = CASE WHEN $7 THEN 0 ELSE consecutive_failures END, updated_at = now()
        WHERE id = $1 RETURNING *`,
      [
        id,
        f.url,
        f.events,
        f.filter === null ? null : JSON.stringify(f.filter),
        f.description,
        enabled,
        reenabled,
      ],
    );
    return rows[0];
  }

  async remove(id: string): Promise<void> {
    await this.m.query('DELETE FROM webhooks WHERE id = $1', [id]);
  }

  /** a new secret; the current one becomes the previous one for `graceSeconds` */
  async rotate(id: string, secret: string, graceSeconds: number): Promise<WebhookRow> {
    const { rows } = await this.change<WebhookRow>(
      `UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = now() + make_interval(secs => $3), secret = $2, updated_at = now()
        WHERE id = $1 RETURNING *`,
      [id, secret, graceSeconds],
    );
    return rows[0];
  }

  /** a delivery succeeded */
  async resetFailures(id: string): Promise<void> {
    await this.m.query(`UPDATE webhooks SET consecutive_failures = 0 WHERE id = $1`, [id]);
  }

  /** a delivery attempt failed; returns the consecutive failures now */
  async countFailure(id: string): Promise<number> {
    const { rows } = await this.change<{ consecutive_failures: number }>(
      `UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 WHERE id = $1 RETURNING consecutive_failures`,
      [id],
    );
    return rows[0]?.consecutive_failures ?? 0;
  }

  async disable(id: string, reason: string): Promise<void> {
    await this.m.query(
      `UPDATE webhooks SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1`,
      [id, reason],
    );
  }
}
