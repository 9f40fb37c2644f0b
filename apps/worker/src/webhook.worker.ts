import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@brine/config';
import { Reconciler } from '@brine/jobs';
import { WEBHOOK_QUEUE, type WebhookJobData } from '@brine/queue';
import { CONFIG, REDIS } from '@brine/runtime';
import { WebhookDeliveryService } from '@brine/webhooks';
import { QueueWorker } from './queue-worker';

/**
 * Webhook jobs: dispatch (events → deliveries) and deliver (one attempt). Deliveries live in Postgres; the
 * reconciler's pass dispatches events and re-queues due deliveries, so a lost job or a killed worker loses nothing.
 * A failed attempt is the delivery's row's business (its retry schedule), not the job's: no failure policy here.
 */
@Injectable()
export class WebhookWorker extends QueueWorker<WebhookJobData, string | number> {
  constructor(
    private readonly deliveries: WebhookDeliveryService,
    reconciler: Reconciler,
    @Inject(CONFIG) config: Config,
    @Inject(REDIS) redis: Redis,
  ) {
    super(
      WEBHOOK_QUEUE,
      'webhooks',
      {
        connection: redis,
        prefix: config.queuePrefix,
        concurrency: 8,
        // BullMQ renews the lock while a send is in flight; a short lock lets a dead worker's job run again soon
        lockDuration: Math.max(3000, config.webhook.timeoutMs + 2000),
        stalledInterval: Math.max(1500, Math.floor((config.webhook.timeoutMs + 2000) / 2)),
      },
      'WebhookWorker',
    );
    reconciler.addPass(async () => {
      await this.deliveries.dispatchPending();
      await this.deliveries.scheduleDue();
    });
  }

  protected override process(job: Job<WebhookJobData>): Promise<string | number> {
    const data = job.data;
    if (data.kind === 'dispatch') return this.deliveries.dispatchPending();
    return this.deliveries.deliver(data.deliveryId);
  }
}
