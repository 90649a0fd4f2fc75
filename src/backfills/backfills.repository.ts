import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export type BackfillStatus = 'listing' | 'running' | 'done' | 'cancelled' | 'failed';
export const ACTIVE_BACKFILL_STATUSES: readonly BackfillStatus[] = ['listing', 'running'];

/** A row of `backfills`. Ids are strings (bigint). */
export interface BackfillRecord {
  id: string;
  request: Record<string, unknown>;
  prefixes: string[];
  status: BackfillStatus;
  scheduled: boolean;
  filesListed: number;
  filesEnqueued: number;
  filesSkipped: number;
  error: string | null;
  createdAt: Date;
  listedAt: Date | null;
  finishedAt: Date | null;
}

export interface NewBackfill {
  request: Record<string, unknown>;
  prefixes: string[];
  requestKey: string;
  scheduled: boolean;
  /** The replica that will list it. */
  owner: string;
}

/** Where a backfill's files stand in the ledger. */
export interface BackfillFileCounts {
  pending: number;
  processing: number;
  done: number;
  failed: number;
  /** Tweets parsed from its done files. */
  tweets: number;
  /** Rows its done files added to `tweets`. */
  inserted: number;
  /** Stored bytes of its finished (done or failed) and unfinished files, for the ETA. */
  bytesFinished: number;
  bytesRemaining: number;
  firstStartedAt: Date | null;
  lastFinishedAt: Date | null;
}

/** How a listing page was recorded: keep going, or stop because the backfill was cancelled or taken over. */
export type ListingProgress = 'listing' | 'cancelled' | 'lost';

// Serialises scheduled scans across replicas (the migration and test-template locks use 7_453_001/2).
const SCHEDULED_SCAN_LOCK_KEY = 7_453_003;
// An identical active backfill may finish between our INSERT and our SELECT; then we insert again.
const CREATE_ATTEMPTS = 3;

const BACKFILL_COLUMNS = `id, request, prefixes, status, scheduled, files_listed, files_enqueued, files_skipped,
  error, created_at, listed_at, finished_at`;

interface BackfillRow {
  id: string;
  request: Record<string, unknown>;
  prefixes: string[];
  status: BackfillStatus;
  scheduled: boolean;
  files_listed: number;
  files_enqueued: number;
  files_skipped: number;
  error: string | null;
  created_at: Date;
  listed_at: Date | null;
  finished_at: Date | null;
}

/** The `backfills` table, and the progress of each backfill's files in the ledger. */
@Injectable()
export class BackfillsRepository {
  constructor(private readonly dataSource: DataSource) {}

  // TypeORM's query() answers an UPDATE with [rows, count]; the structured result gives every
  // statement's RETURNING rows the same way (as in FilesRepository).
  private async write<Row>(sql: string, parameters: unknown[]): Promise<Row[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return (await runner.query(sql, parameters, true)).records as Row[];
    } finally {
      await runner.release();
    }
  }

  /**
   * Creates a backfill, or finds the active one with the same request key. Race-free across
   * replicas: the partial unique index on active request keys makes the second INSERT a no-op.
   */
  async createOrFindActive(backfill: Omit<NewBackfill, 'scheduled'>): Promise<{ backfill: BackfillRecord; created: boolean }> {
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt += 1) {
      const inserted = await this.write<BackfillRow>(INSERT_BACKFILL, [
        JSON.stringify(backfill.request),
        backfill.prefixes,
        backfill.requestKey,
        false,
        backfill.owner,
      ]);
      if (inserted[0]) return { backfill: toRecord(inserted[0]), created: true };
      const active: BackfillRow[] = await this.dataSource.query(
        `SELECT ${BACKFILL_COLUMNS} FROM backfills WHERE request_key = $1 AND status IN ('listing', 'running')`,
        [backfill.requestKey],
      );
      if (active[0]) return { backfill: toRecord(active[0]), created: false };
    }
    throw new Error(`could not create or find the backfill for ${backfill.requestKey}`);
  }

  /**
   * Creates the scheduled full scan for this tick, unless another replica already did. Every
   * replica's cron fires at the same moment; in one transaction the first takes an advisory
   * lock (the others fail to take it and skip), checks that no scheduled scan was created within
   * `minimumGapMs` (a replica whose tick came a little late finds the first one's row), and
   * inserts; a scan still active from an earlier tick makes the INSERT a no-op. Null: skipped.
   */
  async createScheduledScan(backfill: Omit<NewBackfill, 'scheduled'>, minimumGapMs: number): Promise<BackfillRecord | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const [lock]: { locked: boolean }[] = await runner.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [SCHEDULED_SCAN_LOCK_KEY]);
      if (!lock!.locked) {
        await runner.rollbackTransaction();
        return null;
      }
      const recent: unknown[] = await runner.query(
        `SELECT 1 FROM backfills WHERE scheduled AND created_at > now() - make_interval(secs => $1::double precision / 1000) LIMIT 1`,
        [minimumGapMs],
      );
      if (recent.length > 0) {
        await runner.rollbackTransaction();
        return null;
      }
      const inserted = (
        await runner.query(
          INSERT_BACKFILL,
          [JSON.stringify(backfill.request), backfill.prefixes, backfill.requestKey, true, backfill.owner],
          true,
        )
      ).records as BackfillRow[];
      await runner.commitTransaction();
      return inserted[0] ? toRecord(inserted[0]) : null;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  async findById(id: string): Promise<BackfillRecord | null> {
    const rows: BackfillRow[] = await this.dataSource.query(`SELECT ${BACKFILL_COLUMNS} FROM backfills WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Newest first, before the cursor `beforeId`. */
  async listRecent(limit: number, beforeId?: string): Promise<BackfillRecord[]> {
    const rows: BackfillRow[] = await this.dataSource.query(
      `SELECT ${BACKFILL_COLUMNS} FROM backfills WHERE ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $1`,
      [limit, beforeId ?? null],
    );
    return rows.map(toRecord);
  }

  async findActive(): Promise<BackfillRecord[]> {
    const rows: BackfillRow[] = await this.dataSource.query(
      `SELECT ${BACKFILL_COLUMNS} FROM backfills WHERE status IN ('listing', 'running') ORDER BY id`,
    );
    return rows.map(toRecord);
  }

  /** Per backfill id, where its files stand. One grouped scan over the backfill_id index. */
  async fileCountsOf(ids: readonly string[]): Promise<Map<string, BackfillFileCounts>> {
    const counts = new Map<string, BackfillFileCounts>();
    if (ids.length === 0) return counts;
    const rows: Record<string, string | Date | null>[] = await this.dataSource.query(
      `SELECT backfill_id,
              count(*) FILTER (WHERE status = 'pending') AS pending,
              count(*) FILTER (WHERE status = 'processing') AS processing,
              count(*) FILTER (WHERE status = 'done') AS done,
              count(*) FILTER (WHERE status = 'failed') AS failed,
              coalesce(sum(tweets) FILTER (WHERE status = 'done'), 0) AS tweets,
              coalesce(sum(inserted) FILTER (WHERE status = 'done'), 0) AS inserted,
              coalesce(sum(size) FILTER (WHERE status IN ('done', 'failed')), 0) AS bytes_finished,
              coalesce(sum(size) FILTER (WHERE status IN ('pending', 'processing')), 0) AS bytes_remaining,
              min(started_at) AS first_started_at,
              max(finished_at) AS last_finished_at
       FROM ingest_files WHERE backfill_id = ANY($1::bigint[])
       GROUP BY backfill_id`,
      [ids],
    );
    for (const row of rows) {
      counts.set(String(row.backfill_id), {
        pending: Number(row.pending),
        processing: Number(row.processing),
        done: Number(row.done),
        failed: Number(row.failed),
        tweets: Number(row.tweets),
        inserted: Number(row.inserted),
        bytesFinished: Number(row.bytes_finished),
        bytesRemaining: Number(row.bytes_remaining),
        firstStartedAt: row.first_started_at as Date | null,
        lastFinishedAt: row.last_finished_at as Date | null,
      });
    }
    return counts;
  }

  /**
   * Adds one listed page to the counters and renews the listing heartbeat, if this replica
   * still lists the backfill. Otherwise says why it should stop: cancelled (or failed), or
   * taken over by another replica after our heartbeat went stale.
   */
  async recordListedPage(id: string, owner: string, page: { listed: number; enqueued: number; skipped: number }): Promise<ListingProgress> {
    const updated = await this.write(
      `UPDATE backfills
       SET files_listed = files_listed + $3, files_enqueued = files_enqueued + $4, files_skipped = files_skipped + $5,
           listing_heartbeat_at = now()
       WHERE id = $1 AND status = 'listing' AND listing_owner = $2
       RETURNING id`,
      [id, owner, page.listed, page.enqueued, page.skipped],
    );
    if (updated.length === 1) return 'listing';
    const [row]: { status: BackfillStatus }[] = await this.dataSource.query(`SELECT status FROM backfills WHERE id = $1`, [id]);
    return row?.status === 'listing' ? 'lost' : 'cancelled';
  }

  /** Renews the listing heartbeat between pages; false when this replica no longer lists it. */
  async renewListing(id: string, owner: string): Promise<boolean> {
    const rows = await this.write(
      `UPDATE backfills SET listing_heartbeat_at = now() WHERE id = $1 AND status = 'listing' AND listing_owner = $2 RETURNING id`,
      [id, owner],
    );
    return rows.length === 1;
  }

  /**
   * Listing complete: `running` until its files are finished. The counters are reconciled with
   * the ledger, which matters after a takeover (the second lister saw the first one's files as
   * already there): enqueued = the ledger rows this backfill created, skipped = the rest.
   */
  async finishListing(id: string, owner: string): Promise<boolean> {
    const rows = await this.write(
      `UPDATE backfills b
       SET status = 'running', listed_at = now(), listing_owner = NULL, listing_heartbeat_at = NULL,
           files_enqueued = c.enqueued, files_skipped = greatest(b.files_listed - c.enqueued, 0)
       FROM (SELECT count(*)::integer AS enqueued FROM ingest_files WHERE backfill_id = $1) c
       WHERE b.id = $1 AND b.status = 'listing' AND b.listing_owner = $2
       RETURNING b.id`,
      [id, owner],
    );
    return rows.length === 1;
  }

  async failListing(id: string, owner: string, error: string): Promise<boolean> {
    const rows = await this.write(
      `UPDATE backfills
       SET status = 'failed', error = $3, finished_at = now(), listing_owner = NULL, listing_heartbeat_at = NULL
       WHERE id = $1 AND status = 'listing' AND listing_owner = $2
       RETURNING id`,
      [id, owner, error],
    );
    return rows.length === 1;
  }

  /** Shutdown: hands an unfinished listing over; another replica takes it at its next check. */
  async releaseListing(id: string, owner: string): Promise<boolean> {
    const rows = await this.write(
      `UPDATE backfills SET listing_owner = NULL, listing_heartbeat_at = NULL
       WHERE id = $1 AND status = 'listing' AND listing_owner = $2
       RETURNING id`,
      [id, owner],
    );
    return rows.length === 1;
  }

  /**
   * Takes over one listing that nobody renews (its replica died or shut down), to list it again
   * from the start: registering is insert-or-ignore, so the pages already done cost nothing.
   * The page counters restart; finishListing reconciles enqueued and skipped.
   */
  async claimAbandonedListing(owner: string, staleMs: number): Promise<BackfillRecord | null> {
    const rows = await this.write<BackfillRow>(
      `UPDATE backfills
       SET listing_owner = $1, listing_heartbeat_at = now(), files_listed = 0, files_skipped = 0
       WHERE id = (
         SELECT id FROM backfills
         WHERE status = 'listing'
           AND (listing_owner IS NULL OR listing_heartbeat_at IS NULL
                OR listing_heartbeat_at < now() - make_interval(secs => $2::double precision / 1000))
         ORDER BY id
         LIMIT 1
         FOR UPDATE SKIP LOCKED
       )
       RETURNING ${BACKFILL_COLUMNS}`,
      [owner, staleMs],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Active → cancelled. Null when it is not active (or does not exist). */
  async cancel(id: string): Promise<BackfillRecord | null> {
    const rows = await this.write<BackfillRow>(
      `UPDATE backfills
       SET status = 'cancelled', finished_at = now(), listing_owner = NULL, listing_heartbeat_at = NULL
       WHERE id = $1 AND status IN ('listing', 'running')
       RETURNING ${BACKFILL_COLUMNS}`,
      [id],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Running backfills whose files are all finished become done. Cheap enough to run on every
   * read: only running backfills are checked, each with an index probe on backfill_id.
   */
  async markFinishedBackfills(): Promise<number> {
    const rows = await this.write(
      `UPDATE backfills b
       SET status = 'done', finished_at = now()
       WHERE b.status = 'running'
         AND NOT EXISTS (
           SELECT 1 FROM ingest_files f WHERE f.backfill_id = b.id AND f.status IN ('pending', 'processing')
         )
       RETURNING b.id`,
      [],
    );
    return rows.length;
  }
}

// $5 is the listing replica. ON CONFLICT names the partial unique index of active request keys
// (its column and predicate), so an identical active backfill turns the INSERT into a no-op.
const INSERT_BACKFILL = `
  INSERT INTO backfills (request, prefixes, request_key, scheduled, status, listing_owner, listing_heartbeat_at)
  VALUES ($1::jsonb, $2::text[], $3, $4, 'listing', $5, now())
  ON CONFLICT (request_key) WHERE status IN ('listing', 'running') DO NOTHING
  RETURNING ${BACKFILL_COLUMNS}`;

function toRecord(row: BackfillRow): BackfillRecord {
  return {
    id: String(row.id),
    request: row.request,
    prefixes: row.prefixes,
    status: row.status,
    scheduled: row.scheduled,
    filesListed: row.files_listed,
    filesEnqueued: row.files_enqueued,
    filesSkipped: row.files_skipped,
    error: row.error,
    createdAt: row.created_at,
    listedAt: row.listed_at,
    finishedAt: row.finished_at,
  };
}
