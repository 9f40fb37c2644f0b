import { TableRepository } from './table-repository';

export interface EventRow {
  id: string;
  type: string;
  checkpoint: string | null;
  payload: Record<string, unknown>;
  created_at: Date;
}

/** The `events` table: the outbox, written in the transaction of the change each event reports. */
export class EventsRepository extends TableRepository {
  async record(type: string, checkpoint: string | null, payload: Record<string, unknown>): Promise<string> {
    const [row] = await this.rows<{ id: string }>(
      `INSERT INTO events (type, checkpoint, payload) VALUES ($1, $2, $3) RETURNING id`,
      [type, checkpoint, JSON.stringify(payload)],
    );
    return row.id;
  }

  /** the oldest events not dispatched yet, locked (others' locked ones are skipped) for the dispatching transaction */
  async claimUndispatched(limit: number): Promise<EventRow[]> {
    return this.rows<EventRow>(
      `SELECT id, type, checkpoint, payload, created_at FROM events WHERE dispatched_at IS NULL ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }

  async markDispatched(ids: string[]): Promise<void> {
    await this.m.query(`UPDATE events SET dispatched_at = now() WHERE id = ANY($1)`, [ids]);
  }
}
