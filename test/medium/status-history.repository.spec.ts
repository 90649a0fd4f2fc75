import { describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { StatusHistoryRepository } from '../../src/status/status-history.repository.js';
import { useTestDataSource } from '../support/medium-fixture.js';

// A fixed "now": buckets end at 12:00, 11:59, … so every expectation is exact.
const UNTIL = new Date('2026-01-05T12:00:00Z');
const at = (minutesBefore: number, secondsBefore = 0) => new Date(UNTIL.getTime() - minutesBefore * 60_000 - secondsBefore * 1000);

interface Row {
  name: string;
  status: 'pending' | 'processing' | 'done' | 'failed';
  tweets?: number;
  size?: number;
  startedAt?: Date | null;
  finishedAt?: Date | null;
  error?: string;
  backfillId?: string;
}

describe('StatusHistoryRepository (real PostgreSQL)', () => {
  let dataSource: DataSource;
  let history: StatusHistoryRepository;

  useTestDataSource({ truncate: ['ingest_files', 'backfills'] }, (connected) => {
    dataSource = connected;
    history = new StatusHistoryRepository(connected);
  });

  async function insert(rows: Row[]): Promise<string[]> {
    const ids: string[] = [];
    for (const row of rows) {
      const [{ id }]: { id: string }[] = await dataSource.query(
        `INSERT INTO ingest_files (bucket, name, generation, status, tweets, size, started_at, finished_at, error, backfill_id, attempts)
         VALUES ('bucket', $1, '1', $2, $3, $4, $5, $6, $7, $8, 1) RETURNING id::text`,
        [row.name, row.status, row.tweets ?? 0, row.size ?? 0, row.startedAt ?? null, row.finishedAt ?? null, row.error ?? null, row.backfillId ?? null],
      );
      ids.push(id);
    }
    return ids;
  }

  async function backfill(): Promise<string> {
    const [{ id }]: { id: string }[] = await dataSource.query(`INSERT INTO backfills (request, prefixes) VALUES ('{}', '{}') RETURNING id::text`);
    return id;
  }

  it('charts tweets per minute, spreading each done file over the time it was processed', async () => {
    await insert([
      // within the minute ending 11:59 (11:58:00 → 11:59:00]
      { name: 'quick', status: 'done', tweets: 600, startedAt: at(1, 40), finishedAt: at(1, 10) },
      // 2 minutes of work from 11:56:30 to 11:58:30: a quarter, a half and a quarter
      { name: 'long', status: 'done', tweets: 1200, startedAt: at(3, 30), finishedAt: at(1, 30) },
      // processed instantly, exactly at a bucket's end: counted in the minute it ends
      { name: 'instant', status: 'done', tweets: 7, startedAt: at(0), finishedAt: at(0) },
      // not in the chart: failed, in flight, or finished before the window
      { name: 'failed', status: 'failed', tweets: 999, startedAt: at(1, 30), finishedAt: at(1, 20) },
      { name: 'processing', status: 'processing', tweets: 999, startedAt: at(1, 30) },
      { name: 'old', status: 'done', tweets: 999, startedAt: at(7), finishedAt: at(6) },
    ]);
    const points = await history.throughputPerMinute(5, UNTIL);
    expect(points.map((point) => point.end.toISOString())).toEqual([
      '2026-01-05T11:56:00.000Z',
      '2026-01-05T11:57:00.000Z',
      '2026-01-05T11:58:00.000Z',
      '2026-01-05T11:59:00.000Z',
      '2026-01-05T12:00:00.000Z',
    ]);
    expect(points.map((point) => point.tweets)).toEqual([0, 300, 600, 600 + 300, 7]);
    expect(points.map((point) => point.files)).toEqual([0, 0, 0, 2, 1]);
  });

  it('charts a whole hour of idle minutes as zeros, and uses the database clock by default', async () => {
    const points = await history.throughputPerMinute(60);
    expect(points).toHaveLength(60);
    expect(points.every((point) => point.tweets === 0 && point.files === 0)).toBe(true);
    const [{ now }]: { now: Date }[] = await dataSource.query('SELECT now()');
    expect(Math.abs(points[59]!.end.getTime() - new Date(now).getTime())).toBeLessThan(60_000);
  });

  it('lists the latest failures first, with their error', async () => {
    await insert([
      { name: 'older.json.gz', status: 'failed', finishedAt: at(10), error: 'corrupt file older.json.gz: incorrect header check' },
      { name: 'ok.json.gz', status: 'done', finishedAt: at(5) },
      { name: 'newer.json.gz', status: 'failed', finishedAt: at(1), error: 'corrupt file newer.json.gz: unexpected end of file' },
    ]);
    const failures = await history.latestFailures(10);
    expect(failures.map((file) => [file.name, file.error])).toEqual([
      ['newer.json.gz', 'corrupt file newer.json.gz: unexpected end of file'],
      ['older.json.gz', 'corrupt file older.json.gz: incorrect header check'],
    ]);
    expect(failures[0]).toMatchObject({ attempts: 1, backfillId: null, finishedAt: at(1) });
    expect(await history.latestFailures(1)).toHaveLength(1);
  });

  it("measures each backfill's recent work and what it has left", async () => {
    const young = await backfill();
    const old = await backfill();
    const untouched = await backfill();
    await insert([
      // started 2 minutes ago: measured over 120 s, not the whole window
      { name: 'y1', status: 'done', tweets: 50, size: 100, startedAt: at(2), finishedAt: at(1), backfillId: young },
      { name: 'y2', status: 'failed', size: 300, startedAt: at(1), finishedAt: at(0, 30), backfillId: young },
      { name: 'y3', status: 'processing', size: 1000, startedAt: at(0, 20), backfillId: young },
      { name: 'y4', status: 'pending', size: 2000, backfillId: young },
      // started an hour ago: only the last 15 minutes count
      { name: 'o1', status: 'done', tweets: 10, size: 100, startedAt: at(61), finishedAt: at(60), backfillId: old },
      { name: 'o2', status: 'done', tweets: 20, size: 100, startedAt: at(6), finishedAt: at(5), backfillId: old },
      { name: 'o3', status: 'pending', size: 400, backfillId: old },
      { name: 'u1', status: 'pending', size: 10, backfillId: untouched },
    ]);
    const work = await history.backfillRecentWork([young, old, untouched], 15 * 60, UNTIL);
    const byId = new Map(work.map((entry) => [entry.backfillId, entry]));
    expect(byId.get(young)).toEqual({ backfillId: young, recentFiles: 2, recentBytes: 400, recentTweets: 50, remainingFiles: 2, remainingBytes: 3000, windowSeconds: 120 });
    expect(byId.get(old)).toEqual({ backfillId: old, recentFiles: 1, recentBytes: 100, recentTweets: 20, remainingFiles: 1, remainingBytes: 400, windowSeconds: 900 });
    expect(byId.get(untouched)).toEqual({ backfillId: untouched, recentFiles: 0, recentBytes: 0, recentTweets: 0, remainingFiles: 1, remainingBytes: 10, windowSeconds: 0 });
    expect(await history.backfillRecentWork([], 900)).toEqual([]);
  });
});
