import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '@brine/config';
import { WEBHOOK_QUEUE, type WebhookJobData } from '@brine/queue';
import { Reconciler } from '@brine/jobs';
import { CONFIG, REDIS } from '@brine/runtime';
import { WebhookDeliveryService } from '@brine/webhooks';

/**
 * Webhook jobs: dispatch (events → deliveries) and deliver (one attempt). Deliveries live in Postgres; the
 * reconciler's pass dispatches events and re-queues due deliveries, so a lost job or a killed worker loses nothing.
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('WebhookWorker');
  private worker: Worker<WebhookJobData> | null = null;

  constructor(
    private readonly deliveries: WebhookDeliveryService,
    private readonly reconciler: Reconciler,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  onApplicationBootstrap(): void {
    this.reconciler.addPass(async () => {
      await this.deliveries.dispatchPending();
      await this.deliveries.scheduleDue();
    });
    this.worker = new Worker<WebhookJobData>(WEBHOOK_QUEUE, (job) => this.run(job), {
      connection: this.redis,
      prefix: this.config.queuePrefix,
      concurrency: 8,
      // BullMQ renews the lock while a send is in flight; a short lock lets a dead worker's job run again soon
      lockDuration: Math.max(3000, this.config.webhook.timeoutMs + 2000),
      stalledInterval: Math.max(1500, Math.floor((this.config.webhook.timeoutMs + 2000) / 2)),
    });
    this.worker.on('error', (e) => this.log.warn(`worker: ${e.message}`));
  }

  private async run(job: Job<WebhookJobData>): Promise<string | number> {
    const data = job.data;
    if (data.kind === 'dispatch') return this.deliveries.dispatchPending();
    return this.deliveries.deliver(data.deliveryId);
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
  }
}
