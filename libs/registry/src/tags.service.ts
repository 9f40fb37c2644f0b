import { BadRequestException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { BestRule, TagMove, TagView } from '@brine/contracts';
import {
  CheckpointsRepository,
  TagHistoryRepository,
  TagsRepository,
  VersionsRepository,
  type TokenEntity,
  type VersionEntity,
} from '@brine/persistence';

export type { BestRule, TagMove, TagView } from '@brine/contracts';
import { EventsService } from './events.service';
import { grants } from './tokens.service';
import { checkName, TAG_PATTERN } from './validation';

/** tags the registry moves itself */
/** tags the registry moves itself: `latest` (the newest version) and `latest-safe` (the newest safe one) */
export const MANAGED_TAGS = new Set(['latest', 'latest-safe']);

export function checkTag(tag: string): string {
  if (!TAG_PATTERN.test(tag))
    throw new BadRequestException(
      `tag names are 1-64 of a-z, 0-9, ".", "_", "-"; got ${JSON.stringify(tag.slice(0, 60))}`,
    );
  return tag;
}

/**
 * Tags: mutable pointers from a name to one version. `latest` follows the newest version; `best` follows the
 * checkpoint's rule, but only onto versions whose scan verdict is safe. Every move is kept in the history and
 * emitted as a `tag.moved` event in the same transaction. Moves of one checkpoint are serialized by a row lock
 * on the checkpoint, so two scans finishing at once still leave `best` on the right version.
 */
@Injectable()
export class TagsService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventsService,
    private readonly checkpoints: CheckpointsRepository,
    private readonly versions: VersionsRepository,
    private readonly tags: TagsRepository,
    private readonly tagHistory: TagHistoryRepository,
  ) {}

  async tagsOf(versionId: string): Promise<string[]> {
    return this.tags.namesOf(versionId);
  }

  async tagsOfMany(versionIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (versionIds.length === 0) return out;
    const rows = await this.tags.namesOfMany(versionIds);
    for (const r of rows) out.set(r.version_id, [...(out.get(r.version_id) ?? []), r.name]);
    return out;
  }

  private async checkpoint(
    m: EntityManager,
    name: string,
    lock = false,
  ): Promise<{ id: string; bestRule: BestRule | null }> {
    checkName('name', name);
    const c = await this.checkpoints.in(m).find(name, lock);
    if (c === null) throw new NotFoundException(`no checkpoint named ${name}`);
    return { id: c.id, bestRule: c.best_rule };
  }

  async list(name: string): Promise<TagView[]> {
    const c = await this.checkpoint(this.db.manager, name);
    const rows = await this.tags.list(c.id);
    return rows.map((r) => ({
      tag: r.name,
      version: r.version,
      updatedAt: r.updated_at.toISOString(),
      pinned: r.pinned,
    }));
  }

  /** the version a tag points at */
  async resolve(name: string, tag: string): Promise<string> {
    checkTag(tag);
    const c = await this.checkpoint(this.db.manager, name);
    const target = await this.tags.target(c.id, tag);
    if (target === null) throw new NotFoundException(`checkpoint ${name} has no tag ${tag}`);
    return target.version;
  }

  async history(name: string, limit = 200): Promise<TagMove[]> {
    const c = await this.checkpoint(this.db.manager, name);
    const rows = await this.tagHistory.list(c.id, limit);
    return rows.map((r) => ({
      tag: r.tag,
      from: r.from_version ?? null,
      to: r.to_version ?? null,
      actor: r.actor,
      token: r.token_name ?? null,
      reason: r.reason,
      at: r.created_at.toISOString(),
      deletedByRetention: { from: r.from_retention, to: r.to_retention },
    }));
  }

  /** PUT /checkpoints/:name/tags/:tag — a manual move (moving `best` by hand needs the admin scope) */
  async set(
    name: string,
    tag: string,
    version: string,
    token: TokenEntity | null,
    reason: string | null,
    acknowledgeRisk = false,
  ): Promise<TagView> {
    checkTag(tag);
    checkName('version', version);
    if (MANAGED_TAGS.has(tag))
      throw new BadRequestException(
        `"${tag}" is moved by the registry (${tag === 'latest' ? 'the newest version' : 'the newest safe version'}) and cannot be moved by hand`,
      );
    if (tag === 'best' && !(token && grants(token.scopes, 'admin'))) {
      throw new ForbiddenException(
        'moving "best" by hand needs the admin scope; otherwise set a best rule with PUT …/best-rule',
      );
    }
    await this.db.transaction(async (tx) => {
      const c = await this.checkpoint(tx, name, true);
      const row = await this.versions.in(tx).scanState(c.id, version);
      if (row === null) throw new NotFoundException(`checkpoint ${name} has no version ${version}`);
      const safe = row.scan_status === 'done' && row.verdict === 'safe';
      if (!safe && !acknowledgeRisk) {
        const state =
          row.scan_status === 'done' || row.scan_status === 'failed'
            ? `its verdict is ${row.verdict ?? 'unknown'}`
            : `its scan is ${row.scan_status}`;
        throw new ForbiddenException(
          `${name}:${version} is not known to be safe (${state}); a tag is what deployments pull, so pointing "${tag}" at it needs "acknowledgeRisk": true`,
        );
      }
      await this.move(tx, c.id, name, tag, row.id, 'manual', token, reason ?? 'moved by hand', {
        verdict: row.verdict,
        ...(safe ? {} : { acknowledgedRisk: true }),
      });
    });
    await this.events.nudge();
    return { tag, version, updatedAt: new Date().toISOString(), pinned: tag === 'best' };
  }

  async remove(name: string, tag: string, token: TokenEntity | null): Promise<void> {
    checkTag(tag);
    if (MANAGED_TAGS.has(tag))
      throw new BadRequestException(`"${tag}" is managed by the registry and cannot be deleted`);
    if (tag === 'best' && !(token && grants(token.scopes, 'admin')))
      throw new ForbiddenException('deleting "best" needs the admin scope');
    await this.db.transaction(async (tx) => {
      const c = await this.checkpoint(tx, name, true);
      if (!(await this.tags.in(tx).exists(c.id, tag)))
        throw new NotFoundException(`checkpoint ${name} has no tag ${tag}`);
      await this.move(tx, c.id, name, tag, null, 'manual', token, 'deleted by hand');
    });
    await this.events.nudge();
  }

  async bestRule(name: string): Promise<BestRule | null> {
    return (await this.checkpoint(this.db.manager, name)).bestRule;
  }

  /** PUT /checkpoints/:name/best-rule — stores the rule and re-evaluates existing versions at once */
  async setBestRule(
    name: string,
    rule: BestRule,
    token: TokenEntity | null,
  ): Promise<{ rule: BestRule; best: string | null }> {
    const result = await this.db.transaction(async (tx) => {
      // a rule may come before the first version: the checkpoint is created for it
      checkName('name', name);
      await this.checkpoints.in(tx).create(name);
      const c = await this.checkpoint(tx, name, true);
      await this.checkpoints.in(tx).setBestRule(c.id, rule);
      // setting the rule is asking it to decide: a best pinned by hand follows the rule again
      await this.tags.in(tx).unpin(c.id, 'best');
      const best = await this.evaluateBest(
        tx,
        c.id,
        name,
        rule,
        token,
        `best rule set to ${rule.mode} ${rule.metric}`,
      );
      return { rule, best };
    });
    await this.events.nudge();
    return result;
  }

  async clearBestRule(name: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const c = await this.checkpoint(tx, name, true);
      await this.checkpoints.in(tx).setBestRule(c.id, null);
    });
  }

  /**
   * Re-evaluates `best` after something that can change it (a finished scan, new metrics): locks the checkpoint,
   * then picks the safe version with the best metric, ties to the earlier version.
   */
  async reevaluate(tx: EntityManager, versionId: string, reason: string): Promise<void> {
    const c = await this.checkpoints.in(tx).lockOfVersion(versionId);
    if (c === null) return;
    await this.evaluateLatestSafe(tx, c.id, c.name, null, reason);
    if (c.best_rule !== null) await this.evaluateBest(tx, c.id, c.name, c.best_rule, null, reason);
  }

  /** `latest-safe` follows the newest version whose verdict is safe (the one `brine pull NAME` takes) */
  private async evaluateLatestSafe(
    tx: EntityManager,
    checkpointId: string,
    name: string,
    token: TokenEntity | null,
    reason: string,
    excluding: string | null = null,
  ): Promise<void> {
    const newest = await this.versions.in(tx).newestSafe(checkpointId, excluding);
    await this.move(
      tx,
      checkpointId,
      name,
      'latest-safe',
      newest,
      'latest',
      token,
      `${reason}; latest-safe follows the newest safe version`,
    );
  }

  private async evaluateBest(
    tx: EntityManager,
    checkpointId: string,
    name: string,
    rule: BestRule,
    token: TokenEntity | null,
    reason: string,
  ): Promise<string | null> {
    // a best moved by hand stays where it was put (pinned) until the rule is set again or the tag deleted
    const pinned = await this.tags.in(tx).target(checkpointId, 'best');
    if (pinned?.pinned) return pinned.version;
    const winner = await this.versions.in(tx).bestBy(checkpointId, rule.metric, rule.mode);
    const why = winner
      ? `${reason}: ${rule.metric} = ${winner.value} is the ${rule.mode === 'min' ? 'lowest' : 'highest'} among safe versions`
      : `${reason}: no safe version has ${rule.metric}`;
    await this.move(tx, checkpointId, name, 'best', winner?.id ?? null, 'rule', token, why);
    return winner?.version ?? null;
  }

  /** points `tag` at `versionId` (or removes it), recording history and a tag.moved event when it changes */
  private async move(
    tx: EntityManager,
    checkpointId: string,
    name: string,
    tag: string,
    versionId: string | null,
    actor: TagMove['actor'],
    token: TokenEntity | null,
    reason: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const tags = this.tags.in(tx);
    const from = await tags.target(checkpointId, tag);
    // a best moved by hand is pinned: the rule leaves it alone
    const pinned = tag === 'best' && actor === 'manual';
    if ((from?.version_id ?? null) === versionId) {
      if (versionId !== null && from && from.pinned !== pinned)
        await tags.point(checkpointId, tag, versionId, pinned);
      return;
    }
    let to: string | null = null;
    if (versionId === null) await tags.remove(checkpointId, tag);
    else {
      to = await this.versions.in(tx).versionOf(versionId);
      await tags.point(checkpointId, tag, versionId, pinned);
    }
    await this.tagHistory
      .in(tx)
      .record(checkpointId, tag, from?.version ?? null, to, actor, token?.id ?? null, reason);
    // `version` names the version the tag now points at (null when it was removed), like every event
    await this.events.record(tx, 'tag.moved', name, {
      tag,
      version: to,
      from: from?.version ?? null,
      to,
      actor,
      reason,
      ...extra,
    });
  }

  /**
   * `latest` follows the newest version — the same one the checkpoint's summary calls latest (newest created_at,
   * then version), decided under the checkpoint's row lock, so concurrent uploads cannot leave it on an older one
   */
  async onVersionCreated(
    tx: EntityManager,
    checkpointId: string,
    _versionId: string,
    token: TokenEntity | null,
  ): Promise<void> {
    const c = await this.checkpoints.in(tx).lock(checkpointId);
    const newest = await this.versions.in(tx).newest(checkpointId);
    await this.move(
      tx,
      checkpointId,
      c!.name,
      'latest',
      newest,
      'latest',
      token,
      'latest follows the newest version',
    );
  }

  /** a deleted version takes its tags with it: `latest` falls back, `best` is re-evaluated, others are removed */
  async onVersionDeleted(
    tx: EntityManager,
    v: VersionEntity & { name: string },
    token: TokenEntity | null,
  ): Promise<void> {
    const c = (await this.checkpoints.in(tx).lock(v.checkpointId))!;
    const tags = await this.tags.in(tx).onVersion(v.id);
    for (const tag of tags) {
      if (tag === 'latest-safe') {
        await this.evaluateLatestSafe(tx, c.id, v.name, token, `version ${v.version} was deleted`, v.id);
      } else if (tag === 'latest') {
        const next = await this.versions.in(tx).newest(c.id, v.id);
        await this.move(
          tx,
          c.id,
          v.name,
          'latest',
          next,
          'latest',
          token,
          `version ${v.version} was deleted`,
        );
      } else
        await this.move(tx, c.id, v.name, tag, null, 'system', token, `version ${v.version} was deleted`);
    }
    if (c.best_rule && tags.includes('best')) {
      // evaluate as if the version were gone: hide it from the query by marking it first
      await this.versions.in(tx).hideVerdict(v.id);
      await this.evaluateBest(tx, c.id, v.name, c.best_rule, token, `version ${v.version} was deleted`);
    }
  }
}
