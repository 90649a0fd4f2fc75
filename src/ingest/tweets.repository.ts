import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { TWEET_COPY_COLUMNS, type DeletionRow, type RejectedRecord } from '../pipeline/pipeline.types.js';
import { asDatabaseError } from './ingest.errors.js';

export interface WriteBatch {
  fileId: string;
  /** Tweet rows in COPY text format (TWEET_COPY_COLUMNS), possibly several encoded chunks. */
  tweetsCopy: Uint8Array[];
  deletions: DeletionRow[];
  rejected: RejectedRecord[];
}

export interface WriteResult {
  /** New rows in `tweets`. */
  inserted: number;
  /** Rows removed from `tweets` by this batch's deletion notices. */
  removedByDeletions: number;
}

const COLUMN_LIST = TWEET_COPY_COLUMNS.join(', ');

/** The batch's tweets go here first: a temporary table of the pooled connection (created by its first batch), emptied at every commit. */
export const CREATE_STAGING = `CREATE TEMP TABLE IF NOT EXISTS tweets_staging (
  id bigint, created_at timestamptz, user_id bigint, user_screen_name text, text text, lang text,
  retweeted_id bigint, quoted_id bigint, in_reply_to_id bigint,
  hashtags text[], mentions text[], urls text[]
) ON COMMIT DELETE ROWS`;

/**
 * Moves a batch from the staging table into `tweets`, leaving out ids already stored and ids in
 * `tweet_deletions`. `OFFSET 0` keeps the deletion check a subquery run per staged row, which
 * looks the id up in `tweet_deletions`' primary key. Without it PostgreSQL 15 turns the check
 * into a join and, until the table holds well over 100,000 ids, reads and hashes the whole of
 * `tweet_deletions` for every batch: the cost of a batch then grew with every delete notice
 * ingested before it. EXPLAIN ANALYZE of one 3,000-row batch (BENCHMARKS.md, sixth round): with
 * 64,000 deletions stored, 35 ms hashed against 7 ms by index; with 4,000, 6 ms against 8-9 ms.
 */
export const INSERT_FROM_STAGING = `INSERT INTO tweets (${COLUMN_LIST}, source_file_id)
  SELECT ${COLUMN_LIST}, $1::bigint FROM tweets_staging s
  WHERE NOT EXISTS (SELECT 1 FROM tweet_deletions d WHERE d.id = s.id OFFSET 0)
  ON CONFLICT (id) DO NOTHING`;

/**
 * Writes cleaned batches. One transaction per batch:
 *  1. lock `tweet_deletions` (see below);
 *  2. record deletions and remove their tweets;
 *  3. COPY the tweets into a per-connection temporary staging table, then one
 *     `INSERT … SELECT … ON CONFLICT DO NOTHING` that skips deleted ids. COPY is the fastest
 *     way in (toolchain.md: ~145k rows/s); staging makes the insert idempotent, which a bare
 *     COPY into `tweets` cannot be;
 *  4. record rejected lines (unique per file and line, so a retried file adds none twice).
 *
 * Deleted tweets stay deleted whatever the order in which files arrive: a tweet batch takes
 * `tweet_deletions` in SHARE mode and a batch with deletions in SHARE ROW EXCLUSIVE mode. The
 * two conflict, so a tweet insert never runs concurrently with a deletion of the same id that
 * it cannot see yet; tweet batches do not block each other (SHARE is self-compatible).
 * Each transaction takes its one lock first, so no lock is ever upgraded (no deadlock).
 */
@Injectable()
export class TweetsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async writeBatch(batch: WriteBatch): Promise<WriteResult> {
    const runner = this.dataSource.createQueryRunner();
    const client = (await runner.connect().catch((error: unknown) => {
      throw asDatabaseError(error);
    })) as PoolClient;
    try {
      await client.query('BEGIN');
      const lockMode = batch.deletions.length > 0 ? 'SHARE ROW EXCLUSIVE' : 'SHARE';
      await client.query(`LOCK TABLE tweet_deletions IN ${lockMode} MODE`);
      const removedByDeletions = await this.applyDeletions(client, batch.fileId, batch.deletions);
      const inserted = await this.insertTweets(client, batch.fileId, batch.tweetsCopy);
      await this.insertRejected(client, batch.fileId, batch.rejected);
      await client.query('COMMIT');
      return { inserted, removedByDeletions };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw asDatabaseError(error);
    } finally {
      await runner.release();
    }
  }

  private async applyDeletions(client: PoolClient, fileId: string, deletions: DeletionRow[]): Promise<number> {
    if (deletions.length === 0) return 0;
    const ids = deletions.map((deletion) => deletion.id);
    await client.query(
      `INSERT INTO tweet_deletions (id, user_id, deleted_at, source_file_id)
       SELECT id, user_id, deleted_at, $4::bigint
       FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS d(id, user_id, deleted_at)
       ON CONFLICT (id) DO NOTHING`,
      [ids, deletions.map((deletion) => deletion.userId), deletions.map((deletion) => deletion.deletedAt), fileId],
    );
    const removed = await client.query('DELETE FROM tweets WHERE id = ANY($1::bigint[])', [ids]);
    return removed.rowCount ?? 0;
  }

  private async insertTweets(client: PoolClient, fileId: string, chunks: Uint8Array[]): Promise<number> {
    if (chunks.every((chunk) => chunk.byteLength === 0)) return 0;
    await client.query(CREATE_STAGING);
    const copy = client.query(copyFrom(`COPY tweets_staging (${COLUMN_LIST}) FROM STDIN`));
    await pipeline(Readable.from(chunks.filter((chunk) => chunk.byteLength > 0)), copy);
    const result = await client.query(INSERT_FROM_STAGING, [fileId]);
    return result.rowCount ?? 0;
  }

  private async insertRejected(client: PoolClient, fileId: string, rejected: RejectedRecord[]): Promise<void> {
    if (rejected.length === 0) return;
    // PostgreSQL text cannot hold NUL; the raw line keeps everything else.
    const clean = (value: string) => value.replaceAll('\u0000', '');
    await client.query(
      `INSERT INTO rejected_records (file_id, line_no, reason, raw)
       SELECT $1::bigint, line_no, reason, raw
       FROM unnest($2::bigint[], $3::text[], $4::text[]) AS r(line_no, reason, raw)
       ON CONFLICT (file_id, line_no) DO NOTHING`,
      [fileId, rejected.map((record) => record.lineNo), rejected.map((record) => clean(record.reason)), rejected.map((record) => clean(record.raw))],
    );
  }

  /**
   * Rows in `tweets`: exact below a million rows; above that the planner's estimate, since an
   * exact count of a 100M-row table takes seconds and /status is polled.
   */
  async countTweets(): Promise<{ total: number; estimated: boolean }> {
    const [estimate]: { rows: string }[] = await this.dataSource.query(
      `SELECT greatest(reltuples, 0)::bigint AS rows FROM pg_class WHERE oid = 'tweets'::regclass`,
    );
    if (Number(estimate?.rows ?? 0) >= 1_000_000) return { total: Number(estimate!.rows), estimated: true };
    const [exact]: { count: string }[] = await this.dataSource.query('SELECT count(*) AS count FROM tweets');
    return { total: Number(exact!.count), estimated: false };
  }
}
