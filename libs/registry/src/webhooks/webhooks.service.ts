import { randomBytes, randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Config } from '@brine/config';
import type { DeliveryView, WebhookCreate, WebhookFilter, WebhookPatch, WebhookView } from '@brine/contracts';
import type { TokenEntity } from '@brine/persistence';

export type { AttemptView, DeliveryView, WebhookFilter, WebhookView } from '@brine/contracts';
import { EventsService, type EventType } from '../events.service';
import { CONFIG } from '../tokens';
import { resolveTarget, TargetRefused } from './ssrf';

interface WebhookRow {
  id: string;
  url: string;
  events: EventType[];
  filter: WebhookFilter | null;
  description: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
  created_at: Date;
}

function view(r: WebhookRow): WebhookView {
  return {
    id: r.id,
    url: r.url,
    events: r.events,
    filter: r.filter,
    description: r.description,
    enabled: r.enabled,
    disabledReason: r.disabled_reason,
    consecutiveFailures: r.consecutive_failures,
    secretRotating:
      r.previous_secret !== null &&
      r.previous_secret_expires_at !== null &&
      r.previous_secret_expires_at > new Date(),
    createdAt: r.created_at.toISOString(),
  };
}

export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** Webhook subscriptions (admin): CRUD, secrets, the delivery log and redelivery. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventsService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** the SSRF guard: where the URL's host resolves to (shapes are checked by the route's schema) */
  private async checkTarget(url: string): Promise<string> {
    try {
      await resolveTarget(url, this.config.webhookAllowPrivate);
    } catch (e) {
      if (e instanceof TargetRefused) throw new BadRequestException(e.message);
      throw new BadRequestException(`cannot resolve the url's host: ${(e as Error).message}`);
    }
    return url;
  }

  private async row(id: string): Promise<WebhookRow> {
    const rows = (await this.db.query('SELECT * FROM webhooks WHERE id = $1', [id])) as WebhookRow[];
    if (rows.length === 0) throw new NotFoundException(`no webhook with id ${id}`);
    return rows[0];
  }

  async create(b: WebhookCreate, token: TokenEntity | null): Promise<WebhookView & { secret: string }> {
    const url = await this.checkTarget(b.url);
    const events = b.events;
    const filter = b.filter ?? null;
    const secret = b.secret ?? newSecret();
    const description = b.description ?? null;
    const rows = (await this.db.query(
      `INSERT INTO webhooks (url, events, filter, description, secret, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [url, events, filter === null ? null : JSON.stringify(filter), description, secret, token?.id ?? null],
    )) as WebhookRow[];
    return { ...view(rows[0]), secret };
  }

  async list(): Promise<WebhookView[]> {
    return ((await this.db.query('SELECT * FROM webhooks ORDER BY created_at')) as WebhookRow[]).map(view);
  }

  async get(id: string): Promise<WebhookView> {
    return view(await this.row(id));
  }

  async update(id: string, b: WebhookPatch): Promise<WebhookView> {
    const current = await this.row(id);
    const url = b.url === undefined ? current.url : await this.checkTarget(b.url);
    const events = b.events ?? current.events;
    const filter = b.filter === undefined ? current.filter : b.filter;
    const description = b.description === undefined ? current.description : b.description;
    const enabled = b.enabled ?? current.enabled;
    const reenabled = enabled && !current.enabled;
    const rows = (await this.db.query(
      `UPDATE webhooks SET url = $2, events = $3, filter = $4, description = $5, enabled = $6,
              disabled_reason = CASE WHEN $6 THEN NULL ELSE COALESCE(disabled_reason, 'disabled by an admin') END,
              consecutive_failures = CASE WHEN $7 THEN 0 ELSE consecutive_failures END, updated_at = now()
        WHERE id = $1 RETURNING *`,
      [id, url, events, filter === null ? null : JSON.stringify(filter), description, enabled, reenabled],
    )) as [WebhookRow[], number];
    if (!enabled) await this.abandonPending(id);
    return view(rows[0][0]);
  }

  async remove(id: string): Promise<void> {
    await this.row(id);
    await this.db.query('DELETE FROM webhooks WHERE id = $1', [id]);
  }

  /** a new secret; the old one keeps signing (both signatures are sent) until the grace period ends */
  async rotate(id: string, grace: number): Promise<WebhookView & { secret: string }> {
    await this.row(id);
    const secret = newSecret();
    const rows = (await this.db.query(
      `UPDATE webhooks SET previous_secret = secret, previous_secret_expires_at = now() + make_interval(secs => $3), secret = $2, updated_at = now()
        WHERE id = $1 RETURNING *`,
      [id, secret, grace],
    )) as [WebhookRow[], number];
    return { ...view(rows[0][0]), secret };
  }

  async deliveries(id: string, limit: number): Promise<DeliveryView[]> {
    await this.row(id);
    const ds = (await this.db.query(
      `SELECT id, webhook_id, event_type, message_id, status, attempt_count, next_attempt_at, created_at
         FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id LIMIT $2`,
      [id, limit],
    )) as Array<Record<string, unknown>>;
    const attempts = ds.length
      ? ((await this.db.query(
          `SELECT delivery_id, attempted_at, status_code, latency_ms, error, response_excerpt, retry_at FROM webhook_attempts
            WHERE delivery_id = ANY($1) ORDER BY id`,
          [ds.map((d) => d.id)],
        )) as Array<Record<string, unknown>>)
      : [];
    return ds.map((d) => ({
      id: d.id as string,
      webhookId: d.message_id as string,
      event: d.event_type as string,
      status: d.status as DeliveryView['status'],
      attemptCount: d.attempt_count as number,
      nextAttemptAt:
        d.status === 'pending' && d.next_attempt_at ? (d.next_attempt_at as Date).toISOString() : null,
      createdAt: (d.created_at as Date).toISOString(),
      attempts: attempts
        .filter((a) => a.delivery_id === d.id)
        .map((a) => ({
          at: (a.attempted_at as Date).toISOString(),
          statusCode: (a.status_code as number | null) ?? null,
          latencyMs: a.latency_ms as number,
          error: (a.error as string | null) ?? null,
          response: (a.response_excerpt as string | null) ?? null,
          retryAt: a.retry_at ? (a.retry_at as Date).toISOString() : null,
        })),
    }));
  }

  /** sends a delivery again, with the same webhook-id and body */
  async redeliver(id: string, deliveryId: string): Promise<DeliveryView> {
    const hook = await this.row(id);
    if (!hook.enabled)
      throw new BadRequestException(
        'the subscription is disabled; re-enable it (PATCH {"enabled": true}) first',
      );
    const r = (await this.db.query(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), updated_at = now() WHERE id = $1 AND webhook_id = $2 RETURNING id`,
      [deliveryId, id],
    )) as [unknown[], number];
    if (r[1] === 0) throw new NotFoundException(`webhook ${id} has no delivery ${deliveryId}`);
    await this.events.schedule(deliveryId);
    return (await this.deliveries(id, 500)).find((d) => d.id === deliveryId) as DeliveryView;
  }

  /** a test event to this subscription only */
  async test(id: string): Promise<DeliveryView> {
    const hook = await this.row(id);
    if (!hook.enabled) throw new BadRequestException('the subscription is disabled; re-enable it first');
    const deliveryId = randomUUID();
    const body = JSON.stringify({
      type: 'webhook.test',
      timestamp: new Date().toISOString(),
      data: { message: 'a test event from Brine', webhook: id },
    });
    await this.db.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, event_type, message_id, body, status, next_attempt_at) VALUES ($1, $2, 'webhook.test', $3, $4, 'pending', now())`,
      [deliveryId, id, `msg_test_${deliveryId.replace(/-/g, '')}`, body],
    );
    await this.events.schedule(deliveryId);
    return (await this.deliveries(id, 500)).find((d) => d.id === deliveryId) as DeliveryView;
  }

  /** a disabled subscription's pending deliveries stop (they can be redelivered once it is enabled again) */
  async abandonPending(webhookId: string): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET status = 'abandoned', next_attempt_at = NULL, updated_at = now() WHERE webhook_id = $1 AND status = 'pending'`,
      [webhookId],
    );
  }
}
