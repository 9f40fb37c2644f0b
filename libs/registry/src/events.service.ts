import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DeliveriesRepository, EventsRepository } from '@brine/persistence';
import { deliveryJobId, type QueueHandle, type WebhookJobData } from '@brine/queue';
import { QuietLog, WEBHOOK_QUEUE_TOKEN } from '@brine/runtime';

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
    private readonly rows: EventsRepository,
    private readonly deliveries: DeliveriesRepository,
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
    return this.rows.in(tx).record(type, checkpoint, data);
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
    const attempts = await this.deliveries.attemptCount(deliveryId);
    if (attempts === null) return;
    try {
      await (
        await this.queue.get()
      ).add(
        'deliver',
        { kind: 'deliver', deliveryId },
        { jobId: deliveryJobId(deliveryId, attempts + 1), delay: Math.max(0, delayMs) },
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
