import { TableRepository } from './table-repository';

/** The `safe_globals` table: the operator's additions to torch's weights-only allowlist. */
export class SafeGlobalsRepository extends TableRepository {
  async names(): Promise<string[]> {
    const rows = await this.rows<{ name: string }>('SELECT name FROM safe_globals ORDER BY name');
    return rows.map((r) => r.name);
  }

  /** every entry, with the name of the token that added it */
  async list(): Promise<
    Array<{ name: string; note: string | null; added_by: string | null; created_at: Date }>
  > {
    return this.rows<{ name: string; note: string | null; added_by: string | null; created_at: Date }>(
      `SELECT g.name, g.note, t.name AS added_by, g.created_at FROM safe_globals g
         LEFT JOIN tokens t ON t.id = g.added_by ORDER BY g.name`,
    );
  }

  /** adds the global (or updates its note); true when it is new */
  async add(name: string, note: string | null, addedBy: string | null): Promise<boolean> {
    const inserted = await this.rows<{ created: boolean }>(
      `INSERT INTO safe_globals (name, note, added_by) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET note = EXCLUDED.note
       RETURNING (xmax = 0) AS created`,
      [name, note, addedBy],
    );
    return inserted[0]?.created ?? false;
  }

  /** false when it was not on the list */
  async remove(name: string): Promise<boolean> {
    const { count } = await this.change('DELETE FROM safe_globals WHERE name = $1', [name]);
    return count > 0;
  }
}
