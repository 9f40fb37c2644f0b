import { VersionEntity } from '../entities/version.entity';
import { CardTable } from './table-repository';

/** what an upload commits: the version row, pending its scan */
export interface NewVersion {
  checkpointId: string;
  version: string;
  sha256: string;
  size: number;
  objectKey: string;
  filename: string | null;
  frameworkVersion: string | null;
  metadata: Record<string, unknown>;
  metrics: Record<string, number>;
  uploadedBy: string | null;
  lineage: VersionEntity['lineage'];
}

/** what a finished scan writes onto its version */
export interface ScanVerdict {
  verdict: string;
  kind: string | null;
  format: string | null;
  weightsOnly: unknown;
  summary: string;
  tensorCount: number;
  parameterCount: number;
}

/** what a lineage search asks of a version: every one given must hold */
export interface LineageFilter {
  /** the parent: a version of the named checkpoint, or (name null) of the version's own checkpoint */
  parent?: { name: string | null; version: string };
  /** lowercase hex; a prefix of the stored commit, or the stored commit (a short SHA) a prefix of it */
  gitCommit?: string;
  dataset?: string;
  runUrl?: string;
}

/**
 * The SQL conditions of a lineage search on versions `v` of checkpoints `c` (aliases), their values pushed onto
 * `params`. A parent is stored as given at upload: VERSION (of the same checkpoint) or NAME:VERSION; both forms
 * match either way the filter writes it.
 */
export function lineageConditions(v: string, c: string, f: LineageFilter, params: unknown[]): string[] {
  const where: string[] = [];
  const exact = Object.fromEntries(
    (['dataset', 'runUrl'] as const).filter((k) => f[k] !== undefined).map((k) => [k, f[k]]),
  );
  if (Object.keys(exact).length) {
    params.push(JSON.stringify(exact));
    where.push(`${v}.lineage @> $${params.length}::jsonb`);
  }
  if (f.parent) {
    params.push(JSON.stringify({ parent: f.parent.version }));
    const bare = `$${params.length}::jsonb`;
    if (f.parent.name === null) {
      params.push(f.parent.version);
      where.push(
        `(${v}.lineage @> ${bare} OR ${v}.lineage @> jsonb_build_object('parent', ${c}.name || ':' || $${params.length}::text))`,
      );
    } else {
      params.push(f.parent.name, JSON.stringify({ parent: `${f.parent.name}:${f.parent.version}` }));
      where.push(
        `((${c}.name = $${params.length - 1} AND ${v}.lineage @> ${bare}) OR ${v}.lineage @> $${params.length}::jsonb)`,
      );
    }
  }
  if (f.gitCommit !== undefined) {
    params.push(f.gitCommit);
    const g = `$${params.length}::text`;
    // hexadecimal digits only (checked at the edge): no LIKE wildcard can be in either side
    where.push(
      `(${v}.lineage ->> 'gitCommit' LIKE ${g} || '%' OR ${g} LIKE (${v}.lineage ->> 'gitCommit') || '%')`,
    );
  }
  return where;
}

export interface VersionPage {
  sort: string;
  order: 'asc' | 'desc';
  /** the version's lineage must match this */
  lineage: LineageFilter;
  limit: number;
  offset: number;
}

export interface RetentionCandidate {
  version: string;
  scan_status: string;
  verdict: string | null;
  age_days: number;
  tagged: boolean;
}

/**
 * The `versions` table: immutable uploads and the state of their scans. The scan's transitions are named here:
 * pending (`insertPending`, `rescan`, `markWaiting`) → scanning (`claimForScan`) → done (`recordVerdict`) or failed
 * (`markFailed`); each checks the generation it belongs to, so an older run's result never lands.
 */
export class VersionsRepository extends CardTable {
  protected readonly table = 'versions';

  /** a version by checkpoint name and version, with its twin */
  async findByName(name: string, version: string): Promise<VersionEntity | null> {
    const v = await this.m
      .getRepository(VersionEntity)
      .createQueryBuilder('v')
      .innerJoin('v.checkpoint', 'c')
      .leftJoinAndSelect('v.twin', 't')
      .addSelect('c.name', 'c_name')
      .where('c.name = :name AND v.version = :version', { name, version })
      .getRawAndEntities();
    return v.entities[0] ?? null;
  }

  /** versions by id, with their twins (in no particular order) */
  async findByIds(ids: string[]): Promise<VersionEntity[]> {
    if (ids.length === 0) return [];
    return this.m
      .getRepository(VersionEntity)
      .find({ where: ids.map((id) => ({ id })), relations: { twin: true } });
  }

  /** a version with its checkpoint (and twin), by id */
  async findWithCheckpoint(id: string): Promise<VersionEntity | null> {
    return this.m
      .getRepository(VersionEntity)
      .findOne({ where: { id }, relations: { checkpoint: true, twin: true } });
  }

  /**
   * Inserts the version, pending its scan; null when the (checkpoint, version) key is taken. created_at is taken
   * after the checkpoint's row lock (clock_timestamp, not the transaction's start), so the order of versions is
   * the order in which they were committed.
   */
  async insertPending(v: NewVersion): Promise<string | null> {
    const inserted = await this.rows<{ id: string }>(
      `INSERT INTO versions (checkpoint_id, version, sha256, size, object_key, filename, framework_version, metadata, metrics, uploaded_by, lineage, scan_status, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', clock_timestamp())
       ON CONFLICT (checkpoint_id, version) DO NOTHING RETURNING id`,
      [
        v.checkpointId,
        v.version,
        v.sha256,
        v.size,
        v.objectKey,
        v.filename,
        v.frameworkVersion,
        JSON.stringify(v.metadata),
        JSON.stringify(v.metrics),
        v.uploadedBy,
        JSON.stringify(v.lineage ?? {}),
      ],
    );
    return inserted[0]?.id ?? null;
  }

  /** metrics merged in (the same bytes uploaded again with metrics) */
  async mergeMetrics(id: string, metrics: Record<string, number>): Promise<void> {
    await this.m.query('UPDATE versions SET metrics = metrics || $2::jsonb WHERE id = $1', [
      id,
      JSON.stringify(metrics),
    ]);
  }

  /** metrics set and removed (PATCH) */
  async patchMetrics(id: string, set: Record<string, number>, remove: string[]): Promise<void> {
    await this.m.query(`UPDATE versions SET metrics = (metrics - $3::text[]) || $2::jsonb WHERE id = $1`, [
      id,
      JSON.stringify(set),
      remove,
    ]);
  }

  /** a page of a checkpoint's version ids, sorted and filtered by lineage; one more than `limit` when there are more */
  async pageIds(name: string, p: VersionPage): Promise<string[]> {
    const params: unknown[] = [name];
    let orderBy: string;
    const order = p.order === 'asc' ? 'asc' : 'desc';
    const metric = /^metrics\.([A-Za-z_][A-Za-z0-9_.-]{0,63})$/.exec(p.sort);
    if (metric) {
      params.push(metric[1]);
      // versions without the metric sort last either way
      orderBy = `(v.metrics ->> $${params.length})::double precision ${order} NULLS LAST, v.created_at ASC`;
    } else {
      orderBy = `${p.sort === 'created' ? 'v.created_at' : p.sort === 'version' ? 'v.version' : 'v.size'} ${order}, v.version ${order}`;
    }
    const lineage = lineageConditions('v', 'c', p.lineage, params);
    params.push(p.limit + 1, p.offset);
    const ids = await this.rows<{ id: string }>(
      `SELECT v.id FROM versions v JOIN checkpoints c ON c.id = v.checkpoint_id WHERE c.name = $1
          ${lineage.map((w) => `AND ${w}`).join(' ')}
        ORDER BY ${orderBy} LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return ids.map((r) => r.id);
  }

  /** the versions of these checkpoints that match a lineage search, newest first, with their checkpoint's name */
  async lineageMatches(
    names: string[],
    f: LineageFilter,
    limit: number,
  ): Promise<Array<{ id: string; name: string }>> {
    if (names.length === 0) return [];
    const params: unknown[] = [names];
    const where = lineageConditions('v', 'c', f, params);
    params.push(limit);
    return this.rows<{ id: string; name: string }>(
      `SELECT v.id, c.name FROM versions v JOIN checkpoints c ON c.id = v.checkpoint_id WHERE c.name = ANY($1)
          ${where.map((w) => `AND ${w}`).join(' ')}
        ORDER BY v.created_at DESC, v.version DESC LIMIT $${params.length}`,
      params,
    );
  }

  /**
   * Takes the version's row lock (after its checkpoint's, which the caller holds) and reads it under the lock,
   * with its twin. Null when it is gone.
   */
  async lock(checkpointId: string, version: string): Promise<VersionEntity | null> {
    await this.m.query('SELECT id FROM versions WHERE checkpoint_id = $1 AND version = $2 FOR UPDATE', [
      checkpointId,
      version,
    ]);
    return this.m
      .getRepository(VersionEntity)
      .findOne({ where: { checkpointId, version }, relations: { twin: true } });
  }

  async delete(id: string): Promise<void> {
    await this.m.delete(VersionEntity, id);
  }

  /** the state a tag move checks: the version's id, scan status and verdict */
  async scanState(
    checkpointId: string,
    version: string,
  ): Promise<{ id: string; scan_status: string; verdict: string | null } | null> {
    const [r] = await this.rows<{ id: string; scan_status: string; verdict: string | null }>(
      'SELECT id, scan_status, verdict FROM versions WHERE checkpoint_id = $1 AND version = $2',
      [checkpointId, version],
    );
    return r ?? null;
  }

  /** the version name of a version id */
  async versionOf(id: string): Promise<string | null> {
    const [v] = await this.rows<{ version: string }>('SELECT version FROM versions WHERE id = $1', [id]);
    return v?.version ?? null;
  }

  /** the newest version of a checkpoint (newest created_at, then version), leaving out `excluding` */
  async newest(checkpointId: string, excluding: string | null = null): Promise<string | null> {
    const [r] = await this.rows<{ id: string }>(
      excluding === null
        ? 'SELECT id FROM versions WHERE checkpoint_id = $1 ORDER BY created_at DESC, version DESC LIMIT 1'
        : 'SELECT id FROM versions WHERE checkpoint_id = $1 AND id <> $2 ORDER BY created_at DESC, version DESC LIMIT 1',
      excluding === null ? [checkpointId] : [checkpointId, excluding],
    );
    return r?.id ?? null;
  }

  /** the newest version whose verdict is safe, leaving out `excluding` */
  async newestSafe(checkpointId: string, excluding: string | null = null): Promise<string | null> {
    const [r] = await this.rows<{ id: string }>(
      `SELECT id FROM versions WHERE checkpoint_id = $1 AND scan_status = 'done' AND verdict = 'safe'
          AND ($2::uuid IS NULL OR id <> $2)
        ORDER BY created_at DESC, version DESC LIMIT 1`,
      [checkpointId, excluding],
    );
    return r?.id ?? null;
  }

  /** the safe version with the lowest (`min`) or highest metric, ties to the earlier version */
  async bestBy(
    checkpointId: string,
    metric: string,
    mode: 'min' | 'max',
  ): Promise<{ id: string; version: string; value: number } | null> {
    const order = mode === 'min' ? 'ASC' : 'DESC';
    const [r] = await this.rows<{ id: string; version: string; value: number }>(
      `SELECT id, version, (metrics ->> $2)::double precision AS value FROM versions
        WHERE checkpoint_id = $1 AND scan_status = 'done' AND verdict = 'safe'
          AND jsonb_typeof(metrics -> $2) = 'number'
        ORDER BY value ${order}, created_at ASC, version ASC LIMIT 1`,
      [checkpointId, metric],
    );
    return r ?? null;
  }

  /** hides a version being deleted from the best-rule query (its verdict is cleared) */
  async hideVerdict(id: string): Promise<void> {
    await this.m.query(`UPDATE versions SET verdict = NULL WHERE id = $1`, [id]);
  }

  /** what a retention rule decides on: every version of the checkpoint, newest first, and whether it is tagged */
  async retentionCandidates(checkpointId: string): Promise<RetentionCandidate[]> {
    return this.rows<RetentionCandidate>(
      `SELECT v.version, v.scan_status, v.verdict, extract(epoch FROM now() - v.created_at) / 86400 AS age_days,
              EXISTS (SELECT 1 FROM tags t WHERE t.version_id = v.id) AS tagged
         FROM versions v WHERE v.checkpoint_id = $1 ORDER BY v.created_at DESC, v.version DESC`,
      [checkpointId],
    );
  }

  /** a new scan generation: back to pending, attempts and error cleared; returns the generation */
  async rescan(id: string): Promise<number> {
    const { rows } = await this.change<{ scan_generation: number }>(
      `UPDATE versions SET scan_status = 'pending', scan_generation = scan_generation + 1, scan_attempts = 0, scan_error = NULL
        WHERE id = $1 RETURNING scan_generation`,
      [id],
    );
    return rows[0].scan_generation;
  }

  /** versions whose scan is not finished (pending or scanning), oldest first */
  async unfinishedScans(limit: number): Promise<Array<{ id: string; scan_generation: number }>> {
    return this.rows<{ id: string; scan_generation: number }>(
      `SELECT id, scan_generation FROM versions WHERE scan_status IN ('pending', 'scanning') ORDER BY created_at LIMIT $1`,
      [limit],
    );
  }

  /** a scan of this generation starts: scanning, one more attempt */
  async claimForScan(id: string, generation: number): Promise<void> {
    await this.m.query(
      `UPDATE versions SET scan_status = 'scanning', scan_started_at = now(), scan_attempts = scan_attempts + 1
        WHERE id = $1 AND scan_generation = $2`,
      [id, generation],
    );
  }

  /** takes the version's row lock and reads its scan generation (null when it is gone) */
  async lockGeneration(id: string): Promise<number | null> {
    const [r] = await this.rows<{ scan_generation: number }>(
      'SELECT scan_generation FROM versions WHERE id = $1 FOR UPDATE',
      [id],
    );
    return r?.scan_generation ?? null;
  }

  /** the scan is done: its verdict and what it found out about the file */
  async recordVerdict(id: string, s: ScanVerdict): Promise<void> {
    await this.m.query(
      `UPDATE versions SET scan_status = 'done', scan_finished_at = now(), scan_error = NULL, verdict = $2, kind = $3, format = $4,
              weights_only = $5, summary = $6, tensor_count = $7, parameter_count = $8
        WHERE id = $1`,
      [
        id,
        s.verdict,
        s.kind,
        s.format,
        JSON.stringify(s.weightsOnly),
        s.summary,
        s.tensorCount,
        s.parameterCount,
      ],
    );
  }

  /**
   * The scan waits for a dependency: back to pending with the reason, and the attempt does not count (only the
   * file's own content, or a worker that keeps dying on it, can make a version unknown).
   */
  async markWaiting(id: string, generation: number, message: string): Promise<void> {
    await this.m.query(
      `UPDATE versions SET scan_status = 'pending', scan_error = $3, scan_attempts = greatest(scan_attempts - 1, 0)
        WHERE id = $1 AND scan_generation = $2 AND scan_status IN ('pending', 'scanning')`,
      [id, generation, message.slice(0, 1000)],
    );
  }

  /** how many times a scan of this generation was started and did not finish */
  async scanAttempts(id: string, generation: number): Promise<number> {
    const [r] = await this.rows<{ scan_attempts: number }>(
      'SELECT scan_attempts FROM versions WHERE id = $1 AND scan_generation = $2',
      [id, generation],
    );
    return r?.scan_attempts ?? 0;
  }

  /** the last attempt failed: status failed, verdict unknown; null when the generation moved on or it is done */
  async markFailed(
    id: string,
    generation: number,
    message: string,
  ): Promise<{ name: string; version: string; sha256: string } | null> {
    const { rows } = await this.change<{ name: string; version: string; sha256: string }>(
      `UPDATE versions v SET scan_status = 'failed', scan_finished_at = now(), scan_error = $3, verdict = 'unknown'
         FROM checkpoints c WHERE v.id = $1 AND v.scan_generation = $2 AND c.id = v.checkpoint_id AND v.scan_status <> 'done'
       RETURNING c.name, v.version, v.sha256`,
      [id, generation, message.slice(0, 1000)],
    );
    return rows[0] ?? null;
  }
}
