import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tokens, checkpoints, versions, scan results, uploads in progress and the safe-globals policy. */
export class InitialSchema1732380000000 implements MigrationInterface {
  name = 'InitialSchema1732380000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        prefix text NOT NULL,
        hash text NOT NULL UNIQUE,
        scopes text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write', 'admin']::text[] AND cardinality(scopes) > 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      );
      CREATE TABLE checkpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE versions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        checkpoint_id uuid NOT NULL REFERENCES checkpoints(id) ON DELETE CASCADE,
        version text NOT NULL,
        sha256 char(64) NOT NULL,
        size bigint NOT NULL CHECK (size >= 0),
        object_key text NOT NULL,
        filename text,
        framework_version text,
        metadata jsonb NOT NULL DEFAULT '{}',
        metrics jsonb NOT NULL DEFAULT '{}',
        uploaded_by uuid REFERENCES tokens(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        scan_status text NOT NULL CHECK (scan_status IN ('pending', 'scanning', 'done', 'failed')),
        scan_generation int NOT NULL DEFAULT 1,
        scan_attempts int NOT NULL DEFAULT 0,
        scan_error text,
        scan_started_at timestamptz,
        scan_finished_at timestamptz,
        verdict text CHECK (verdict IN ('safe', 'suspicious', 'dangerous', 'unknown')),
        kind text,
        format text,
        weights_only jsonb,
        summary text,
        tensor_count int,
        parameter_count bigint,
        CONSTRAINT versions_checkpoint_version UNIQUE (checkpoint_id, version)
      );
      CREATE INDEX versions_scan_status ON versions (scan_status) WHERE scan_status IN ('pending', 'scanning');
      CREATE INDEX versions_created_at ON versions (checkpoint_id, created_at DESC);
      CREATE TABLE scan_reports (
        version_id uuid PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE,
        generation int NOT NULL,
        report jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE findings (
        id bigserial PRIMARY KEY,
        version_id uuid NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
        severity text NOT NULL,
        rule text NOT NULL,
        entry text,
        byte_offset bigint,
        opcode text,
        module text,
        name text,
        message text NOT NULL
      );
      CREATE INDEX findings_version ON findings (version_id);
      CREATE TABLE imports (
        id bigserial PRIMARY KEY,
        version_id uuid NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
        module text NOT NULL,
        name text NOT NULL,
        class text NOT NULL,
        count int NOT NULL,
        calls text[] NOT NULL,
        first_entry text,
        first_offset bigint NOT NULL
      );
      CREATE INDEX imports_version ON imports (version_id);
      CREATE INDEX imports_name ON imports (module, name);
      CREATE TABLE uploads (
        id uuid PRIMARY KEY,
        object_key text NOT NULL,
        checkpoint text NOT NULL,
        version text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE safe_globals (
        name text PRIMARY KEY,
        note text,
        added_by uuid REFERENCES tokens(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'DROP TABLE safe_globals, uploads, imports, findings, scan_reports, versions, checkpoints, tokens',
    );
  }
}
