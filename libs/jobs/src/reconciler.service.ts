import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Config } from '@brine/config';
import {
  ObjectDeletionsRepository,
  TwinsRepository,
  UploadsRepository,
  VersionsRepository,
} from '@brine/persistence';
import { ObjectStore } from '@brine/storage';
import { ScanQueueService } from './scan-queue.service';
import { CheckpointsService, RetentionService } from '@brine/registry';
import { CONFIG, QuietLog } from '@brine/runtime';
import { TWIN_STALE_SECONDS } from './twin-processor.service';
import { TwinQueueService } from './twin-queue.service';

/** multipart uploads the store lists that no upload row accounts for are aborted after this long */
const ORPHAN_MULTIPART_MS = 3600_000;

/**
 * Postgres is the truth; the queue is a work list rebuilt from it. Periodically makes sure every version still
 * pending or scanning has a live job (after a Redis flush, a lost job or a job that failed during an outage it
 * brings it back), and sweeps what dead uploads left in the object store: their multipart parts and objects.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('Reconciler');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** extra work per pass (the webhook dispatcher registers itself here) */
  private readonly hooks: Array<() => Promise<void>> = [];

  private readonly quiet = new QuietLog(this.log, 60_000);

  constructor(
    private readonly versions: VersionsRepository,
    private readonly twinRows: TwinsRepository,
    private readonly uploads: UploadsRepository,
    private readonly deletions: ObjectDeletionsRepository,
    private readonly store: ObjectStore,
    private readonly scans: ScanQueueService,
    private readonly twins: TwinQueueService,
    private readonly retention: RetentionService,
    private readonly checkpoints: CheckpointsService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  addPass(fn: () => Promise<void>): void {
    this.hooks.push(fn);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.reconcileIntervalSeconds * 1000);
    this.timer.unref();
    void this.tick();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** one pass; concurrent calls share it */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<void> {
    for (const [what, step] of [
      ['re-queueing pending scans', () => this.requeue()],
      ['re-queueing safetensors conversions', () => this.requeueTwins()],
      ['applying retention rules', () => this.retention.applyAll()],
      ['sweeping dead uploads', () => this.sweepUploads()],
      ['deleting the objects of deleted versions', () => this.sweepDeletions()],
      ...this.hooks.map((h) => ['a reconcile step', h] as const),
    ] as const) {
      try {
        await step();
      } catch (e) {
        this.quiet.warn(what, `reconciler: ${what} failed (next pass retries): ${(e as Error).message}`);
      }
    }
  }

  private async requeue(): Promise<void> {
    const rows = await this.versions.unfinishedScans(10_000);
    for (const r of rows) if (!(await this.scans.enqueue(r.id, r.scan_generation))) return;
  }

  /** twins waiting for a conversion, or whose converting worker stopped beating */
  private async requeueTwins(): Promise<void> {
    const rows = await this.twinRows.due(TWIN_STALE_SECONDS, 10_000);
    for (const r of rows) if (!(await this.twins.enqueue(r.version_id, r.attempts))) return;
  }

  /** objects of deleted versions whose deletion did not happen at the time (the store was down, a process died) */
  async sweepDeletions(): Promise<void> {
    const rows = await this.deletions.due(this.config.uploadStaleSeconds, 1000);
    if (rows.length === 0) return;
    const deleted = await this.checkpoints.deleteObjects(rows);
    this.log.log(`deleted ${deleted} of ${rows.length} object(s) left by deleted versions`);
  }

  /**
   * Uploads whose process stopped beating (it crashed or was killed): abort the multipart upload, delete any
   * object, drop the row. Then multipart uploads the store still lists that no row accounts for, and on the
   * embedded server (which cannot abort) part folders nobody has written to lately.
   */
  async sweepUploads(): Promise<void> {
    const stale = await this.uploads.stale(this.config.uploadStaleSeconds);
    const aborted: string[] = [];
    for (const u of stale) {
      if (u.multipart_id) {
        await this.store.abortMultipart(u.object_key, u.multipart_id).catch(() => undefined);
        aborted.push(u.multipart_id);
      }
      await this.store.delete(u.object_key);
      await this.uploads.end(u.id);
    }
    const live = new Set(await this.uploads.multipartIds());
    for (const m of await this.store.multipartUploads('objects/')) {
      if (live.has(m.uploadId)) continue;
      if (m.initiated && Date.now() - m.initiated.getTime() < ORPHAN_MULTIPART_MS) continue;
      await this.store.abortMultipart(m.key, m.uploadId);
    }
    // parts of live uploads stay however slowly they arrive; others untouched for a while belong to nobody
    const freed = await this.store.discardParts({
      remove: aborted,
      keep: [...live],
      staleMs: this.config.uploadStaleSeconds * 1000 * 4,
    });
    if (stale.length > 0 || freed > 0)
      this.log.log(`swept ${stale.length} dead upload(s), ${freed} bytes of parts freed`);
  }
}
