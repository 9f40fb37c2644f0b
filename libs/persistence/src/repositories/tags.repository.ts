import { TableRepository } from './table-repository';

export type TagActor = 'manual' | 'latest' | 'rule' | 'system';

/** The `tags` table: mutable pointers from a name to one version of a checkpoint. */
export class TagsRepository extends TableRepository {
  async namesOf(versionId: string): Promise<string[]> {
    const rows = await this.rows<{ name: string }>(
      'SELECT name FROM tags WHERE version_id = $1 ORDER BY name',
      [versionId],
    );
    return rows.map((r) => r.name);
  }

  async namesOfMany(versionIds: string[]): Promise<Array<{ version_id: string; name: string }>> {
    return this.rows<{ version_id: string; name: string }>(
      'SELECT version_id, name FROM tags WHERE version_id = ANY($1) ORDER BY name',
      [versionIds],
    );
  }

  /** a checkpoint's tags with the versions they point at */
  async list(
    checkpointId: string,
  ): Promise<Array<{ name: string; version: string; updated_at: Date; pinned: boolean }>> {
    return this.rows<{ name: string; version: string; updated_at: Date; pinned: boolean }>(
      `SELECT t.name, v.version, t.updated_at, t.pinned FROM tags t JOIN versions v ON v.id = t.version_id WHERE t.checkpoint_id = $1 ORDER BY t.name`,
      [checkpointId],
    );
  }

  /** the version a tag points at: its id and version name, and whether it is pinned (a best moved by hand) */
  async target(
    checkpointId: string,
    tag: string,
  ): Promise<{ version_id: string; version: string; pinned: boolean } | null> {
    const [r] = await this.rows<{ version_id: string; version: string; pinned: boolean }>(
      `SELECT t.version_id, v.version, t.pinned FROM tags t JOIN versions v ON v.id = t.version_id WHERE t.checkpoint_id = $1 AND t.name = $2`,
      [checkpointId, tag],
    );
    return r ?? null;
  }

  async exists(checkpointId: string, tag: string): Promise<boolean> {
    const r = await this.rows('SELECT 1 FROM tags WHERE checkpoint_id = $1 AND name = $2', [
      checkpointId,
      tag,
    ]);
    return r.length > 0;
  }

  /** the names of the tags pointing at a version */
  async onVersion(versionId: string): Promise<string[]> {
    const rows = await this.rows<{ name: string }>('SELECT name FROM tags WHERE version_id = $1', [
      versionId,
    ]);
    return rows.map((r) => r.name);
  }

  /** points the tag at the version; `pinned` marks a best moved by hand, which its rule then leaves alone */
  async point(checkpointId: string, tag: string, versionId: string, pinned = false): Promise<void> {
    await this.m.query(
      `INSERT INTO tags (checkpoint_id, name, version_id, updated_at, pinned) VALUES ($1, $2, $3, now(), $4)
       ON CONFLICT (checkpoint_id, name) DO UPDATE SET version_id = EXCLUDED.version_id, updated_at = now(), pinned = EXCLUDED.pinned`,
      [checkpointId, tag, versionId, pinned],
    );
  }

  /** a tag no longer pinned (the best rule was set again: it moves best from now on) */
  async unpin(checkpointId: string, tag: string): Promise<void> {
    await this.m.query('UPDATE tags SET pinned = false WHERE checkpoint_id = $1 AND name = $2', [
      checkpointId,
      tag,
    ]);
  }

  async remove(checkpointId: string, tag: string): Promise<void> {
    await this.m.query('DELETE FROM tags WHERE checkpoint_id = $1 AND name = $2', [checkpointId, tag]);
  }
}

export interface TagMoveRow {
  tag: string;
  from_version: string | null;
  to_version: string | null;
  actor: TagActor;
  token_name: string | null;
  reason: string;
  created_at: Date;
  /** retention deleted the version the move came from / went to, after the move */
  from_retention: boolean;
  to_retention: boolean;
}

/** The `tag_history` table: every move of a tag, who made it and why. */
export class TagHistoryRepository extends TableRepository {
  async record(
    checkpointId: string,
    tag: string,
    from: string | null,
    to: string | null,
    actor: TagActor,
    tokenId: string | null,
    reason: string,
  ): Promise<void> {
    await this.m.query(
      `INSERT INTO tag_history (checkpoint_id, tag, from_version, to_version, actor, token_id, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [checkpointId, tag, from, to, actor, tokenId, reason],
    );
  }

  /**
   * A checkpoint's moves, newest first, with the names of the tokens that made them, and whether retention deleted
   * the versions they name since (the retention log, by checkpoint name and version, after the move)
   */
  async list(checkpointId: string, limit: number): Promise<TagMoveRow[]> {
    const deleted = (v: string) =>
      `EXISTS (SELECT 1 FROM retention_log r WHERE r.checkpoint = c.name AND r.version = h.${v} AND r.deleted_at >= h.created_at)`;
    return this.rows<TagMoveRow>(
      `SELECT h.tag, h.from_version, h.to_version, h.actor, t.name AS token_name, h.reason, h.created_at,
              ${deleted('from_version')} AS from_retention, ${deleted('to_version')} AS to_retention
         FROM tag_history h JOIN checkpoints c ON c.id = h.checkpoint_id LEFT JOIN tokens t ON t.id = h.token_id
        WHERE h.checkpoint_id = $1 ORDER BY h.id DESC LIMIT $2`,
      [checkpointId, limit],
    );
  }
}
