import { CardTable } from './table-repository';
import { lineageConditions, type LineageFilter } from './versions.repository';

/** a checkpoint's best rule as stored (the shape @brine/contracts' BestRule validates) */
export interface StoredBestRule {
  metric: string;
  mode: 'min' | 'max';
}

export interface CheckpointLock {
  id: string;
  name: string;
  best_rule: StoredBestRule | null;
}

export interface CheckpointSummaryRow {
  name: string;
  created_at: Date;
  versions: number;
  last_upload: Date | null;
  latest: string | null;
  best: string | null;
  safe: number;
  suspicious: number;
  dangerous: number;
  unknown: number;
  pending: number;
}

export interface CheckpointFilter {
  /** exact name */
  name?: string;
  /** a substring of the name (LIKE wildcards are taken literally) */
  q?: string;
  /** names after this one (keyset paging) */
  after?: string;
  /** checkpoints with a version of this verdict; `pending`: with a version not scanned yet */
  verdict?: 'safe' | 'suspicious' | 'dangerous' | 'unknown' | 'pending';
  /** checkpoints with a version that matches this lineage search */
  lineage?: LineageFilter;
}

/** The `checkpoints` table: names, their row lock (the lock every tag move takes), best rules, cards. */
export class CheckpointsRepository extends CardTable {
  protected readonly table = 'checkpoints';

  /** the checkpoint's id, creating it; on a conflict the row is locked like an update (an upload's first step) */
  async upsert(name: string): Promise<string> {
    const [{ id }] = await this.rows<{ id: string }>(
      `INSERT INTO checkpoints (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
      [name],
    );
    return id;
  }

  /** creates the checkpoint unless it exists (a best rule may come before the first version) */
  async create(name: string): Promise<void> {
    await this.m.query('INSERT INTO checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
  }

  async idOf(name: string): Promise<string | null> {
    const [c] = await this.rows<{ id: string }>('SELECT id FROM checkpoints WHERE name = $1', [name]);
    return c?.id ?? null;
  }

  /** the checkpoint's id and best rule; with `lock`, under its row lock */
  async find(name: string, lock = false): Promise<{ id: string; best_rule: StoredBestRule | null } | null> {
    const [c] = await this.rows<{ id: string; best_rule: StoredBestRule | null }>(
      `SELECT id, best_rule FROM checkpoints WHERE name = $1 ${lock ? 'FOR UPDATE' : ''}`,
      [name],
    );
    return c ?? null;
  }

  /** takes the checkpoint's row lock by name; null when there is no such checkpoint */
  async lockByName(name: string): Promise<string | null> {
    const [c] = await this.rows<{ id: string }>('SELECT id FROM checkpoints WHERE name = $1 FOR UPDATE', [
      name,
    ]);
    return c?.id ?? null;
  }

  /** takes the checkpoint's row lock by id */
  async lock(id: string): Promise<CheckpointLock | null> {
    const [c] = await this.rows<CheckpointLock>(
      'SELECT id, name, best_rule FROM checkpoints WHERE id = $1 FOR UPDATE',
      [id],
    );
    return c ?? null;
  }

  /** takes the row lock of the checkpoint a version belongs to */
  async lockOfVersion(versionId: string): Promise<CheckpointLock | null> {
    const [c] = await this.rows<CheckpointLock>(
      `SELECT c.id, c.name, c.best_rule FROM checkpoints c JOIN versions v ON v.checkpoint_id = c.id WHERE v.id = $1 FOR UPDATE OF c`,
      [versionId],
    );
    return c ?? null;
  }

  async setBestRule(id: string, rule: StoredBestRule | null): Promise<void> {
    await this.m.query('UPDATE checkpoints SET best_rule = $2 WHERE id = $1', [
      id,
      rule === null ? null : JSON.stringify(rule),
    ]);
  }

  /** checkpoints with their version counts, latest and best versions and verdict counts, by name */
  async summaries(f: CheckpointFilter, limit: number): Promise<CheckpointSummaryRow[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (f.name !== undefined) {
      params.push(f.name);
      where.push(`c.name = $${params.length}`);
    }
    if (f.q) {
      params.push(`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`c.name ILIKE $${params.length}`);
    }
    if (f.after) {
      params.push(f.after);
      where.push(`c.name > $${params.length}`);
    }
    if (f.verdict === 'pending') {
      where.push(
        `EXISTS (SELECT 1 FROM versions x WHERE x.checkpoint_id = c.id AND x.scan_status IN ('pending', 'scanning'))`,
      );
    } else if (f.verdict) {
      params.push(f.verdict);
      where.push(
        `EXISTS (SELECT 1 FROM versions x WHERE x.checkpoint_id = c.id AND x.verdict = $${params.length} AND x.scan_status = 'done')`,
      );
    }
    const lineage = f.lineage ? lineageConditions('x', 'c', f.lineage, params) : [];
    if (lineage.length)
      where.push(
        `EXISTS (SELECT 1 FROM versions x WHERE x.checkpoint_id = c.id AND ${lineage.join(' AND ')})`,
      );
    return this.rows<CheckpointSummaryRow>(
      `SELECT c.name, c.created_at,
              count(v.id)::int AS versions,
              max(v.created_at) AS last_upload,
              (SELECT x.version FROM versions x WHERE x.checkpoint_id = c.id ORDER BY x.created_at DESC, x.version DESC LIMIT 1) AS latest,
              (SELECT x.version FROM tags t JOIN versions x ON x.id = t.version_id WHERE t.checkpoint_id = c.id AND t.name = 'best') AS best,
              count(v.id) FILTER (WHERE v.scan_status = 'done' AND v.verdict = 'safe')::int AS safe,
              count(v.id) FILTER (WHERE v.scan_status = 'done' AND v.verdict = 'suspicious')::int AS suspicious,
              count(v.id) FILTER (WHERE v.scan_status = 'done' AND v.verdict = 'dangerous')::int AS dangerous,
              count(v.id) FILTER (WHERE (v.scan_status = 'done' AND v.verdict = 'unknown') OR v.scan_status = 'failed')::int AS unknown,
              count(v.id) FILTER (WHERE v.scan_status IN ('pending', 'scanning'))::int AS pending
         FROM checkpoints c LEFT JOIN versions v ON v.checkpoint_id = c.id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        GROUP BY c.id ORDER BY c.name LIMIT $${params.length + 1}`,
      [...params, limit],
    );
  }
}
