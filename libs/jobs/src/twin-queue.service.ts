import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { ensureJob, twinJobId, type QueueHandle, type TwinJobData } from '@brine/queue';
import { QuietLog, TWIN_QUEUE_TOKEN } from '@brine/runtime';

/** where a version's safetensors twin is stored */
export function twinObjectKey(versionId: string): string {
  return `twins/${versionId}.safetensors`;
}

/**
 * Queues safetensors conversions. Like scans, the `twins` row is the work and the job only a reminder: a failure to
 * reach Redis returns false and the reconciler queues the row later.
 */
@Injectable()
export class TwinQueueService implements OnModuleDestroy {
  private readonly quiet = new QuietLog(new Logger('TwinQueue'));

  constructor(@Inject(TWIN_QUEUE_TOKEN) private readonly handle: QueueHandle<TwinJobData>) {}

  async enqueue(versionId: string, attempt: number): Promise<boolean> {
    const jobId = twinJobId(versionId, attempt);
    try {
      const queue = await this.handle.get();
      await ensureJob(queue, jobId, () => queue.add('twin', { versionId, attempt }, { jobId }));
      return true;
    } catch (e) {
      this.quiet.warn(
        'enqueue',
        `could not queue the safetensors twin of ${versionId} (the reconciler will): ${(e as Error).message}`,
      );
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.handle.close();
  }
}
