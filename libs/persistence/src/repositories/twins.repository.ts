import { TableRepository } from './table-repository';

/** what a finished conversion writes onto its twin */
export interface TwinWritten {
  objectKey: string;
  sha256: string;
  size: number;
  tensors: number;
  aliases: unknown;
  leftOut: unknown;
  verdict: string;
  error: string | null;
}

/**
 * The `twins` table: the safetensors twin of a safe version and its conversion: pending (`createPending`,
 * `release`) → converting (`claim`, kept alive by `heartbeat`) → done (`complete`), skipped (`skip`) or failed
 * (`markFailed`). Each finishing transition names the attempt it belongs to, so a stale worker's result never lands.
 */
export class TwinsRepository extends TableRepository {
  /** the version gets a twin to write (nothing when it has one) */
  async createPending(versionId: string): Promise<void> {
    await this.m.query('INSERT INTO twins (version_id) VALUES ($1) ON CONFLICT (version_id) DO NOTHING', [
      versionId,
    ]);
  }

  /**
   * Claims the conversion: a pending twin, or one converting by a worker whose heartbeat stopped `staleSeconds`
   * ago. Returns this attempt's number, or null when another worker has it or it is finished.
   */
  async claim(versionId: string, staleSeconds: number): Promise<number | null> {
    const { rows } = await this.change<{ attempts: number }>(
      `UPDATE twins SET status = 'converting', attempts = attempts + 1, heartbeat_at = now(), error = NULL
        WHERE version_id = $1 AND (status = 'pending'
              OR (status = 'converting' AND heartbeat_at < now() - make_interval(secs => $2)))
        RETURNING attempts`,
      [versionId, staleSeconds],
    );
    return rows[0]?.attempts ?? null;
  }

  async heartbeat(versionId: string): Promise<void> {
    await this.m.query('UPDATE twins SET heartbeat_at = now() WHERE version_id = $1', [versionId]);
  }

  /** the twin is written and scanned; false when this attempt is no longer the twin's */
  async complete(versionId: string, attempt: number, t: TwinWritten): Promise<boolean> {
    const { count } = await this.change(
      `UPDATE twins SET status = 'done', object_key = $3, sha256 = $4, size = $5, tensors = $6, aliases = $7,
              left_out = $8, verdict = $9, error = $10, finished_at = now()
        WHERE version_id = $1 AND attempts = $2`,
      [
        versionId,
        attempt,
        t.objectKey,
        t.sha256,
        t.size,
        t.tensors,
        JSON.stringify(t.aliases),
        JSON.stringify(t.leftOut),
        t.verdict,
        t.error,
      ],
    );
    return count > 0;
  }

  /** no twin will be written, and why */
  async skip(versionId: string, attempt: number, reason: string): Promise<void> {
    await this.m.query(
      `UPDATE twins SET status = 'skipped', error = $3, finished_at = now() WHERE version_id = $1 AND attempts = $2`,
      [versionId, attempt, reason.slice(0, 1000)],
    );
  }

  /** the conversion stopped: back to pending; an outage does not count as an attempt */
  async release(versionId: string, message: string, outage: boolean): Promise<void> {
    await this.m.query(
      `UPDATE twins SET status = 'pending', error = $2, attempts = CASE WHEN $3 THEN greatest(attempts - 1, 0) ELSE attempts END
        WHERE version_id = $1 AND status = 'converting'`,
      [versionId, message.slice(0, 1000), outage],
    );
  }

  async markFailed(versionId: string, message: string): Promise<void> {
    await this.m.query(
      `UPDATE twins SET status = 'failed', error = $2, finished_at = now()
        WHERE version_id = $1 AND status IN ('pending', 'converting')`,
      [versionId, message.slice(0, 1000)],
    );
  }

  /** twins waiting for a conversion, or whose converting worker stopped beating `staleSeconds` ago */
  async due(staleSeconds: number, limit: number): Promise<Array<{ version_id: string; attempts: number }>> {
    return this.rows<{ version_id: string; attempts: number }>(
      `SELECT version_id, attempts FROM twins
        WHERE status = 'pending' OR (status = 'converting' AND heartbeat_at < now() - make_interval(secs => $1))
        ORDER BY created_at LIMIT $2`,
      [staleSeconds, limit],
    );
  }
}
