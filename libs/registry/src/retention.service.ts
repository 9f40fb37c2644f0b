import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  RetentionLogRepository,
  RetentionRulesRepository,
  VersionsRepository,
  type RetentionCandidate,
} from '@brine/persistence';
import type { RetentionPlan, RetentionRule } from '@brine/contracts';
import { CheckpointsService } from './checkpoints.service';

/**
 * The planner: what `rule` deletes of a checkpoint's versions (newest first), each with its reason. Versions still
 * being scanned are never deleted. The saved rule's dry run, the preview of a rule not saved and the real pass all
 * decide with this.
 */
export function planRetention(rule: RetentionRule, versions: RetentionCandidate[]): RetentionPlan {
  const remove: RetentionPlan['delete'] = [];
  versions.forEach((v, i) => {
    if (v.scan_status === 'pending' || v.scan_status === 'scanning') return;
    if (rule.keepTagged && v.tagged) return;
    const reasons: string[] = [];
    if (rule.keepNewest !== null && i >= rule.keepNewest)
      reasons.push(`not among the newest ${rule.keepNewest}`);
    const unsafe = v.scan_status === 'failed' || v.verdict !== 'safe';
    if (rule.deleteUnsafeAfterDays !== null && unsafe && Number(v.age_days) >= rule.deleteUnsafeAfterDays)
      reasons.push(`${v.verdict ?? v.scan_status}, older than ${rule.deleteUnsafeAfterDays} days`);
    if (reasons.length) remove.push({ version: v.version, reason: reasons.join('; ') });
  });
  return { rule, delete: remove, keep: versions.length - remove.length };
}

/**
 * Retention rules per checkpoint: keep the newest N, keep tagged versions, delete versions that are not safe after
 * N days. `plan` is the dry run; `applyAll` (a reconciler pass in the worker) deletes what the plans list, each
 * deletion with its file and twin, an audit entry and a version.deleted event. Versions still being scanned are
 * never deleted.
 */
@Injectable()
export class RetentionService {
  private readonly log = new Logger('Retention');

  constructor(
    private readonly db: DataSource,
    private readonly checkpoints: CheckpointsService,
    private readonly rules: RetentionRulesRepository,
    private readonly retentionLog: RetentionLogRepository,
    private readonly versions: VersionsRepository,
  ) {}

  async set(name: string, rule: RetentionRule): Promise<RetentionPlan> {
    const id = await this.checkpoints.checkpointId(name);
    await this.rules.set(id, rule.keepNewest, rule.keepTagged, rule.deleteUnsafeAfterDays);
    return this.plan(name);
  }

  async clear(name: string): Promise<void> {
    await this.rules.clear(await this.checkpoints.checkpointId(name));
  }

  /** the rule and what it would delete now (nothing is deleted) */
  async plan(name: string): Promise<RetentionPlan> {
    return this.evaluate(this.db.manager, await this.checkpoints.checkpointId(name));
  }

  /** what `rule` would delete now if it were the checkpoint's rule: the dry run of a rule not saved */
  async preview(name: string, rule: RetentionRule): Promise<RetentionPlan> {
    const id = await this.checkpoints.checkpointId(name);
    return planRetention(rule, await this.versions.retentionCandidates(id));
  }

  /**
   * What the checkpoint's rule deletes now, each with its reason: the dry run, and the check a deletion makes again
   * in its own transaction (`m`), under the checkpoint's lock, just before it deletes.
   */
  private async evaluate(m: EntityManager, id: string): Promise<RetentionPlan> {
    const r = await this.rules.in(m).of(id);
    const versions = await this.versions.in(m).retentionCandidates(id);
    if (!r) return { rule: null, delete: [], keep: versions.length };
    const rule: RetentionRule = {
      keepNewest: r.keep_newest,
      keepTagged: r.keep_tagged,
      deleteUnsafeAfterDays: r.delete_unsafe_after_days,
    };
    return planRetention(rule, versions);
  }

  async history(name: string, limit: number) {
    const rows = await this.retentionLog.history(name, limit);
    return rows.map((r) => ({
      version: r.version,
      sha256: r.sha256,
      reason: r.reason,
      deletedAt: r.deleted_at.toISOString(),
    }));
  }

  /**
   * Applies every checkpoint's rule (a reconciler pass). The plan made at the start only picks candidates: each
   * deletion decides again in its own transaction, under the lock tag moves and rescans take, so a version tagged
   * or rescanned while the pass runs stays.
   */
  async applyAll(): Promise<void> {
    for (const name of await this.rules.checkpointNames()) {
      const plan = await this.plan(name);
      for (const d of plan.delete) {
        let reason: string | null = null;
        const recheck = async (tx: EntityManager, checkpointId: string) =>
          (reason =
            (await this.evaluate(tx, checkpointId)).delete.find((x) => x.version === d.version)?.reason ??
            null);
        const deleted = await this.checkpoints
          .remove(name, d.version, null, { recheck })
          .catch((e: unknown) => {
            if (e instanceof NotFoundException) return false; // deleted meanwhile
            throw e;
          });
        if (deleted) this.log.log(`retention deleted ${name}:${d.version} (${reason ?? d.reason})`);
        else this.log.log(`retention kept ${name}:${d.version}: the rule no longer deletes it`);
      }
    }
  }
}
