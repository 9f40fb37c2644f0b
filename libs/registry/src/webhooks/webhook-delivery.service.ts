import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import type { Config } from '@brine/config';
import { EventsService } from '../events.service';
import { TelemetryService } from '../telemetry.service';
import { CONFIG } from '../tokens';
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

interface Claimed {
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
  ) {}

  /** undispatched events → one delivery per matching subscription; returns how many deliveries were made */
  async dispatchPending(): Promise<number> {
    const created: string[] = [];
    await this.db.transaction(async (tx) => {
      const events = (await tx.query(
        `SELECT id, type, checkpoint, payload, created_at FROM events WHERE dispatched_at IS NULL ORDER BY created_at LIMIT 500 FOR UPDATE SKIP LOCKED`,
      )) as Array<{
        id: string;
        type: string;
        checkpoint: string | null;
        payload: Record<string, unknown>;
        created_at: Date;
      }>;
      if (events.length === 0) return;
      const hooks = (await tx.query(`SELECT id, events, filter FROM webhooks WHERE enabled`)) as Array<{
        id: string;
        events: string[];
        filter: WebhookFilter | null;
      }>;
      for (const e of events) {
        const body = JSON.stringify({ type: e.type, timestamp: e.created_at.toISOString(), data: e.payload });
        for (const h of hooks) {
          if (!h.events.includes(e.type) || !matches(h.filter, e.type, e.checkpoint, e.payload)) continue;
          const r = (await tx.query(
            `INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, message_id, body, status, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', now()) ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING id`,
            [h.id, e.id, e.type, `msg_${e.id.replace(/-/g, '')}`, body],
          )) as Array<{ id: string }>;
          if (r[0]) created.push(r[0].id);
        }
      }
      await tx.query(`UPDATE events SET dispatched_at = now() WHERE id = ANY($1)`, [events.map((e) => e.id)]);
    });
    for (const id of created) await this.events.schedule(id);
    return created.length;
  }

  /** for the reconciler: every pending delivery that is due gets a job (a no-op while its job exists) */
  async scheduleDue(): Promise<void> {
    const due = (await this.db.query(
      `SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.status = 'pending' AND w.enabled AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now()) LIMIT 1000`,
    )) as Array<{ id: string }>;
    for (const d of due) await this.events.schedule(d.id);
  }

  /** one attempt of one delivery; a delivery not due (or claimed by another worker) is skipped */
  async deliver(deliveryId: string): Promise<'succeeded' | 'retrying' | 'failed' | 'skipped'> {
    // a worker that dies mid-send leaves the delivery claimed for twice the timeout, then it is due again
    const lease = Math.ceil((2 * this.config.webhook.timeoutMs) / 1000) + 5;
    const [rows] = (await this.db.query(
      `UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $2), updated_at = now()
         FROM webhooks w
        WHERE d.id = $1 AND d.status = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now())
          AND w.id = d.webhook_id AND w.enabled
       RETURNING d.id, d.webhook_id, d.message_id, d.body, d.attempt_count, w.url, w.secret, w.previous_secret, w.previous_secret_expires_at,
                 $3::int AS max_failures`,
      [deliveryId, lease, this.config.webhook.maxConsecutiveFailures],
    )) as [Claimed[], number];
    const d = rows[0];
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
      let disable: string | null = null;
      if (ok) {
        result = 'succeeded';
        await tx.query(
          `UPDATE webhook_deliveries SET status = 'succeeded', attempt_count = $2, next_attempt_at = NULL, updated_at = now() WHERE id = $1`,
          [d.id, attempt],
        );
        await tx.query(`UPDATE webhooks SET consecutive_failures = 0 WHERE id = $1`, [d.webhook_id]);
      } else {
        const [w] = (await tx.query(
          `UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 WHERE id = $1 RETURNING consecutive_failures`,
          [d.webhook_id],
        )) as [Array<{ consecutive_failures: number }>, number];
        const failures = w[0]?.consecutive_failures ?? 0;
        if (o.status === 410) disable = 'the receiver answered 410 Gone';
        else if (failures >= d.max_failures)
          disable = `disabled after ${failures} consecutive failed attempts; the last: ${o.error ?? 'unknown error'}`;
        if (disable !== null || attempt >= MAX_ATTEMPTS) {
          result = 'failed';
          await tx.query(
            `UPDATE webhook_deliveries SET status = 'failed', attempt_count = $2, next_attempt_at = NULL, updated_at = now() WHERE id = $1`,
            [d.id, attempt],
          );
        } else {
          result = 'retrying';
          retryDelay = nextDelayMs(attempt, this.config.webhook.retryScale, o.retryAfter);
          await tx.query(
            `UPDATE webhook_deliveries SET status = 'pending', attempt_count = $2, next_attempt_at = now() + make_interval(secs => $3), updated_at = now() WHERE id = $1`,
            [d.id, attempt, retryDelay / 1000],
          );
        }
        if (disable !== null) {
          await tx.query(
            `UPDATE webhooks SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1`,
            [d.webhook_id, disable],
          );
          this.log.warn(`webhook ${d.webhook_id} disabled: ${disable}`);
        }
      }
      await tx.query(
        `INSERT INTO webhook_attempts (delivery_id, status_code, latency_ms, error, response_excerpt, retry_at)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::double precision IS NULL THEN NULL ELSE now() + make_interval(secs => $6) END)`,
        [d.id, o.status, o.latencyMs, o.error, o.excerpt, retryDelay === null ? null : retryDelay / 1000],
      );
      if (disable !== null) {
        await tx.query(
          `UPDATE webhook_deliveries SET status = 'abandoned', next_attempt_at = NULL, updated_at = now() WHERE webhook_id = $1 AND status = 'pending'`,
          [d.webhook_id],
        );
      }
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
