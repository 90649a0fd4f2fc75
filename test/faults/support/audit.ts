import pg from 'pg';
import { expect } from 'vitest';
import type { CorpusManifest } from '../../support/corpus-generator.js';

// The end-of-case check every fault case runs (issue 7): the database against what was put
// in. Every expected tweet id present exactly once, every deletion recorded, every file of the
// ledger `done` or `failed` with a reason, none left `pending` or `processing`, and each file
// ending the way the case says it must.

export interface FileExpectation {
  status: 'done' | 'failed';
  /** For a failed file: the error must match (it names the cause). */
  error?: RegExp;
  /** For a done file: its dead letters (rejected_records rows). */
  rejected?: number;
}

export interface AuditExpectation {
  /** Exactly the ids `tweets` must hold (sorted numerically, as the corpus manifest has them). */
  tweetIds: readonly string[];
  /** Exactly the ids `tweet_deletions` must hold; unchecked when absent. */
  deletedIds?: readonly string[];
  /** Every ledger row by object name; a row missing here, or an expectation without a row, fails. */
  files: Record<string, FileExpectation>;
  /** Total rejected_records rows; unchecked when absent. */
  totalRejected?: number;
}

export interface LedgerRow {
  id: string;
  name: string;
  status: string;
  attempts: number;
  error: string | null;
  rejected: number;
}

export interface AuditReport {
  files: LedgerRow[];
  tweets: number;
  /** Files that needed more than one attempt (the figure RELIABILITY.md reports). */
  retriedFiles: number;
}

/** What a corpus from generateCorpus must end as: every file done, with its dead letters. */
export function corpusExpectation(manifest: CorpusManifest, namePrefix = ''): AuditExpectation {
  return {
    tweetIds: manifest.expected.tweetIds,
    deletedIds: manifest.expected.deletedIds,
    totalRejected: manifest.expected.totalRejected,
    files: Object.fromEntries(manifest.files.map((file) => [`${namePrefix}${file.name}`, { status: 'done' as const, rejected: file.rejected }])),
  };
}

/** Runs the audit against the database at `url`; fails the test with a precise message. */
export async function auditDatabase(url: string, expected: AuditExpectation): Promise<AuditReport> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: files } = await client.query<LedgerRow>(
      `SELECT f.id::text, f.name, f.status, f.attempts, f.error,
              (SELECT count(*)::int FROM rejected_records r WHERE r.file_id = f.id) AS rejected
       FROM ingest_files f ORDER BY f.name`,
    );
    // Nothing left behind: no file waiting or held by a lease.
    expect(files.filter((file) => file.status === 'pending' || file.status === 'processing'), 'files left pending or processing').toEqual([]);
    // A failed file always says why.
    for (const file of files.filter((row) => row.status === 'failed')) {
      expect(file.error?.trim(), `error of failed file ${file.name}`).toBeTruthy();
    }
    expect(files.map((file) => file.name).sort(), 'ledger rows').toEqual(Object.keys(expected.files).sort());
    for (const file of files) {
      const expectation = expected.files[file.name]!;
      expect(file.status, `status of ${file.name} (error: ${file.error})`).toBe(expectation.status);
      if (expectation.error) expect(file.error, `error of ${file.name}`).toMatch(expectation.error);
      if (expectation.rejected !== undefined) expect(file.rejected, `rejected records of ${file.name}`).toBe(expectation.rejected);
    }

    // Every expected tweet exactly once. The primary key forbids duplicates; comparing the
    // whole sorted id list also catches a missing or an unexpected row.
    const { rows: tweetRows } = await client.query<{ id: string }>('SELECT id::text FROM tweets ORDER BY id');
    const ids = tweetRows.map((row) => row.id);
    expect(ids.length, 'tweets rows').toBe(expected.tweetIds.length);
    expect(new Set(ids).size, 'distinct tweet ids').toBe(ids.length);
    expect(ids, 'tweet ids').toEqual(expected.tweetIds);
    if (expected.deletedIds) {
      const { rows } = await client.query<{ id: string }>('SELECT id::text FROM tweet_deletions ORDER BY id');
      expect(rows.map((row) => row.id), 'tweet_deletions ids').toEqual(expected.deletedIds);
    }
    if (expected.totalRejected !== undefined) {
      const { rows } = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM rejected_records');
      expect(rows[0]!.count, 'rejected_records rows').toBe(expected.totalRejected);
    }
    return { files, tweets: ids.length, retriedFiles: files.filter((file) => file.attempts > 1).length };
  } finally {
    await client.end();
  }
}

/** Status counts of the ledger, for waiting on progress. */
export async function ledgerCounts(client: pg.Client): Promise<Record<'pending' | 'processing' | 'done' | 'failed', number>> {
  const { rows } = await client.query<{ status: string; count: number }>('SELECT status, count(*)::int AS count FROM ingest_files GROUP BY status');
  const counts = { pending: 0, processing: 0, done: 0, failed: 0 };
  for (const row of rows) counts[row.status as keyof typeof counts] = row.count;
  return counts;
}
