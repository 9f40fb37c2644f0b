import { BadRequestException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { BestRule, TagMove, TagView } from '@brine/contracts';
import type { TokenEntity, VersionEntity } from '@brine/persistence';

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
  ) {}

  async tagsOf(versionId: string): Promise<string[]> {
    const rows = (await this.db.query('SELECT name FROM tags WHERE version_id = $1 ORDER BY name', [
      versionId,
    ])) as Array<{ name: string }>;
    return rows.map((r) => r.name);
  }

  async tagsOfMany(versionIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (versionIds.length === 0) return out;
    const rows = (await this.db.query(
      'SELECT version_id, name FROM tags WHERE version_id = ANY($1) ORDER BY name',
      [versionIds],
    )) as Array<{
      version_id: string;
      name: string;
    }>;
    for (const r of rows) out.set(r.version_id, [...(out.get(r.version_id) ?? []), r.name]);
    return out;
  }

  private async checkpoint(
    m: EntityManager,
    name: string,
    lock = false,
  ): Promise<{ id: string; bestRule: BestRule | null }> {
    checkName('name', name);
    const rows = (await m.query(
      `SELECT id, best_rule FROM checkpoints WHERE name = $1 ${lock ? 'FOR UPDATE' : ''}`,
      [name],
    )) as Array<{
      id: string;
      best_rule: BestRule | null;
    }>;
    if (rows.length === 0) throw new NotFoundException(`no checkpoint named ${name}`);
    return { id: rows[0].id, bestRule: rows[0].best_rule };
  }

  async list(name: string): Promise<TagView[]> {
    const c = await this.checkpoint(this.db.manager, name);
    const rows = (await this.db.query(
      `SELECT t.name, v.version, t.updated_at FROM tags t JOIN versions v ON v.id = t.version_id WHERE t.checkpoint_id = $1 ORDER BY t.name`,
      [c.id],
    )) as Array<{ name: string; version: string; updated_at: Date }>;
    return rows.map((r) => ({ tag: r.name, version: r.version, updatedAt: r.updated_at.toISOString() }));
  }

  /** the version a tag points at */
  async resolve(name: string, tag: string): Promise<string> {
    checkTag(tag);
    const c = await this.checkpoint(this.db.manager, name);
    const rows = (await this.db.query(
      `SELECT v.version FROM tags t JOIN versions v ON v.id = t.version_id WHERE t.checkpoint_id = $1 AND t.name = $2`,
      [c.id, tag],
    )) as Array<{ version: string }>;
    if (rows.length === 0) throw new NotFoundException(`checkpoint ${name} has no tag ${tag}`);
    return rows[0].version;
  }

  async history(name: string, limit = 200): Promise<TagMove[]> {
    const c = await this.checkpoint(this.db.manager, name);
    const rows = (await this.db.query(
      `SELECT h.tag, h.from_version, h.to_version, h.actor, t.name AS token_name, h.reason, h.created_at
         FROM tag_history h LEFT JOIN tokens t ON t.id = h.token_id
        WHERE h.checkpoint_id = $1 ORDER BY h.id DESC LIMIT $2`,
      [c.id, limit],
    )) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      tag: r.tag as string,
      from: (r.from_version as string | null) ?? null,
      to: (r.to_version as string | null) ?? null,
      actor: r.actor as TagMove['actor'],
      token: (r.token_name as string | null) ?? null,
      reason: r.reason as string,
      at: (r.created_at as Date).toISOString(),
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
      const rows = (await tx.query(
        'SELECT id, scan_status, verdict FROM versions WHERE checkpoint_id = $1 AND version = $2',
        [c.id, version],
      )) as Array<{ id: string; scan_status: string; verdict: string | null }>;
      if (rows.length === 0) throw new NotFoundException(`checkpoint ${name} has no version ${version}`);
      const safe = rows[0].scan_status === 'done' && rows[0].verdict === 'safe';
      if (!safe && !acknowledgeRisk) {
        const state =
          rows[0].scan_status === 'done' || rows[0].scan_status === 'failed'
            ? `its verdict is ${rows[0].verdict ?? 'unknown'}`
            : `its scan is ${rows[0].scan_status}`;
        throw new ForbiddenException(
          `${name}:${version} is not known to be safe (${state}); a tag is what deployments pull, so pointing "${tag}" at it needs "acknowledgeRisk": true`,
        );
      }
      await this.move(tx, c.id, name, tag, rows[0].id, 'manual', token, reason ?? 'moved by hand', {
        verdict: rows[0].verdict,
        ...(safe ? {} : { acknowledgedRisk: true }),
      });
    });
    await this.events.nudge();
    return { tag, version, updatedAt: new Date().toISOString() };
  }

  async remove(name: string, tag: string, token: TokenEntity | null): Promise<void> {
    checkTag(tag);
    if (MANAGED_TAGS.has(tag))
      throw new BadRequestException(`"${tag}" is managed by the registry and cannot be deleted`);
    if (tag === 'best' && !(token && grants(token.scopes, 'admin')))
      throw new ForbiddenException('deleting "best" needs the admin scope');
    await this.db.transaction(async (tx) => {
      const c = await this.checkpoint(tx, name, true);
      const exists = (await tx.query('SELECT 1 FROM tags WHERE checkpoint_id = $1 AND name = $2', [
        c.id,
        tag,
      ])) as unknown[];
      if (exists.length === 0) throw new NotFoundException(`checkpoint ${name} has no tag ${tag}`);
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
      await tx.query('INSERT INTO checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
      const c = await this.checkpoint(tx, name, true);
      await tx.query('UPDATE checkpoints SET best_rule = $2 WHERE id = $1', [c.id, JSON.stringify(rule)]);
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
      await tx.query('UPDATE checkpoints SET best_rule = NULL WHERE id = $1', [c.id]);
    });
  }

  /**
   * Re-evaluates `best` after something that can change it (a finished scan, new metrics): locks the checkpoint,
   * then picks the safe version with the best metric, ties to the earlier version.
   */
  async reevaluate(tx: EntityManager, versionId: string, reason: string): Promise<void> {
    const rows = (await tx.query(
      `SELECT c.id, c.name, c.best_rule FROM checkpoints c JOIN versions v ON v.checkpoint_id = c.id WHERE v.id = $1 FOR UPDATE OF c`,
      [versionId],
    )) as Array<{ id: string; name: string; best_rule: BestRule | null }>;
    if (rows.length === 0) return;
    await this.evaluateLatestSafe(tx, rows[0].id, rows[0].name, null, reason);
    if (rows[0].best_rule !== null)
      await this.evaluateBest(tx, rows[0].id, rows[0].name, rows[0].best_rule, null, reason);
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
    const [newest] = (await tx.query(
      `SELECT id FROM versions WHERE checkpoint_id = $1 AND scan_status = 'done' AND verdict = 'safe'
          AND ($2::uuid IS NULL OR id <> $2)
        ORDER BY created_at DESC, version DESC LIMIT 1`,
      [checkpointId, excluding],
    )) as Array<{ id: string }>;
    await this.move(
      tx,
      checkpointId,
      name,
      'latest-safe',
      newest?.id ?? null,
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
    const order = rule.mode === 'min' ? 'ASC' : 'DESC';
    const rows = (await tx.query(
      `SELECT id, version, (metrics ->> $2)::double precision AS value FROM versions
        WHERE checkpoint_id = $1 AND scan_status = 'done' AND verdict = 'safe'
          AND jsonb_typeof(metrics -> $2) = 'number'
        ORDER BY value ${order}, created_at ASC, version ASC LIMIT 1`,
      [checkpointId, rule.metric],
    )) as Array<{ id: string; version: string; value: number }>;
    const winner = rows[0] ?? null;
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
    const current = (await tx.query(
      `SELECT t.version_id, v.version FROM tags t JOIN versions v ON v.id = t.version_id WHERE t.checkpoint_id = $1 AND t.name = $2`,
      [checkpointId, tag],
    )) as Array<{ version_id: string; version: string }>;
    const from = current[0] ?? null;
    if ((from?.version_id ?? null) === versionId) return;
    let to: string | null = null;
    if (versionId === null)
      await tx.query('DELETE FROM tags WHERE checkpoint_id = $1 AND name = $2', [checkpointId, tag]);
    else {
      const [v] = (await tx.query('SELECT version FROM versions WHERE id = $1', [versionId])) as Array<{
        version: string;
      }>;
      to = v.version;
      await tx.query(
        `INSERT INTO tags (checkpoint_id, name, version_id, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (checkpoint_id, name) DO UPDATE SET version_id = EXCLUDED.version_id, updated_at = now()`,
        [checkpointId, tag, versionId],
      );
    }
    await tx.query(
      `INSERT INTO tag_history (checkpoint_id, tag, from_version, to_version, actor, token_id, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [checkpointId, tag, from?.version ?? null, to, actor, token?.id ?? null, reason],
    );
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
    const [c] = (await tx.query('SELECT name FROM checkpoints WHERE id = $1 FOR UPDATE', [
      checkpointId,
    ])) as Array<{ name: string }>;
    const [newest] = (await tx.query(
      'SELECT id FROM versions WHERE checkpoint_id = $1 ORDER BY created_at DESC, version DESC LIMIT 1',
      [checkpointId],
    )) as Array<{ id: string }>;
    await this.move(
      tx,
      checkpointId,
      c.name,
      'latest',
      newest.id,
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
    const [c] = (await tx.query('SELECT id, best_rule FROM checkpoints WHERE id = $1 FOR UPDATE', [
      v.checkpointId,
    ])) as Array<{
      id: string;
      best_rule: BestRule | null;
    }>;
    const tags = (await tx.query('SELECT name FROM tags WHERE version_id = $1', [v.id])) as Array<{
      name: string;
    }>;
    for (const { name: tag } of tags) {
      if (tag === 'latest-safe') {
        await this.evaluateLatestSafe(tx, c.id, v.name, token, `version ${v.version} was deleted`, v.id);
      } else if (tag === 'latest') {
        const next = (await tx.query(
          'SELECT id FROM versions WHERE checkpoint_id = $1 AND id <> $2 ORDER BY created_at DESC, version DESC LIMIT 1',
          [c.id, v.id],
        )) as Array<{ id: string }>;
        await this.move(
          tx,
          c.id,
          v.name,
          'latest',
          next[0]?.id ?? null,
          'latest',
          token,
          `version ${v.version} was deleted`,
        );
      } else
        await this.move(tx, c.id, v.name, tag, null, 'system', token, `version ${v.version} was deleted`);
    }
    if (c.best_rule && tags.some((t) => t.name === 'best')) {
      // evaluate as if the version were gone: hide it from the query by marking it first
      await tx.query(`UPDATE versions SET verdict = NULL WHERE id = $1`, [v.id]);
      await this.evaluateBest(tx, c.id, v.name, c.best_rule, token, `version ${v.version} was deleted`);
    }
  }
}
