import type { MigrationInterface, QueryRunner } from 'typeorm';

// The data contract of design.md. Notes on choices:
// - tweets has only its primary key: every extra index slows the bulk insert, and downstream
//   users add the ones their queries need.
// - tweets.source_file_id and tweet_deletions.source_file_id reference ingest_files.id without
//   a foreign key: a constraint would add a trigger per inserted row on the hottest path, and
//   ledger rows are never deleted.
// - rejected_records is unique on (file_id, line_no), so a retried file records a bad line once.
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE backfills (
        id bigserial PRIMARY KEY,
        request jsonb NOT NULL,
        prefixes text[] NOT NULL,
        status text NOT NULL DEFAULT 'listing'
          CHECK (status IN ('listing', 'running', 'done', 'cancelled', 'failed')),
        scheduled boolean NOT NULL DEFAULT false,
        files_listed integer NOT NULL DEFAULT 0,
        files_enqueued integer NOT NULL DEFAULT 0,
        files_skipped integer NOT NULL DEFAULT 0,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        listed_at timestamptz,
        finished_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE ingest_files (
        id bigserial PRIMARY KEY,
        bucket text NOT NULL,
        name text NOT NULL,
        generation text NOT NULL,
        size bigint NOT NULL DEFAULT 0,
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'processing', 'done', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        lease_owner text,
        lease_expires_at timestamptz,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lines bigint NOT NULL DEFAULT 0,
        tweets bigint NOT NULL DEFAULT 0,
        inserted bigint NOT NULL DEFAULT 0,
        duplicates bigint NOT NULL DEFAULT 0,
        deletes bigint NOT NULL DEFAULT 0,
        notices bigint NOT NULL DEFAULT 0,
        rejected bigint NOT NULL DEFAULT 0,
        bytes_read bigint NOT NULL DEFAULT 0,
        bytes_decoded bigint NOT NULL DEFAULT 0,
        error text,
        read_ms integer NOT NULL DEFAULT 0,
        decompress_ms integer NOT NULL DEFAULT 0,
        parse_ms integer NOT NULL DEFAULT 0,
        clean_ms integer NOT NULL DEFAULT 0,
        write_ms integer NOT NULL DEFAULT 0,
        total_ms integer NOT NULL DEFAULT 0,
        backfill_id bigint REFERENCES backfills (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        CONSTRAINT ingest_files_object_generation UNIQUE (bucket, name, generation)
      )`);
    // Claiming scans only these partial indexes, however large the ledger grows.
    await queryRunner.query(
      `CREATE INDEX ingest_files_pending ON ingest_files (next_attempt_at, id) WHERE status = 'pending'`,
    );
    await queryRunner.query(
      `CREATE INDEX ingest_files_leases ON ingest_files (lease_expires_at) WHERE status = 'processing'`,
    );
    await queryRunner.query(`CREATE INDEX ingest_files_backfill ON ingest_files (backfill_id)`);
    await queryRunner.query(`CREATE INDEX ingest_files_status_finished ON ingest_files (status, finished_at)`);
    await queryRunner.query(`
      CREATE TABLE tweets (
        id bigint PRIMARY KEY,
        created_at timestamptz NOT NULL,
        user_id bigint,
        user_screen_name text,
        text text NOT NULL,
        lang text,
        retweeted_id bigint,
        quoted_id bigint,
        in_reply_to_id bigint,
        hashtags text[] NOT NULL DEFAULT '{}',
        mentions text[] NOT NULL DEFAULT '{}',
        urls text[] NOT NULL DEFAULT '{}',
        source_file_id bigint NOT NULL,
        ingested_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE tweet_deletions (
        id bigint PRIMARY KEY,
        user_id bigint,
        deleted_at timestamptz,
        source_file_id bigint NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE rejected_records (
        id bigserial PRIMARY KEY,
        file_id bigint NOT NULL REFERENCES ingest_files (id) ON DELETE CASCADE,
        line_no bigint NOT NULL,
        reason text NOT NULL,
        raw text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT rejected_records_file_line UNIQUE (file_id, line_no)
      )`);
    // Cluster-wide switches (pause/resume) shared by every replica.
    await queryRunner.query(`
      CREATE TABLE service_settings (
        key text PRIMARY KEY,
        value jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['service_settings', 'rejected_records', 'tweet_deletions', 'tweets', 'ingest_files', 'backfills']) {
      await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
