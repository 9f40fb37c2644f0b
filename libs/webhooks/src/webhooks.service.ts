import { randomBytes, randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Config } from '@brine/config';
import type { DeliveryView, WebhookCreate, WebhookFilter, WebhookPatch, WebhookView } from '@brine/contracts';
import {
  DeliveriesRepository,
  DeliveryAttemptsRepository,
  WebhooksRepository,
  type TokenEntity,
  type WebhookRow as StoredWebhook,
} from '@brine/persistence';

export type { AttemptView, DeliveryView, WebhookFilter, WebhookView } from '@brine/contracts';
import { EventsService, type EventType } from '@brine/registry';
import { CONFIG } from '@brine/runtime';
import { resolveTarget, TargetRefused } from './ssrf';

/** a subscription row as this service reads it: the events and filter the API wrote */
type WebhookRow = StoredWebhook & { events: EventType[]; filter: WebhookFilter | null };

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
    private readonly events: EventsService,
    private readonly hooks: WebhooksRepository,
    private readonly deliveryRows: DeliveriesRepository,
    private readonly attempts: DeliveryAttemptsRepository,
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
    const r = (await this.hooks.find(id)) as WebhookRow | null;
    if (r === null) throw new NotFoundException(`no webhook with id ${id}`);
    return r;
  }

  async create(b: WebhookCreate, token: TokenEntity | null): Promise<WebhookView & { secret: string }> {
    const url = await this.checkTarget(b.url);
    const events = b.events;
    const filter = b.filter ?? null;
    const secret = b.secret ?? newSecret();
    const description = b.description ?? null;
    const row = (await this.hooks.create(
      { url, events, filter, description },
      secret,
      token?.id ?? null,
    )) as WebhookRow;
    return { ...view(row), secret };
  }

  async list(): Promise<WebhookView[]> {
    return ((await this.hooks.list()) as WebhookRow[]).map(view);
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
    const row = (await this.hooks.update(
      id,
      { url, events, filter, description },
      enabled,
      reenabled,
    )) as WebhookRow;
    if (!enabled) await this.abandonPending(id);
    return view(row);
  }

  async remove(id: string): Promise<void> {
    await this.row(id);
    await this.hooks.remove(id);
  }

  /** a new secret; the old one keeps signing (both signatures are sent) until the grace period ends */
  async rotate(id: string, grace: number): Promise<WebhookView & { secret: string }> {
    await this.row(id);
    const secret = newSecret();
    const row = (await this.hooks.rotate(id, secret, grace)) as WebhookRow;
    return { ...view(row), secret };
  }

  async deliveries(id: string, limit: number): Promise<DeliveryView[]> {
    await this.row(id);
    const ds = await this.deliveryRows.listFor(id, limit);
    const attempts = await this.attempts.listFor(ds.map((d) => d.id));
    return ds.map((d) => ({
      id: d.id,
      webhookId: d.message_id,
      event: d.event_type,
      checkpoint: d.checkpoint ?? null,
      version: d.version ?? null,
      status: d.status,
      attemptCount: d.attempt_count,
      nextAttemptAt: d.status === 'pending' && d.next_attempt_at ? d.next_attempt_at.toISOString() : null,
      createdAt: d.created_at.toISOString(),
      attempts: attempts
        .filter((a) => a.delivery_id === d.id)
        .map((a) => ({
          at: a.attempted_at.toISOString(),
          statusCode: a.status_code ?? null,
          latencyMs: a.latency_ms,
          error: a.error ?? null,
          response: a.response_excerpt ?? null,
          retryAt: a.retry_at ? a.retry_at.toISOString() : null,
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
    if (!(await this.deliveryRows.redeliver(deliveryId, id)))
      throw new NotFoundException(`webhook ${id} has no delivery ${deliveryId}`);
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
    await this.deliveryRows.createTest(deliveryId, id, `msg_test_${deliveryId.replace(/-/g, '')}`, body);
    await this.events.schedule(deliveryId);
    return (await this.deliveries(id, 500)).find((d) => d.id === deliveryId) as DeliveryView;
  }

  /** a disabled subscription's pending deliveries stop (they can be redelivered once it is enabled again) */
  async abandonPending(webhookId: string): Promise<void> {
    await this.deliveryRows.abandonPending(webhookId);
  }
}
