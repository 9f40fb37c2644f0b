import { UploadEntity } from '../entities/upload.entity';
import { TableRepository } from './table-repository';

/**
 * The `uploads` table: uploads being streamed to the object store, so that what a dead upload left there is found
 * and removed.
 */
export class UploadsRepository extends TableRepository {
  async begin(id: string, objectKey: string, checkpoint: string, version: string): Promise<void> {
    await this.m.getRepository(UploadEntity).insert({ id, objectKey, checkpoint, version });
  }

  async setMultipart(id: string, multipartId: string): Promise<void> {
    await this.m.query('UPDATE uploads SET multipart_id = $2 WHERE id = $1', [id, multipartId]);
  }

  /** the upload is over (committed, or its object is gone) */
  async end(id: string): Promise<void> {
    await this.m.delete(UploadEntity, id);
  }

  /** the uploads this process is streaming are alive */
  async heartbeat(ids: string[]): Promise<void> {
    await this.m.query('UPDATE uploads SET heartbeat_at = now() WHERE id = ANY($1)', [ids]);
  }

  /** uploads whose process stopped beating `staleSeconds` ago */
  async stale(
    staleSeconds: number,
  ): Promise<Array<{ id: string; object_key: string; multipart_id: string | null }>> {
    return this.rows<{ id: string; object_key: string; multipart_id: string | null }>(
      `SELECT id, object_key, multipart_id FROM uploads WHERE heartbeat_at < now() - make_interval(secs => $1)`,
      [staleSeconds],
    );
  }

  /** the multipart uploads that upload rows account for */
  async multipartIds(): Promise<string[]> {
    const rows = await this.rows<{ multipart_id: string }>(
      'SELECT multipart_id FROM uploads WHERE multipart_id IS NOT NULL',
    );
    return rows.map((r) => r.multipart_id);
  }
}

/** The `object_deletions` table: objects of deleted versions not yet deleted from the store. */
export class ObjectDeletionsRepository extends TableRepository {
  async list(keys: string[]): Promise<void> {
    await this.m.query(
      'INSERT INTO object_deletions (object_key) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING',
      [keys],
    );
  }

  /** the objects are gone */
  async strike(keys: string[]): Promise<void> {
    await this.m.query('DELETE FROM object_deletions WHERE object_key = ANY($1)', [keys]);
  }

  /** objects listed more than `olderThanSeconds` ago, oldest first */
  async due(olderThanSeconds: number, limit: number): Promise<string[]> {
    const rows = await this.rows<{ object_key: string }>(
      `SELECT object_key FROM object_deletions WHERE listed_at < now() - make_interval(secs => $1)
        ORDER BY listed_at LIMIT $2`,
      [olderThanSeconds, limit],
    );
    return rows.map((r) => r.object_key);
  }
}
