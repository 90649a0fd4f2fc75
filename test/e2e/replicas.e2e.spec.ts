import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, logLines } from '../support/admin-api.js';
import { startAdminService, type AdminService } from '../support/admin-service.js';
import { eventually, type RunningService } from '../support/service.js';
import { writeTweetFiles, type WrittenTweetFile } from '../support/tweet-files.js';

const ADMIN_TOKEN = 'replicas-e2e-admin-token-0123456789';

interface Replicas {
  replicas: RunningService[];
  client: pg.Client;
  written: WrittenTweetFile[];
}

/**
 * Two replicas on one database and one bucket of `folders` × `filesPerFolder` files, started
 * before the enclosing describe's tests and stopped after them. The returned object is filled in
 * by then: read it inside the tests.
 */
function twoReplicas(name: string, cron: string, folders: string[], files: { filesPerFolder: number; tweetsPerFile: number }): Replicas {
  const state = {} as Replicas;
  let running: AdminService | undefined;
  beforeAll(async () => {
    running = await startAdminService({
      name,
      token: ADMIN_TOKEN,
      replicas: 2,
      seed: async (bucket) => {
        state.written = await writeTweetFiles(bucket, folders, files);
      },
      env: { BACKFILL_CRON: cron, EXECUTOR: 'threads', EXECUTOR_SIZE: '2', CONCURRENT_FILES: '2', POLL_INTERVAL_MS: '100' },
    });
    state.replicas = running.services;
    state.client = running.client;
  });
  afterAll(() => running?.stop());
  return state;
}

describe('two replicas on one database share one backfill', () => {
  const cluster = twoReplicas('replicas-e2e', 'off', ['2017/08', '2017/09', '2017/10'], { filesPerFolder: 8, tweetsPerFile: 300 });

  it('processes every file once, whichever replica claims it, with exact tweet counts', async () => {
    const { replicas, client, written } = cluster;
    const [first, second] = replicas.map((replica) => adminApi(replica.url, ADMIN_TOKEN)) as [ReturnType<typeof adminApi>, ReturnType<typeof adminApi>];
    // Paused while the first replica lists, so that both replicas start claiming from a full queue.
    expect((await first('POST', '/ingest/pause')).status).toBe(200);
    const created = await first<{ id: string }>('POST', '/backfills', { body: { months: ['2017-08', '2017-09', '2017-10'] } });
    expect(created.status).toBe(202);
    // The other replica sees the same backfill (the database is the only shared state).
    await eventually(async () => {
      const { body } = await second<{ status: string; pending: number }>('GET', `/backfills/${created.body.id}`);
      return body.status === 'running' && body.pending === written.length ? body : undefined;
    });
    expect((await second('POST', '/ingest/resume')).status).toBe(200);
    const done = await eventually(async () => {
      const { body } = await second<{ status: string; done: number; tweetsWritten: number }>('GET', `/backfills/${created.body.id}`);
      return body.status === 'done' ? body : undefined;
    });
    expect(done).toMatchObject({ done: written.length, tweetsWritten: written.length * 300 });

    const { rows } = await client.query(`SELECT id::text, status, attempts, tweets::int, inserted::int, backfill_id::text FROM ingest_files ORDER BY id`);
    expect(rows).toHaveLength(written.length);
    for (const row of rows) expect(row).toMatchObject({ status: 'done', attempts: 1, tweets: 300, inserted: 300, backfill_id: created.body.id });
    const { rows: tweets } = await client.query('SELECT count(*)::int AS total, count(DISTINCT id)::int AS distinct_ids FROM tweets');
    expect(tweets[0]).toEqual({ total: written.length * 300, distinct_ids: written.length * 300 });

    // Each file was started exactly once across both replicas' logs.
    const startedBy = replicas.map((replica) => logLines(replica.output(), 'file started').map((line) => String(line.fileId)));
    const allStarts = startedBy.flat();
    expect(allStarts).toHaveLength(written.length);
    expect(new Set(allStarts)).toEqual(new Set(rows.map((row: { id: string }) => row.id)));
    // Both claimed from the shared queue (24 files, two slots each: typically 10-14 each).
    for (const started of startedBy) expect(started.length).toBeGreaterThan(0);
  });
});

describe('two replicas with the same schedule start one scheduled scan per tick', () => {
  const TICK_SECONDS = 3;
  const cluster = twoReplicas('replicas-cron-e2e', `*/${TICK_SECONDS} * * * * *`, ['2017/08', '2017/09'], { filesPerFolder: 2, tweetsPerFile: 5 });

  it('never starts two scans in one tick, and the scans ingest every file once', async () => {
    const { replicas, client, written } = cluster;
    const scans = await eventually(
      async () => {
        const { rows } = await client.query(
          `SELECT id::text, status, files_listed, files_enqueued, files_skipped, extract(epoch FROM created_at)::float8 AS created
           FROM backfills WHERE scheduled ORDER BY id`,
        );
        return rows.length >= 3 && rows.every((row: { status: string }) => row.status === 'done') ? rows : undefined;
      },
      30_000,
      'three finished scheduled scans',
    );
    const ticks = scans.map((scan: { created: number }) => Math.floor(scan.created / TICK_SECONDS));
    expect(new Set(ticks).size).toBe(ticks.length);
    // Both replicas tick; the log says which of them started each scan.
    const started = replicas.map((replica) => logLines(replica.output(), 'scheduled full scan started').length);
    expect(started[0]! + started[1]!).toBeGreaterThanOrEqual(scans.length);
    // The first scan found every file; later ones found them all already in the ledger.
    expect(scans[0]).toMatchObject({ files_listed: written.length, files_enqueued: written.length, files_skipped: 0 });
    for (const scan of scans.slice(1)) expect(scan).toMatchObject({ files_listed: written.length, files_enqueued: 0, files_skipped: written.length });

    const { rows } = await client.query(`SELECT status, attempts FROM ingest_files`);
    expect(rows).toHaveLength(written.length);
    expect(rows.every((row: { status: string; attempts: number }) => row.status === 'done' && row.attempts === 1)).toBe(true);
    const { rows: tweets } = await client.query('SELECT count(*)::int AS total FROM tweets');
    expect(tweets[0].total).toBe(written.length * 5);
  });
});
