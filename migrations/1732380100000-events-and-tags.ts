import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The events outbox (written in the same transaction as the change it reports) and tags: mutable pointers from a
 * name to a version, with their history and the per-checkpoint rule that moves `best`.
 */
export class EventsAndTags1732380100000 implements MigrationInterface {
  name = 'EventsAndTags1732380100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type text NOT NULL,
        checkpoint text,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        dispatched_at timestamptz
      );
      CREATE INDEX events_undispatched ON events (created_at) WHERE dispatched_at IS NULL;
      ALTER TABLE checkpoints ADD COLUMN best_rule jsonb;
      CREATE TABLE tags (
        checkpoint_id uuid NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
        name text NOT NULL CHECK (name ~ '^[a-z0-9._-]{1,64}$'),
        version_id uuid NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (checkpoint_id, name)
      );
      CREATE INDEX tags_version ON tags (version_id);
      CREATE TABLE tag_history (
        id bigserial PRIMARY KEY,
        checkpoint_id uuid NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
        tag text NOT NULL,
        from_version text,
        to_version text,
        actor text NOT NULL,
        token_id uuid REFERENCES tokens(id) ON DELETE SET NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX tag_history_checkpoint ON tag_history (checkpoint_id, id DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE tag_history, tags, events; ALTER TABLE checkpoints DROP COLUMN best_rule');
  }
}
