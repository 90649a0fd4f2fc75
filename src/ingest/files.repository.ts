import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { StoredObject } from '../storage/object-store.js';

/** The row of `service_settings` whose value `true` pauses claiming on every replica (the admin API's pause). */
export const PAUSED_SETTING_KEY = 'ingest.paused';

export type FileStatus = 'pending' | 'processing' | 'done' | 'failed';
export const FILE_STATUSES: readonly FileStatus[] = ['pending', 'processing', 'done', 'failed'];

/** A ledger row as the ingest path sees it. Ids are strings (bigint). */
export interface ClaimedFile {
  id: string;
  bucket: string;
  name: string;
  generation: string;
  size: number;
  attempts: number;
  backfillId: string | null;
  /** Set when the lease this claim replaced had expired (a replica died holding it). */
  expiredLeaseOwner: string | null;
}

export interface FileOutcome {
  lines: number;
  tweets: number;
  inserted: number;
  duplicates: number;
  deletes: number;
  notices: number;
  rejected: number;
  bytesRead: number;
  bytesDecoded: number;
  timings: StageTimings;
}

export interface StageTimings {
  readMs: number;
  decompressMs: number;
  parseMs: number;
  cleanMs: number;
  writeMs: number;
  totalMs: number;
}

export interface RegisterResult {
  /** New ledger rows. */
  inserted: number;
  /** Rows that already existed for that (bucket, name, generation). */
  existing: number;
}

interface ClaimedRow {
  id: string;
  bucket: string;
  name: string;
  generation: string;
  size: string;
  attempts: number;
  backfill_id: string | null;
  expired_lease_owner: string | null;
}

/**
 * The file ledger, which is also the work queue (design.md). Every write is conditional on
 * the caller still holding the lease, so a replica whose lease expired cannot overwrite the
 * outcome of the replica that took the file over.
 */
@Injectable()
export class FilesRepository {
  constructor(private readonly dataSource: DataSource) {}

  // TypeORM's query() answers an UPDATE with [rows, count] but a SELECT or INSERT with rows;
  // the structured result gives the RETURNING rows of every statement the same way.
  private async update<Row = unknown>(sql: string, parameters: unknown[]): Promise<Row[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return (await runner.query(sql, parameters, true)).records as Row[];
    } finally {
      await runner.release();
    }
  }

  /**
   * Insert-or-ignore ledger rows, one statement for the whole batch (unnest keeps it at four
   * parameters whatever the batch size). Returns how many rows were new.
   */
  async registerObjects(objects: readonly StoredObject[], backfillId: string | null = null): Promise<RegisterResult> {
    if (objects.length === 0) return { inserted: 0, existing: 0 };
    const rows: { id: string }[] = await this.dataSource.query(
      `INSERT INTO ingest_files (bucket, name, generation, size, backfill_id)
       SELECT bucket, name, generation, size, $5::bigint
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS o(bucket, name, generation, size)
       ON CONFLICT (bucket, name, generation) DO NOTHING
       RETURNING id`,
      [
        objects.map((object) => object.bucket),
        objects.map((object) => object.name),
        objects.map((object) => object.generation),
        objects.map((object) => object.size),
        backfillId,
      ],
    );
    return { inserted: rows.length, existing: objects.length - rows.length };
  }

  /**
   * Claims up to `limit` files: pending ones whose retry time has come, and processing ones
   * whose lease expired. SKIP LOCKED lets any number of replicas claim concurrently without
   * waiting on each other or taking the same row.
   *
   * With `honourPause`, nothing is claimed while the cluster-wide pause is on. The check is part
   * of the claim's own statement, so both read one snapshot: a file registered after the pause
   * committed is never claimed before the resume. (A check in a query of its own, before the
   * claim, let a claim that had read "not paused" wait for a pooled connection and then take a
   * file that a backfill registered after the pause.)
   */
  async claimNextFiles(owner: string, limit: number, leaseMs: number, options: { honourPause?: boolean } = {}): Promise<ClaimedFile[]> {
    const rows = await this.update<ClaimedRow>(
      `WITH candidates AS (
         SELECT id, status, lease_owner FROM ingest_files
         WHERE ((status = 'pending' AND next_attempt_at <= now())
             OR (status = 'processing' AND lease_expires_at < now()))
           AND NOT ($4::boolean AND EXISTS (SELECT 1 FROM service_settings WHERE key = $5 AND value = 'true'::jsonb))
         ORDER BY id
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       UPDATE ingest_files f
       SET status = 'processing',
           attempts = f.attempts + 1,
           lease_owner = $1,
           lease_expires_at = now() + make_interval(secs => $3::double precision / 1000),
           started_at = now(),
           finished_at = NULL
       FROM candidates c
       WHERE f.id = c.id
       RETURNING f.id, f.bucket, f.name, f.generation, f.size, f.attempts, f.backfill_id,
                 CASE WHEN c.status = 'processing' THEN c.lease_owner END AS expired_lease_owner`,
      [owner, limit, leaseMs, options.honourPause ?? false, PAUSED_SETTING_KEY],
    );
    return rows
      .map((row) => ({
        id: String(row.id),
        bucket: row.bucket,
        name: row.name,
        generation: row.generation,
        size: Number(row.size),
        attempts: row.attempts,
        backfillId: row.backfill_id === null ? null : String(row.backfill_id),
        expiredLeaseOwner: row.expired_lease_owner,
      }))
      .sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** Extends the lease; false when it was lost (expired and taken by someone else). */
  async renewLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = await this.update(
      `UPDATE ingest_files
       SET lease_expires_at = now() + make_interval(secs => $3::double precision / 1000)
       WHERE id = $1 AND lease_owner = $2 AND status = 'processing'
       RETURNING id`,
      [id, owner, leaseMs],
    );
    return rows.length === 1;
  }

  async markFileDone(id: string, owner: string, outcome: FileOutcome): Promise<boolean> {
    const { timings } = outcome;
    const rows = await this.update(
      `UPDATE ingest_files
       SET status = 'done', lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), error = NULL,
           lines = $3, tweets = $4, inserted = $5, duplicates = $6, deletes = $7, notices = $8, rejected = $9,
           bytes_read = $10, bytes_decoded = $11,
           read_ms = $12, decompress_ms = $13, parse_ms = $14, clean_ms = $15, write_ms = $16, total_ms = $17
       WHERE id = $1 AND lease_owner = $2 AND status = 'processing'
       RETURNING id`,
      [
        id,
        owner,
        outcome.lines,
        outcome.tweets,
        outcome.inserted,
        outcome.duplicates,
        outcome.deletes,
        outcome.notices,
        outcome.rejected,
        outcome.bytesRead,
        outcome.bytesDecoded,
        Math.round(timings.readMs),
        Math.round(timings.decompressMs),
        Math.round(timings.parseMs),
        Math.round(timings.cleanMs),
        Math.round(timings.writeMs),
        Math.round(timings.totalMs),
      ],
    );
    return rows.length === 1;
  }

  async markFileFailed(id: string, owner: string | null, error: string): Promise<boolean> {
    const rows = await this.update(
      `UPDATE ingest_files
       SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), error = $3
       WHERE id = $1 AND status = 'processing' AND ($2::text IS NULL OR lease_owner = $2)
       RETURNING id`,
      [id, owner, error],
    );
    return rows.length === 1;
  }

  /** Back to pending after a transient error; claimable again once `delayMs` has passed. */
  async scheduleRetry(id: string, owner: string, error: string, delayMs: number): Promise<boolean> {
    const rows = await this.update(
      `UPDATE ingest_files
       SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL, error = $3,
           next_attempt_at = now() + make_interval(secs => $4::double precision / 1000)
       WHERE id = $1 AND lease_owner = $2 AND status = 'processing'
       RETURNING id`,
      [id, owner, error, delayMs],
    );
    return rows.length === 1;
  }

  /** Gives a file back untouched (shutdown): the attempt does not count. */
  async releaseFile(id: string, owner: string): Promise<boolean> {
    const rows = await this.update(
      `UPDATE ingest_files
       SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,
           attempts = greatest(attempts - 1, 0), next_attempt_at = now()
       WHERE id = $1 AND lease_owner = $2 AND status = 'processing'
       RETURNING id`,
      [id, owner],
    );
    return rows.length === 1;
  }

  async countByStatus(): Promise<Record<FileStatus, number>> {
    const rows: { status: FileStatus; count: string }[] = await this.dataSource.query(
      `SELECT status, count(*) AS count FROM ingest_files GROUP BY status`,
    );
    const counts = Object.fromEntries(FILE_STATUSES.map((status) => [status, 0])) as Record<FileStatus, number>;
    for (const row of rows) counts[row.status] = Number(row.count);
    return counts;
  }

  /** Ledger rows of the given ids with their status and error, for the one-shot summary. */
  async findFileSummaries(ids: readonly string[]): Promise<FileSummary[]> {
    if (ids.length === 0) return [];
    const rows: FileSummaryRow[] = await this.dataSource.query(
      `SELECT id, name, status, attempts, lines, tweets, inserted, duplicates, deletes, rejected, error, total_ms
       FROM ingest_files WHERE id = ANY($1::bigint[]) ORDER BY name`,
      [ids],
    );
    return rows.map((row) => ({
      id: String(row.id),
      name: row.name,
      status: row.status,
      attempts: row.attempts,
      lines: Number(row.lines),
      tweets: Number(row.tweets),
      inserted: Number(row.inserted),
      duplicates: Number(row.duplicates),
      deletes: Number(row.deletes),
      rejected: Number(row.rejected),
      error: row.error,
      totalMs: row.total_ms,
    }));
  }

  /** Status counts and totals over a set of files, for progress reporting. */
  async progressOf(ids: readonly string[]): Promise<FilesProgress> {
    const [row]: ProgressRow[] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
              count(*) FILTER (WHERE status = 'processing') AS processing,
              count(*) FILTER (WHERE status = 'done') AS done,
              count(*) FILTER (WHERE status = 'failed') AS failed,
              coalesce(sum(tweets) FILTER (WHERE status = 'done'), 0) AS tweets,
              coalesce(sum(inserted) FILTER (WHERE status = 'done'), 0) AS inserted,
              coalesce(sum(bytes_decoded) FILTER (WHERE status = 'done'), 0) AS bytes_decoded
       FROM ingest_files WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    return {
      pending: Number(row!.pending),
      processing: Number(row!.processing),
      done: Number(row!.done),
      failed: Number(row!.failed),
      tweets: Number(row!.tweets),
      inserted: Number(row!.inserted),
      bytesDecoded: Number(row!.bytes_decoded),
    };
  }

  /**
   * Withdraws a cancelled backfill's files that nobody holds: its pending rows are deleted, so
   * a later scan or backfill may enqueue those objects again. Processing rows are left to
   * finish (a row claimed concurrently is re-checked by the DELETE and skipped).
   */
  async withdrawPendingFiles(backfillId: string): Promise<number> {
    const rows = await this.update(`DELETE FROM ingest_files WHERE backfill_id = $1 AND status = 'pending' RETURNING id`, [backfillId]);
    return rows.length;
  }

  /**
   * One page of the ledger for the admin API, in id order after the cursor `afterId`.
   * starts_with() instead of LIKE: a prefix's '_' must not act as a wildcard.
   */
  async listFiles(filter: LedgerFilter): Promise<LedgerFile[]> {
    const rows: LedgerFileRow[] = await this.dataSource.query(
      `SELECT ${LEDGER_FILE_COLUMNS} FROM ingest_files
       WHERE ($1::text IS NULL OR status = $1)
         AND ($2::bigint IS NULL OR backfill_id = $2)
         AND ($3::text IS NULL OR starts_with(name, $3))
         AND ($4::bigint IS NULL OR id > $4)
       ORDER BY id
       LIMIT $5`,
      [filter.status ?? null, filter.backfillId ?? null, filter.prefix ?? null, filter.afterId ?? null, filter.limit],
    );
    return rows.map(toLedgerFile);
  }

  async findFile(id: string): Promise<LedgerFile | null> {
    const rows: LedgerFileRow[] = await this.dataSource.query(`SELECT ${LEDGER_FILE_COLUMNS} FROM ingest_files WHERE id = $1`, [id]);
    return rows[0] ? toLedgerFile(rows[0]) : null;
  }

  /** The first dead letters of a file, in line order. */
  async findRejectedRecords(fileId: string, limit: number): Promise<RejectedRecordView[]> {
    const rows: { line_no: string; reason: string; raw: string; created_at: Date }[] = await this.dataSource.query(
      `SELECT line_no, reason, raw, created_at FROM rejected_records WHERE file_id = $1 ORDER BY line_no LIMIT $2`,
      [fileId, limit],
    );
    return rows.map((row) => ({ lineNo: Number(row.line_no), reason: row.reason, raw: row.raw, createdAt: row.created_at }));
  }

  /**
   * Gives a failed file a fresh start: pending, attempts back to 0, claimable now. Its error is
   * kept (as the last error, the way a scheduled retry keeps it) until the file is done.
   * Null when the file does not exist or is not failed.
   */
  async retryFailedFile(id: string): Promise<LedgerFile | null> {
    const rows = await this.update<LedgerFileRow>(
      `UPDATE ingest_files
       SET status = 'pending', attempts = 0, next_attempt_at = now(), finished_at = NULL,
           lease_owner = NULL, lease_expires_at = NULL
       WHERE id = $1 AND status = 'failed'
       RETURNING ${LEDGER_FILE_COLUMNS}`,
      [id],
    );
    return rows[0] ? toLedgerFile(rows[0]) : null;
  }

  /**
   * Files finished (done) in the last minute and the last 15 minutes, cluster-wide. Served by
   * the (status, finished_at) index: only recent rows are read.
   */
  async recentThroughput(): Promise<{ lastMinute: FinishedWindow; last15Minutes: FinishedWindow }> {
    const [row]: Record<string, string>[] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE finished_at > now() - interval '1 minute') AS files_1,
              coalesce(sum(tweets) FILTER (WHERE finished_at > now() - interval '1 minute'), 0) AS tweets_1,
              coalesce(sum(inserted) FILTER (WHERE finished_at > now() - interval '1 minute'), 0) AS inserted_1,
              coalesce(sum(bytes_read) FILTER (WHERE finished_at > now() - interval '1 minute'), 0) AS bytes_1,
              count(*) AS files_15,
              coalesce(sum(tweets), 0) AS tweets_15,
              coalesce(sum(inserted), 0) AS inserted_15,
              coalesce(sum(bytes_read), 0) AS bytes_15
       FROM ingest_files
       WHERE status = 'done' AND finished_at > now() - interval '15 minutes'`,
    );
    const window = (suffix: string): FinishedWindow => ({
      files: Number(row![`files_${suffix}`]),
      tweets: Number(row![`tweets_${suffix}`]),
      inserted: Number(row![`inserted_${suffix}`]),
      bytesRead: Number(row![`bytes_${suffix}`]),
    });
    return { lastMinute: window('1'), last15Minutes: window('15') };
  }

  /** Per-stage milliseconds summed over the files done in the last `windowSeconds`. */
  async recentStageTimings(windowSeconds: number): Promise<{ files: number; timings: StageTimings }> {
    const [row]: Record<string, string>[] = await this.dataSource.query(
      `SELECT count(*) AS files,
              coalesce(sum(read_ms), 0) AS read_ms, coalesce(sum(decompress_ms), 0) AS decompress_ms,
              coalesce(sum(parse_ms), 0) AS parse_ms, coalesce(sum(clean_ms), 0) AS clean_ms,
              coalesce(sum(write_ms), 0) AS write_ms, coalesce(sum(total_ms), 0) AS total_ms
       FROM ingest_files
       WHERE status = 'done' AND finished_at > now() - make_interval(secs => $1::double precision)`,
      [windowSeconds],
    );
    return {
      files: Number(row!.files),
      timings: {
        readMs: Number(row!.read_ms),
        decompressMs: Number(row!.decompress_ms),
        parseMs: Number(row!.parse_ms),
        cleanMs: Number(row!.clean_ms),
        writeMs: Number(row!.write_ms),
        totalMs: Number(row!.total_ms),
      },
    };
  }

  /** Ids of the ledger rows for these objects (any status), for the one-shot command. */
  async findIdsOfObjects(objects: readonly StoredObject[]): Promise<string[]> {
    if (objects.length === 0) return [];
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT f.id FROM ingest_files f
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS o(bucket, name, generation)
         ON f.bucket = o.bucket AND f.name = o.name AND f.generation = o.generation`,
      [objects.map((object) => object.bucket), objects.map((object) => object.name), objects.map((object) => object.generation)],
    );
    return rows.map((row) => String(row.id));
  }
}

export interface FileSummary {
  id: string;
  name: string;
  status: FileStatus;
  attempts: number;
  lines: number;
  tweets: number;
  inserted: number;
  duplicates: number;
  deletes: number;
  rejected: number;
  error: string | null;
  totalMs: number;
}

interface FileSummaryRow {
  id: string;
  name: string;
  status: FileStatus;
  attempts: number;
  lines: string;
  tweets: string;
  inserted: string;
  duplicates: string;
  deletes: string;
  rejected: string;
  error: string | null;
  total_ms: number;
}

export interface FilesProgress {
  pending: number;
  processing: number;
  done: number;
  failed: number;
  tweets: number;
  inserted: number;
  bytesDecoded: number;
}

interface ProgressRow {
  pending: string;
  processing: string;
  done: string;
  failed: string;
  tweets: string;
  inserted: string;
  bytes_decoded: string;
}

export interface LedgerFilter {
  status?: FileStatus;
  backfillId?: string;
  /** Object names starting with this. */
  prefix?: string;
  /** Cursor: only ids greater than this. */
  afterId?: string;
  limit: number;
}

/** A ledger row as the admin API shows it: the file, its state and its last outcome. */
export interface LedgerFile extends FileOutcome {
  id: string;
  bucket: string;
  name: string;
  generation: string;
  size: number;
  status: FileStatus;
  attempts: number;
  backfillId: string | null;
  error: string | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  nextAttemptAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface RejectedRecordView {
  lineNo: number;
  reason: string;
  /** The first KiB of the line. */
  raw: string;
  createdAt: Date;
}

export interface FinishedWindow {
  files: number;
  tweets: number;
  inserted: number;
  bytesRead: number;
}

const LEDGER_FILE_COLUMNS = `id, bucket, name, generation, size, status, attempts, backfill_id, error,
  lines, tweets, inserted, duplicates, deletes, notices, rejected, bytes_read, bytes_decoded,
  read_ms, decompress_ms, parse_ms, clean_ms, write_ms, total_ms,
  lease_owner, lease_expires_at, next_attempt_at, created_at, started_at, finished_at`;

interface LedgerFileRow {
  id: string;
  bucket: string;
  name: string;
  generation: string;
  size: string;
  status: FileStatus;
  attempts: number;
  backfill_id: string | null;
  error: string | null;
  lines: string;
  tweets: string;
  inserted: string;
  duplicates: string;
  deletes: string;
  notices: string;
  rejected: string;
  bytes_read: string;
  bytes_decoded: string;
  read_ms: number;
  decompress_ms: number;
  parse_ms: number;
  clean_ms: number;
  write_ms: number;
  total_ms: number;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  next_attempt_at: Date;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

function toLedgerFile(row: LedgerFileRow): LedgerFile {
  return {
    id: String(row.id),
    bucket: row.bucket,
    name: row.name,
    generation: row.generation,
    size: Number(row.size),
    status: row.status,
    attempts: row.attempts,
    backfillId: row.backfill_id === null ? null : String(row.backfill_id),
    error: row.error,
    lines: Number(row.lines),
    tweets: Number(row.tweets),
    inserted: Number(row.inserted),
    duplicates: Number(row.duplicates),
    deletes: Number(row.deletes),
    notices: Number(row.notices),
    rejected: Number(row.rejected),
    bytesRead: Number(row.bytes_read),
    bytesDecoded: Number(row.bytes_decoded),
    timings: {
      readMs: row.read_ms,
      decompressMs: row.decompress_ms,
      parseMs: row.parse_ms,
      cleanMs: row.clean_ms,
      writeMs: row.write_ms,
      totalMs: row.total_ms,
    },
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}
