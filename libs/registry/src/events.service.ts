import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { deliveryJobId, type QueueHandle, type WebhookJobData } from '@brine/queue';
import { QuietLog } from './dependency-errors';
import { WEBHOOK_QUEUE_TOKEN } from './tokens';

export { EVENT_TYPES, type EventType } from '@brine/contracts';
import type { EventType } from '@brine/contracts';

/**
 * The outbox: every event is a row written in the same transaction as the change it reports, so no verdict,
 * version or tag move exists without its event. After the commit the writer nudges the dispatcher; a missed nudge
 * only delays delivery until the reconciler's next pass.
 */
@Injectable()
export class EventsService implements OnModuleDestroy {
  private readonly quiet = new QuietLog(new Logger('Events'));

  constructor(
    private readonly db: DataSource,
    @Inject(WEBHOOK_QUEUE_TOKEN) private readonly queue: QueueHandle<WebhookJobData>,
  ) {}

  async record(
    tx: EntityManager,
    type: EventType,
    checkpoint: string | null,
    payload: Record<string, unknown>,
  ): Promise<string> {
    // every payload names its checkpoint (and its version, where there is one): a receiver acting on a tag move
    // or a new version must be able to tell which model it is about
    const data = checkpoint === null ? payload : { checkpoint, ...payload };
    const [row] = (await tx.query(
      `INSERT INTO events (type, checkpoint, payload) VALUES ($1, $2, $3) RETURNING id`,
      [type, checkpoint, JSON.stringify(data)],
    )) as Array<{ id: string }>;
    return row.id;
  }

  /** after a commit that recorded events: have a worker turn them into deliveries now */
  async nudge(): Promise<void> {
    try {
      await (
        await this.queue.get()
      ).add('dispatch', { kind: 'dispatch' }, { jobId: `dispatch-${randomUUID()}` });
    } catch (e) {
      this.quiet.warn(
        'nudge',
        `could not nudge the webhook dispatcher (the reconciler will): ${(e as Error).message}`,
      );
    }
  }

  /** queues the next attempt of a delivery, after `delayMs` */
  async schedule(deliveryId: string, delayMs = 0): Promise<void> {
    const [d] = (await this.db.query('SELECT attempt_count FROM webhook_deliveries WHERE id = $1', [
      deliveryId,
    ])) as Array<{ attempt_count: number }>;
    if (!d) return;
    try {
      await (
        await this.queue.get()
      ).add(
        'deliver',
        { kind: 'deliver', deliveryId },
        { jobId: deliveryJobId(deliveryId, d.attempt_count + 1), delay: Math.max(0, delayMs) },
      );
    } catch (e) {
      this.quiet.warn(
        'schedule',
        `could not queue delivery ${deliveryId} (the reconciler will): ${(e as Error).message}`,
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
  }
}
