import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { scanJobId, type ScanJobData } from '@brine/queue';
import { SCAN_QUEUE_TOKEN } from './tokens';

/**
 * Queues scans. A failure to reach Redis is not an error for the caller: the version row is already committed
 * as pending, and the reconciler re-queues every pending scan.
 */
@Injectable()
export class ScanQueueService implements OnModuleDestroy {
  private readonly log = new Logger('ScanQueue');

  constructor(@Inject(SCAN_QUEUE_TOKEN) readonly queue: Queue<ScanJobData>) {}

  async enqueue(versionId: string, generation: number): Promise<boolean> {
    try {
      await this.queue.add('scan', { versionId, generation }, { jobId: scanJobId(versionId, generation) });
      return true;
    } catch (e) {
      this.log.warn(
        `could not queue the scan of ${versionId} (the reconciler will): ${(e as Error).message}`,
      );
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.queue.close();
  }
}
