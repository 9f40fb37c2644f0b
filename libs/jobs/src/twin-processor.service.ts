import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Config } from '@brine/config';
import { TwinsRepository, VersionsRepository } from '@brine/persistence';
import type { TwinJobData } from '@brine/queue';
import { scan, SCANNER_VERSION } from '@brine/scanner';
import { ObjectStore } from '@brine/storage';
import { prepareTwin } from '@brine/twin';
import { PolicyService } from '@brine/registry';
import { CONFIG } from '@brine/runtime';
import { twinObjectKey } from './twin-queue.service';

export type TwinOutcome = 'done' | 'skipped' | 'stale' | 'gone';

/** how often a running conversion touches its row (the reconciler re-queues one silent for 4 of these) */
export const TWIN_HEARTBEAT_MS = 10_000;

/** a converting twin whose worker has not beaten for this long is taken over (4 heartbeats) */
export const TWIN_STALE_SECONDS = (TWIN_HEARTBEAT_MS * 4) / 1000;

/** a conversion started this many times without finishing is given up (status failed) */
const MAX_TWIN_ATTEMPTS = 6;

/**
 * Writes the safetensors twin of a safe version: scans the original again (the twin is made from exactly what
 * that scan read, and only if it is still safe), plans the twin from the scan's view of the file, streams each
 * tensor's bytes by range reads into a multipart upload that hashes them, then scans the twin like any upload.
 * Nothing but the storage records' bytes is read; memory is one chunk plus, for a non-contiguous view, its span.
 */
@Injectable()
export class TwinProcessor {
  private readonly log = new Logger('Twin');

  constructor(
    private readonly versions: VersionsRepository,
    private readonly twins: TwinsRepository,
    private readonly store: ObjectStore,
    private readonly policy: PolicyService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async process(job: TwinJobData): Promise<TwinOutcome> {
    const v = await this.versions.findWithCheckpoint(job.versionId);
    if (!v || !v.checkpoint || !v.twin) return 'gone';
    // claim the row: pending, or converting by a worker whose heartbeat stopped
    const attempt = await this.twins.claim(v.id, TWIN_STALE_SECONDS);
    if (attempt === null) return 'stale';
    if (attempt > MAX_TWIN_ATTEMPTS) {
      await this.markFailed(job, `it was started ${attempt - 1} times without finishing`);
      return 'skipped';
    }
    const label = `${v.checkpoint.name}:${v.version}`;
    if (v.scanStatus !== 'done' || v.verdict !== 'safe')
      return this.skip(v.id, attempt, `the version is not safe (${v.verdict ?? v.scanStatus})`);

    const started = Date.now();
    const allow = await this.policy.names();
    const prep = await prepareTwin(
      this.store.rangeSource(v.objectKey, v.size),
      {
        path: label,
        filename: v.filename ?? undefined,
        sha256: v.sha256,
        target: this.config.scanTarget,
        allow,
        failOnReadError: true,
      },
      {
        'brine.source': label,
        'brine.source_sha256': v.sha256,
        'brine.converter': `brine scanner ${SCANNER_VERSION}`,
      },
    );
    if (prep.plan === null) return this.skip(v.id, attempt, prep.reason);
    const plan = prep.plan;
    const key = twinObjectKey(v.id);
    let beat = Date.now();
    const result = await this.store.upload(key, prep.bytes(), plan.layout.size, () => {
      if (Date.now() - beat < TWIN_HEARTBEAT_MS) return;
      beat = Date.now();
      void this.twins.heartbeat(v.id).catch(() => undefined);
    });
    if (result.size !== plan.layout.size)
      throw new Error(`the twin came out ${result.size} bytes, its layout says ${plan.layout.size}`);
    const own = await scan(this.store.rangeSource(key, result.size), {
      path: `${label} (safetensors twin)`,
      filename: 'twin.safetensors',
      sha256: result.sha256,
      target: this.config.scanTarget,
      allow,
      failOnReadError: true,
    });
    const updated = await this.twins.complete(v.id, attempt, {
      objectKey: key,
      sha256: result.sha256,
      size: result.size,
      tensors: plan.layout.tensors.length,
      aliases: plan.aliases,
      leftOut: plan.leftOut,
      verdict: own.verdict,
      error: own.verdict === 'safe' ? null : `the twin's scan: ${own.summary}`.slice(0, 1000),
    });
    if (!updated) return 'stale';
    this.log.log(
      `${label} → safetensors twin: ${plan.layout.tensors.length} tensors, ${result.size} bytes, ` +
        `${plan.leftOut.length} left out, scanned ${own.verdict}, in ${Date.now() - started} ms`,
    );
    return 'done';
  }

  private async skip(versionId: string, attempt: number, reason: string): Promise<TwinOutcome> {
    await this.twins.skip(versionId, attempt, reason);
    this.log.log(`no safetensors twin for ${versionId}: ${reason}`);
    return 'skipped';
  }

  /**
   * The conversion stopped (a dependency failed, or an error BullMQ will retry): the row goes back to pending so the
   * next try can claim it. A dependency's outage does not count as an attempt (an outage never makes a twin fail).
   */
  async release(job: TwinJobData, message: string, outage = false): Promise<void> {
    await this.twins.release(job.versionId, message, outage);
  }

  /** the last attempt failed for a reason other than an outage */
  async markFailed(job: TwinJobData, message: string): Promise<void> {
    await this.twins.markFailed(job.versionId, `the conversion failed: ${message}`);
  }
}
