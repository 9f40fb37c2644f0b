import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import type { Config } from '@brine/config';
import {
  DeliveriesRepository,
  DeliveryAttemptsRepository,
  EventsRepository,
  WebhooksRepository,
  type ClaimedDelivery as Claimed,
} from '@brine/persistence';
import { EventsService, TelemetryService } from '@brine/registry';
import { CONFIG } from '@brine/runtime';
import { resolveTarget, TargetRefused, type ResolvedTarget } from './ssrf';
import type { WebhookFilter } from './webhooks.service';

/** seconds to wait after the n-th failed attempt: about a day in all, then the delivery fails */
export const RETRY_SCHEDULE_S = [5, 30, 120, 300, 900, 1800, 3600, 7200, 14400, 21600, 28800];
export const MAX_ATTEMPTS = RETRY_SCHEDULE_S.length + 1;
const MAX_DELAY_MS = 24 * 3600 * 1000;
const EXCERPT = 1024;

const VERDICT_RANK: Record<string, number> = { safe: 0, suspicious: 1, unknown: 2, dangerous: 3 };

function globMatch(glob: string, s: string): boolean {
  const re = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(s);
}

export function matches(
  filter: WebhookFilter | null,
  type: string,
  checkpoint: string | null,
  payload: Record<string, unknown>,
): boolean {
  if (!filter) return true;
  if (filter.checkpoint && (checkpoint === null || !globMatch(filter.checkpoint, checkpoint))) return false;
  if (filter.minSeverity && type.startsWith('scan.')) {
    const rank = VERDICT_RANK[String(payload.verdict)] ?? 3;
    if (rank < VERDICT_RANK[filter.minSeverity]) return false;
  }
  return true;
}

/** Retry-After as seconds or an HTTP date, in ms (null when absent or unusable) */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

/** delay after the n-th failed attempt (1-based): the schedule scaled, ±20% jitter, at least Retry-After */
export function nextDelayMs(failedAttempt: number, scale: number, retryAfter: number | null): number {
  const base = RETRY_SCHEDULE_S[Math.min(failedAttempt, RETRY_SCHEDULE_S.length) - 1] * 1000 * scale;
  const jittered = base * (0.8 + Math.random() * 0.4);
  return Math.min(MAX_DELAY_MS, Math.max(jittered, retryAfter ?? 0));
}

interface Outcome {
  status: number | null;
  latencyMs: number;
  error: string | null;
  excerpt: string | null;
  retryAfter: number | null;
}

/**
 * Turns events into deliveries and performs delivery attempts: Standard Webhooks signatures (webhook-id stable
 * across retries), a 10 s timeout, no redirects, the connection pinned to the address the SSRF guard checked.
 */
@Injectable()
export class WebhookDeliveryService {
  private readonly log = new Logger('Webhooks');

  constructor(
    private readonly db: DataSource,
    private readonly events: EventsService,
    @Inject(CONFIG) private readonly config: Config,
    private readonly telemetry: TelemetryService,
    private readonly eventRows: EventsRepository,
    private readonly hooks: WebhooksRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly attempts: DeliveryAttemptsRepository,
  ) {}

  /** undispatched events → one delivery per matching subscription; returns how many deliveries were made */
  async dispatchPending(): Promise<number> {
    const created: string[] = [];
    await this.db.transaction(async (tx) => {
      const events = await this.eventRows.in(tx).claimUndispatched(500);
      if (events.length === 0) return;
      const hooks = (await this.hooks.in(tx).enabled()) as Array<{
        id: string;
        events: string[];
        filter: WebhookFilter | null;
      }>;
      const deliveries = this.deliveries.in(tx);
      for (const e of events) {
        const body = JSON.stringify({ type: e.type, timestamp: e.created_at.toISOString(), data: e.payload });
        for (const h of hooks) {
          if (!h.events.includes(e.type) || !matches(h.filter, e.type, e.checkpoint, e.payload)) continue;
          const id = await deliveries.createForEvent(
            h.id,
            e.id,
            e.type,
            `msg_${e.id.replace(/-/g, '')}`,
            body,
          );
          if (id !== null) created.push(id);
        }
      }
      await this.eventRows.in(tx).markDispatched(events.map((e) => e.id));
    });
    for (const id of created) await this.events.schedule(id);
    return created.length;
  }

  /** for the reconciler: every pending delivery that is due gets a job (a no-op while its job exists) */
  async scheduleDue(): Promise<void> {
    for (const id of await this.deliveries.due(1000)) await this.events.schedule(id);
  }

  /** one attempt of one delivery; a delivery not due (or claimed by another worker) is skipped */
  async deliver(deliveryId: string): Promise<'succeeded' | 'retrying' | 'failed' | 'skipped'> {
    // a worker that dies mid-send leaves the delivery claimed for twice the timeout, then it is due again
    const lease = Math.ceil((2 * this.config.webhook.timeoutMs) / 1000) + 5;
    const d = await this.deliveries.claim(deliveryId, lease, this.config.webhook.maxConsecutiveFailures);
    if (!d) return 'skipped';
    const outcome = await this.attempt(d);
    return this.record(d, outcome);
  }

  private signature(d: Claimed, timestamp: Date): string {
    const sigs = [new Webhook(d.secret).sign(d.message_id, timestamp, d.body)];
    if (d.previous_secret && d.previous_secret_expires_at && d.previous_secret_expires_at > new Date()) {
      sigs.push(new Webhook(d.previous_secret).sign(d.message_id, timestamp, d.body));
    }
    return sigs.join(' ');
  }

  private async attempt(d: Claimed): Promise<Outcome> {
    const started = Date.now();
    let target: ResolvedTarget;
    try {
      target = await resolveTarget(d.url, this.config.webhookAllowPrivate);
    } catch (e) {
      const msg =
        e instanceof TargetRefused ? e.message : `cannot resolve the target: ${(e as Error).message}`;
      return { status: null, latencyMs: Date.now() - started, error: msg, excerpt: null, retryAfter: null };
    }
    const timestamp = new Date();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Brine-Webhooks/1.0',
      'webhook-id': d.message_id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': this.signature(d, timestamp),
    };
    try {
      const res = await post(target, headers, d.body, this.config.webhook.timeoutMs);
      const ok = res.status >= 200 && res.status < 300;
      let error: string | null = null;
      if (!ok)
        error =
          res.status >= 300 && res.status < 400
            ? `redirect to ${res.location ?? '?'} not followed`
            : `HTTP ${res.status}`;
      return {
        status: res.status,
        latencyMs: Date.now() - started,
        error,
        excerpt: res.excerpt,
        retryAfter: retryAfterMs(res.retryAfter),
      };
    } catch (e) {
      return {
        status: null,
        latencyMs: Date.now() - started,
        error: (e as Error).message.slice(0, 500),
        excerpt: null,
        retryAfter: null,
      };
    }
  }

  private async record(d: Claimed, o: Outcome): Promise<'succeeded' | 'retrying' | 'failed'> {
    const attempt = d.attempt_count + 1;
    const ok = o.status !== null && o.status >= 200 && o.status < 300;
    let result: 'succeeded' | 'retrying' | 'failed';
    let retryDelay: number | null = null;
    await this.db.transaction(async (tx) => {
      const deliveries = this.deliveries.in(tx);
      const hooks = this.hooks.in(tx);
      let disable: string | null = null;
      if (ok) {
        result = 'succeeded';
        await deliveries.succeed(d.id, attempt);
        await hooks.resetFailures(d.webhook_id);
      } else {
        const failures = await hooks.countFailure(d.webhook_id);
        if (o.status === 410) disable = 'the receiver answered 410 Gone';
        else if (failures >= d.max_failures)
          disable = `disabled after ${failures} consecutive failed attempts; the last: ${o.error ?? 'unknown error'}`;
        if (disable !== null || attempt >= MAX_ATTEMPTS) {
          result = 'failed';
          await deliveries.fail(d.id, attempt);
        } else {
          result = 'retrying';
          retryDelay = nextDelayMs(attempt, this.config.webhook.retryScale, o.retryAfter);
          await deliveries.retryLater(d.id, attempt, retryDelay / 1000);
        }
        if (disable !== null) {
          await hooks.disable(d.webhook_id, disable);
          this.log.warn(`webhook ${d.webhook_id} disabled: ${disable}`);
        }
      }
      await this.attempts
        .in(tx)
        .record(
          d.id,
          o.status,
          o.latencyMs,
          o.error,
          o.excerpt,
          retryDelay === null ? null : retryDelay / 1000,
        );
      if (disable !== null) await deliveries.abandonPending(d.webhook_id);
    });
    if (retryDelay !== null) await this.events.schedule(d.id, retryDelay);
    this.telemetry.deliveries.inc({ outcome: result! });
    return result!;
  }
}

interface PostResult {
  status: number;
  excerpt: string;
  retryAfter: string | undefined;
  location: string | undefined;
}

/** POST with the connection pinned to the checked address; never follows redirects; gives up after timeoutMs */
function post(
  target: ResolvedTarget,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostResult> {
  const pinned: LookupFunction = (_host, opts, cb) => {
    if ((opts as { all?: boolean }).all)
      (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
        { address: target.address, family: target.family },
      ]);
    else cb(null, target.address, target.family);
  };
  const u = target.url;
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        protocol: u.protocol,
        hostname: u.hostname.replace(/^\[|\]$/g, ''),
        port: u.port || (u.protocol === 'https:' ? 443 : 80),
        path: `${u.pathname}${u.search}`,
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinned,
        agent: false,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < EXCERPT) chunks.push(c);
          size += c.length;
          if (size > 64 * 1024) res.destroy();
        });
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            excerpt: Buffer.concat(chunks).subarray(0, EXCERPT).toString('utf8'),
            retryAfter: res.headers['retry-after'],
            location: res.headers.location,
          });
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on('close', () => clearTimeout(timer));
    req.end(body);
  });
}
