import { randomBytes, randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Config } from '@brine/config';
import type { TokenEntity } from '@brine/persistence';
import { EVENT_TYPES, EventsService, type EventType } from '../events.service';
import { CONFIG } from '../tokens';
import { resolveTarget, TargetRefused } from './ssrf';

export interface WebhookFilter {
  /** glob on checkpoint names: * and ? */
  checkpoint?: string;
  /** scan events only: the least severe verdict that is sent */
  minSeverity?: 'suspicious' | 'unknown' | 'dangerous';
}

export interface WebhookView {
  id: string;
  url: string;
  events: EventType[];
  filter: WebhookFilter | null;
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  secretRotating: boolean;
  createdAt: string;
}

export interface AttemptView {
  at: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  response: string | null;
  retryAt: string | null;
}

export interface DeliveryView {
  id: string;
  webhookId: string;
  event: string;
  status: 'pending' | 'succeeded' | 'failed' | 'abandoned';
  attemptCount: number;
  nextAttemptAt: string | null;
  createdAt: string;
  attempts: AttemptView[];
}

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

function checkSecret(v: unknown): string {
  if (
    typeof v !== 'string' ||
    !/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/.test(v) ||
    Buffer.from(v.slice(6), 'base64').length < 24
  ) {
    throw new BadRequestException(
      'secret must be "whsec_" followed by at least 24 base64-encoded random bytes (omit it to get one)',
    );
  }
  return v;
}

function checkEvents(v: unknown): EventType[] {
  if (
    !Array.isArray(v) ||
    v.length === 0 ||
    !v.every((e) => (EVENT_TYPES as readonly string[]).includes(e as string))
  ) {
    throw new BadRequestException(`events must be a non-empty list drawn from ${EVENT_TYPES.join(', ')}`);
  }
  return [...new Set(v as EventType[])];
}

function checkFilter(v: unknown): WebhookFilter | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v))
    throw new BadRequestException(
      'filter must be an object: {"checkpoint": "glob", "minSeverity": "suspicious"}',
    );
  const f = v as Record<string, unknown>;
  const out: WebhookFilter = {};
  for (const k of Object.keys(f))
    if (k !== 'checkpoint' && k !== 'minSeverity')
      throw new BadRequestException(`unknown filter field "${k}"`);
  if (f.checkpoint !== undefined) {
    if (typeof f.checkpoint !== 'string' || !/^[A-Za-z0-9._*?-]{1,128}$/.test(f.checkpoint)) {
      throw new BadRequestException(
        'filter.checkpoint must be a glob of checkpoint-name characters with * and ?, e.g. "resnet-*"',
      );
    }
    out.checkpoint = f.checkpoint;
  }
  if (f.minSeverity !== undefined) {
    if (f.minSeverity !== 'suspicious' && f.minSeverity !== 'unknown' && f.minSeverity !== 'dangerous') {
      throw new BadRequestException('filter.minSeverity must be suspicious, unknown or dangerous');
    }
    out.minSeverity = f.minSeverity;
  }
  return out;
}

function checkDescription(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > 500)
    throw new BadRequestException('description must be text of at most 500 characters');
  return v;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Webhook subscriptions (admin): CRUD, secrets, the delivery log and redelivery. */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventsService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private async checkTarget(url: unknown): Promise<string> {
    if (typeof url !== 'string')
      throw new BadRequestException('url is required: the http(s) address that receives events');
    try {
      await resolveTarget(url, this.config.webhookAllowPrivate);
    } catch (e) {
      if (e instanceof TargetRefused) throw new BadRequestException(e.message);
      throw new BadRequestException(`cannot resolve the url's host: ${(e as Error).message}`);
    }
    return url;
  }

  private async row(id: string): Promise<WebhookRow> {
    if (!UUID.test(id)) throw new BadRequestException('webhook id must be a UUID');
    const rows = (await this.db.query('SELECT * FROM webhooks WHERE id = $1', [id])) as WebhookRow[];
    if (rows.length === 0) throw new NotFoundException(`no webhook with id ${id}`);
    return rows[0];
  }

  async create(body: unknown, token: TokenEntity | null): Promise<WebhookView & { secret: string }> {
    const b = (body ?? {}) as Record<string, unknown>;
    const url = await this.checkTarget(b.url);
    const events = checkEvents(b.events);
    const filter = checkFilter(b.filter);
    const secret = b.secret === undefined ? newSecret() : checkSecret(b.secret);
    const description = checkDescription(b.description);
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

  async update(id: string, body: unknown): Promise<WebhookView> {
    const current = await this.row(id);
    const b = (body ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(b)) {
      if (!['url', 'events', 'filter', 'enabled', 'description'].includes(k))
        throw new BadRequestException(`cannot change "${k}" (use rotate-secret for the secret)`);
    }
    const url = b.url === undefined ? current.url : await this.checkTarget(b.url);
    const events = b.events === undefined ? current.events : checkEvents(b.events);
    const filter = b.filter === undefined ? current.filter : checkFilter(b.filter);
    const description = b.description === undefined ? current.description : checkDescription(b.description);
    if (b.enabled !== undefined && typeof b.enabled !== 'boolean')
      throw new BadRequestException('enabled must be true or false');
    const enabled = b.enabled === undefined ? current.enabled : b.enabled;
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
  async rotate(id: string, body: unknown): Promise<WebhookView & { secret: string }> {
    await this.row(id);
    const grace = (body as { graceSeconds?: unknown } | undefined)?.graceSeconds ?? 86_400;
    if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > 604_800) {
      throw new BadRequestException(
        'graceSeconds must be a whole number of seconds from 0 to 604800 (7 days)',
      );
    }
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
    if (!UUID.test(deliveryId)) throw new BadRequestException('delivery id must be a UUID');
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
