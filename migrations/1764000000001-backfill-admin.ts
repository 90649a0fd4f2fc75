import type { MigrationInterface, QueryRunner } from 'typeorm';

// What the admin API needs on top of the initial schema:
// - backfills.request_key: the canonical form of a request (its sorted prefixes). The partial
//   unique index lets at most one *active* backfill exist per key, so two identical requests
//   racing on two replicas cannot both start one: the second INSERT … ON CONFLICT finds the
//   first. Finished backfills leave the index, so the same request can run again later.
// - backfills.listing_owner / listing_heartbeat_at: which replica is listing the bucket for a
//   backfill, renewed while it lists. A listing whose heartbeat went stale (the replica died) is
//   taken over by another replica instead of staying `listing` forever.
export class BackfillAdmin1764000000001 implements MigrationInterface {
  name = 'BackfillAdmin1764000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE backfills ADD COLUMN request_key text`);
    await queryRunner.query(`ALTER TABLE backfills ADD COLUMN listing_owner text`);
    await queryRunner.query(`ALTER TABLE backfills ADD COLUMN listing_heartbeat_at timestamptz`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX backfills_active_request ON backfills (request_key) WHERE status IN ('listing', 'running')`,
    );
    // The scheduler asks "was a scheduled scan created moments ago?" on every tick.
    await queryRunner.query(`CREATE INDEX backfills_scheduled_created ON backfills (created_at) WHERE scheduled`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS backfills_scheduled_created`);
    await queryRunner.query(`DROP INDEX IF EXISTS backfills_active_request`);
    await queryRunner.query(`ALTER TABLE backfills DROP COLUMN IF EXISTS listing_heartbeat_at`);
    await queryRunner.query(`ALTER TABLE backfills DROP COLUMN IF EXISTS listing_owner`);
    await queryRunner.query(`ALTER TABLE backfills DROP COLUMN IF EXISTS request_key`);
  }
}
