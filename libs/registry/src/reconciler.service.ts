import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Config } from '@brine/config';
import { ObjectStore } from '@brine/storage';
import { ScanQueueService } from './scan-queue.service';
import { CONFIG } from './tokens';

/** uploads older than this whose row remains belong to a process that died mid-upload */
const STALE_UPLOAD_HOURS = 24;

/**
 * Postgres is the truth; the queue is a work list rebuilt from it. Periodically re-adds a job for every version
 * still pending or scanning (a no-op while its job exists; after a Redis flush or a lost job it brings it back)
 * and removes the objects of uploads that never committed.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('Reconciler');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** extra work per pass (the webhook dispatcher registers itself here) */
  private readonly hooks: Array<() => Promise<void>> = [];

  constructor(
    private readonly db: DataSource,
    private readonly store: ObjectStore,
    private readonly scans: ScanQueueService,
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
    try {
      const rows = (await this.db.query(
        `SELECT id, scan_generation FROM versions WHERE scan_status IN ('pending', 'scanning') ORDER BY created_at LIMIT 10000`,
      )) as Array<{ id: string; scan_generation: number }>;
      for (const r of rows) await this.scans.enqueue(r.id, r.scan_generation);
      const stale = (await this.db.query(
        `SELECT id, object_key FROM uploads WHERE started_at < now() - make_interval(hours => $1)`,
        [STALE_UPLOAD_HOURS],
      )) as Array<{ id: string; object_key: string }>;
      for (const u of stale) {
        await this.store.delete(u.object_key).catch(() => undefined);
        await this.db.query('DELETE FROM uploads WHERE id = $1', [u.id]);
      }
      for (const hook of this.hooks) await hook();
    } catch (e) {
      this.log.warn(`reconcile pass failed: ${(e as Error).message}`);
    }
  }
}
