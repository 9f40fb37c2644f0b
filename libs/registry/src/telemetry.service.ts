import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HealthService } from './health.service';
import { ScanQueueService } from '@brine/jobs/producers';
import { QueueHandle, type WebhookJobData } from '@brine/queue';
import { WEBHOOK_QUEUE_TOKEN } from '@brine/runtime';

type CountableQueue = Pick<Queue<unknown>, 'getJobCounts' | 'getJobs'>;

/**
 * Prometheus metrics (prom-client), served at /metrics by the API and by each worker's health server. Counters
 * are per process (Prometheus sums them); queue depth, the age of the oldest waiting job and dependency health
 * are read when scraped.
 */
@Injectable()
export class TelemetryService {
  readonly registry = new Registry();

  readonly uploads = new Counter({
    name: 'brine_uploads_total',
    help: 'PUTs of checkpoint versions, by result (created, existing, rejected)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly uploadBytes = new Counter({
    name: 'brine_upload_bytes_total',
    help: 'bytes stored by uploads that created a version',
    registers: [this.registry],
  });
  readonly scanDuration = new Histogram({
    name: 'brine_scan_duration_seconds',
    help: 'time to scan one version, by format',
    labelNames: ['format'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly verdicts = new Counter({
    name: 'brine_scan_verdicts_total',
    help: 'finished scans, by verdict (safe, suspicious, dangerous, unknown)',
    labelNames: ['verdict'] as const,
    registers: [this.registry],
  });
  readonly deliveries = new Counter({
    name: 'brine_webhook_deliveries_total',
    help: 'webhook delivery attempts, by outcome (succeeded, retrying, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly health: HealthService,
    private readonly scans: ScanQueueService,
    @Inject(WEBHOOK_QUEUE_TOKEN) private readonly webhooks: QueueHandle<WebhookJobData>,
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'brine_process_' });
    // collect() runs with the gauge as `this`; these reach the service
    const queueCounts = () => this.queueCounts();
    const oldestAges = () => this.oldestAges();
    const check = () => this.health.check();
    new Gauge({
      name: 'brine_queue_jobs',
      help: 'jobs in each queue, by state',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        for (const [queue, counts] of await queueCounts())
          for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
      },
    });
    new Gauge({
      name: 'brine_queue_oldest_job_age_seconds',
      help: 'how long the oldest waiting job of each queue has waited (0 when none waits)',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      async collect() {
        for (const [queue, age] of await oldestAges()) this.set({ queue }, age);
      },
    });
    new Gauge({
      name: 'brine_dependency_up',
      help: '1 when the dependency answered the last health check, else 0',
      labelNames: ['dependency'] as const,
      registers: [this.registry],
      async collect() {
        const r = await check();
        for (const [dep, c] of Object.entries(r.checks)) this.set({ dependency: dep }, c.ok ? 1 : 0);
      },
    });
  }

  /** the queues this process can read now (while Redis is down, none: their gauges sit out that scrape) */
  private async queues(): Promise<Array<[string, CountableQueue]>> {
    const out: Array<[string, CountableQueue]> = [];
    for (const [name, get] of [
      ['scans', () => this.scans.queue()],
      ['webhooks', () => this.webhooks.get()],
    ] as const) {
      try {
        out.push([name, await get()]);
      } catch {
        /* Redis unavailable */
      }
    }
    return out;
  }

  private async queueCounts(): Promise<Array<[string, Record<string, number>]>> {
    const out: Array<[string, Record<string, number>]> = [];
    for (const [name, q] of await this.queues()) {
      try {
        out.push([name, await q.getJobCounts('waiting', 'active', 'delayed', 'failed')]);
      } catch {
        /* Redis unavailable */
      }
    }
    return out;
  }

  private async oldestAges(): Promise<Array<[string, number]>> {
    const out: Array<[string, number]> = [];
    for (const [name, q] of await this.queues()) {
      try {
        const [oldest] = await q.getJobs(['waiting'], 0, 0, true);
        out.push([name, oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0]);
      } catch {
        /* Redis unavailable */
      }
    }
    return out;
  }

  /** the exposition text and its content type */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
