import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { ensureJob, scanJobId, type QueueHandle, type ScanJobData } from '@brine/queue';
import { QuietLog, SCAN_QUEUE_TOKEN } from '@brine/runtime';

/**
 * Queues scans. A failure to reach Redis is not an error for the caller: the version row is already committed
 * as pending, and the reconciler re-queues every pending scan (the queue's connection fails fast, so a Redis
 * outage never holds up an upload).
 */
@Injectable()
export class ScanQueueService implements OnModuleDestroy {
  private readonly quiet = new QuietLog(new Logger('ScanQueue'));

  constructor(@Inject(SCAN_QUEUE_TOKEN) private readonly handle: QueueHandle<ScanJobData>) {}

  /** the scan queue (BullMQ), for operations this service does not wrap: pausing, counting */
  queue(): Promise<Queue<ScanJobData>> {
    return this.handle.get();
  }

  /**
   * Makes sure a live job exists for this scan: adds it, or replaces a job of the same id that has already
   * completed or failed (a job id is kept for a day after it fails, so re-adding alone would be a no-op and the
   * version would stay pending forever).
   */
  async enqueue(versionId: string, generation: number): Promise<boolean> {
    const jobId = scanJobId(versionId, generation);
    try {
      const queue = await this.handle.get();
      await ensureJob(queue, jobId, () => queue.add('scan', { versionId, generation }, { jobId }));
      return true;
    } catch (e) {
      this.quiet.warn(
        'enqueue',
        `could not queue the scan of ${versionId} (the reconciler will): ${(e as Error).message}`,
      );
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle.close();
  }
}
