import { TableRepository } from './table-repository';

export interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_type: string;
  message_id: string;
  status: 'pending' | 'succeeded' | 'failed' | 'abandoned';
  attempt_count: number;
  next_attempt_at: Date | null;
  created_at: Date;
  /** what the event is about, read from the body sent (null for test events) */
  checkpoint: string | null;
  version: string | null;
}

/** a delivery claimed for one attempt, with what the attempt needs of its subscription */
export interface ClaimedDelivery {
  id: string;
  webhook_id: string;
  message_id: string;
  body: string;
  attempt_count: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  max_failures: number;
}

/**
 * The `webhook_deliveries` table: one event for one subscription, and its attempts' state: pending (`createForEvent`,
 * `createTest`, `redeliver`, `retryLater`) → claimed for an attempt (`claim`, a lease on next_attempt_at) →
 * succeeded (`succeed`), failed (`fail`) or abandoned (`abandonPending`, when its subscription is disabled).
 */
export class DeliveriesRepository extends TableRepository {
  /** one delivery per subscription and event; null when it exists */
  async createForEvent(
    webhookId: string,
    eventId: string,
    eventType: string,
    messageId: string,
    body: string,
  ): Promise<string | null> {
    const [r] = await this.rows<{ id: string }>(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, message_id, body, status, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', now()) ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING id`,
      [webhookId, eventId, eventType, messageId, body],
    );
    return r?.id ?? null;
  }

  async createTest(id: string, webhookId: string, messageId: string, body: string): Promise<void> {
    await this.m.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, event_type, message_id, body, status, next_attempt_at) VALUES ($1, $2, 'webhook.test', $3, $4, 'pending', now())`,
      [id, webhookId, messageId, body],
    );
  }

  /** a subscription's deliveries, newest first */
  async listFor(webhookId: string, limit: number): Promise<DeliveryRow[]> {
    return this.rows<DeliveryRow>(
      `SELECT id, webhook_id, event_type, message_id, status, attempt_count, next_attempt_at, created_at,
              body::jsonb -> 'data' ->> 'checkpoint' AS checkpoint, body::jsonb -> 'data' ->> 'version' AS version
         FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id LIMIT $2`,
      [webhookId, limit],
    );
  }

  async attemptCount(id: string): Promise<number | null> {
    const [d] = await this.rows<{ attempt_count: number }>(
      'SELECT attempt_count FROM webhook_deliveries WHERE id = $1',
      [id],
    );
    return d?.attempt_count ?? null;
  }

  /** pending again, due now; false when the subscription has no such delivery */
  async redeliver(id: string, webhookId: string): Promise<boolean> {
    const { count } = await this.change(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), updated_at = now() WHERE id = $1 AND webhook_id = $2 RETURNING id`,
      [id, webhookId],
    );
    return count > 0;
  }

  /** a disabled subscription's pending deliveries stop */
  async abandonPending(webhookId: string): Promise<void> {
    await this.m.query(
      `UPDATE webhook_deliveries SET status = 'abandoned', next_attempt_at = NULL, updated_at = now() WHERE webhook_id = $1 AND status = 'pending'`,
      [webhookId],
    );
  }

  /** pending deliveries of enabled subscriptions that are due */
  async due(limit: number): Promise<string[]> {
    const rows = await this.rows<{ id: string }>(
      `SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'pending' AND w.enabled AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now()) LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Claims a due delivery of an enabled subscription for one attempt: it is not due again for `leaseSeconds` (a
   * worker that dies mid-send leaves it claimed that long). Null when it is not due or another worker has it.
   */
  async claim(id: string, leaseSeconds: number, maxFailures: number): Promise<ClaimedDelivery | null> {
    const { rows } = await this.change<ClaimedDelivery>(
      `UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $2), updated_at = now()
         FROM webhooks w
        WHERE d.id = $1 AND d.status = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now())
          AND w.id = d.webhook_id AND w.enabled
       RETURNING d.id, d.webhook_id, d.message_id, d.body, d.attempt_count, w.url, w.secret, w.previous_secret, w.previous_secret_expires_at,
                 $3::int AS max_failures`,
      [id, leaseSeconds, maxFailures],
    );
    return rows[0] ?? null;
  }

  async succeed(id: string, attempts: number): Promise<void> {
    await this.m.query(
      `UPDATE webhook_deliveries SET status = 'succeeded', attempt_count = $2, next_attempt_at = NULL, updated_at = now() WHERE id = $1`,
      [id, attempts],
    );
  }

  async fail(id: string, attempts: number): Promise<void> {
    await this.m.query(
      `UPDATE webhook_deliveries SET status = 'failed', attempt_count = $2, next_attempt_at = NULL, updated_at = now() WHERE id = $1`,
      [id, attempts],
    );
  }

  async retryLater(id: string, attempts: number, delaySeconds: number): Promise<void> {
    await this.m.query(
      `UPDATE webhook_deliveries SET status = 'pending', attempt_count = $2, next_attempt_at = now() + make_interval(secs => $3), updated_at = now() WHERE id = $1`,
      [id, attempts, delaySeconds],
    );
  }
}

export interface AttemptRow {
  delivery_id: string;
  attempted_at: Date;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  response_excerpt: string | null;
  retry_at: Date | null;
}

/** The `webhook_attempts` table: every attempt of every delivery, what the receiver answered and when it is retried. */
export class DeliveryAttemptsRepository extends TableRepository {
  async record(
    deliveryId: string,
    statusCode: number | null,
    latencyMs: number,
    error: string | null,
    excerpt: string | null,
    retryInSeconds: number | null,
  ): Promise<void> {
    await this.m.query(
      `INSERT INTO webhook_attempts (delivery_id, status_code, latency_ms, error, response_excerpt, retry_at)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $6) END)`,
      [deliveryId, statusCode, latencyMs, error, excerpt, retryInSeconds],
    );
  }

  async listFor(deliveryIds: string[]): Promise<AttemptRow[]> {
    if (deliveryIds.length === 0) return [];
    return this.rows<AttemptRow>(
      `SELECT delivery_id, attempted_at, status_code, latency_ms, error, response_excerpt, retry_at FROM webhook_attempts
        WHERE delivery_id = ANY($1) ORDER BY id`,
      [deliveryIds],
    );
  }
}
