import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { adminApi } from '../support/admin-api.js';
import { startAdminService, type AdminService } from '../support/admin-service.js';
import { eventually, type RunningService } from '../support/service.js';
import { writeTweetFiles, type WrittenTweetFile } from '../support/tweet-files.js';

const ADMIN_TOKEN = 'backfills-e2e-admin-token-0123456789';

interface Backfill {
  id: string;
  status: string;
  created: boolean;
  listed: number;
  enqueued: number;
  skipped: number;
  pending: number;
  processing: number;
  done: number;
  failed: number;
  tweets: number;
  tweetsWritten: number;
  progress: number | null;
  etaSeconds: number | null;
  withdrawn?: number;
}

describe('backfills (built service, real PostgreSQL, local folder bucket)', () => {
  let running: AdminService | undefined;
  let service: RunningService;
  let client: pg.Client;
  let written: WrittenTweetFile[];
  let api: ReturnType<typeof adminApi>;

  const filesUnder = (...folders: string[]) => written.filter((file) => folders.some((folder) => file.name.startsWith(`${folder}/`)));
  const idsUnder = (...folders: string[]) => filesUnder(...folders).flatMap((file) => file.ids).sort();

  async function backfillWhen(id: string, status: string): Promise<Backfill> {
    return eventually(
      async () => {
        const { body } = await api<Backfill>('GET', `/backfills/${id}`);
        return body.status === status ? body : undefined;
      },
      30_000,
      `backfill ${id} ${status}`,
    );
  }

  async function ledger(prefix: string): Promise<{ name: string; status: string; attempts: number; backfill_id: string | null }[]> {
    const { rows } = await client.query(
      `SELECT name, status, attempts, backfill_id::text FROM ingest_files WHERE starts_with(name, $1) ORDER BY name`,
      [prefix],
    );
    return rows;
  }

  beforeAll(async () => {
    // Only backfills may find the files: startAdminService turns off the folder watcher and the scheduled scan.
    running = await startAdminService({
      name: 'backfills-e2e',
      token: ADMIN_TOKEN,
      seed: async (bucket) => {
        written = await writeTweetFiles(bucket, ['2017/07', '2017/08', '2017/09', '2017/10', '2017/11', '2017/12'], {
          filesPerFolder: 3,
          tweetsPerFile: 5,
        });
      },
      env: { EXECUTOR: 'threads', EXECUTOR_SIZE: '2', POLL_INTERVAL_MS: '100' },
    });
    ({ service, client, api } = running);
  });
  afterAll(() => running?.stop());

  it('ingests exactly the files of the requested months', async () => {
    const response = await api<Backfill>('POST', '/backfills', { body: { months: ['2017-08', '2017-09', '2017-10'] } });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ created: true, status: 'listing' });

    const done = await backfillWhen(response.body.id, 'done');
    expect(done).toMatchObject({ listed: 9, enqueued: 9, skipped: 0, pending: 0, processing: 0, done: 9, failed: 0, tweets: 45, tweetsWritten: 45, progress: 1, etaSeconds: null });

    const rows = await ledger('');
    expect(rows.map((row) => row.name)).toEqual(filesUnder('2017/08', '2017/09', '2017/10').map((file) => file.name));
    expect(rows.every((row) => row.status === 'done' && row.attempts === 1 && row.backfill_id === response.body.id)).toBe(true);
    const { rows: tweets } = await client.query('SELECT id::text FROM tweets ORDER BY id::text');
    expect(tweets.map((row: { id: string }) => row.id)).toEqual(idsUnder('2017/08', '2017/09', '2017/10'));
  });

  it('answers an identical request with the active backfill, and redoes nothing afterwards', async () => {
    expect((await api('POST', '/ingest/pause')).status).toBe(200);
    const first = await api<Backfill>('POST', '/backfills', { body: { months: ['2017-11'] } });
    const again = await api<Backfill>('POST', '/backfills', { body: { months: ['2017-11'] } });
    const asRange = await api<Backfill>('POST', '/backfills', { body: { from: '2017-11', to: '2017-11' } });
    expect(first).toMatchObject({ status: 202, body: { created: true } });
    expect(again).toMatchObject({ status: 200, body: { id: first.body.id, created: false } });
    expect(asRange).toMatchObject({ status: 200, body: { id: first.body.id, created: false } });
    expect((await api('POST', '/ingest/resume')).status).toBe(200);
    await backfillWhen(first.body.id, 'done');

    // The same months once more, after the first finished: a new backfill that finds every
    // object already in the ledger and ingests nothing again.
    const later = await api<Backfill>('POST', '/backfills', { body: { months: ['2017-08', '2017-11'] } });
    expect(later).toMatchObject({ status: 202, body: { created: true } });
    expect(await backfillWhen(later.body.id, 'done')).toMatchObject({ listed: 6, enqueued: 0, skipped: 6, done: 0, tweetsWritten: 0 });
    const rows = await ledger('2017/');
    expect(rows).toHaveLength(12);
    expect(rows.every((row) => row.status === 'done' && row.attempts === 1)).toBe(true);
    const { rows: count } = await client.query('SELECT count(*)::int AS tweets FROM tweets');
    expect(count[0].tweets).toBe(idsUnder('2017/08', '2017/09', '2017/10', '2017/11').length);
  });

  it('cancel withdraws the pending files, and a later backfill can enqueue them again', async () => {
    expect((await api('POST', '/ingest/pause')).status).toBe(200);
    const created = await api<Backfill>('POST', '/backfills', { body: { from: '2017-12', to: '2017-12' } });
    expect(created.status).toBe(202);
    // Paused: the listing finishes, the files stay pending.
    const running = await backfillWhen(created.body.id, 'running');
    expect(running).toMatchObject({ listed: 3, enqueued: 3, pending: 3, done: 0 });
    const status = (await (await fetch(`${service.url}/status`)).json()) as { paused: boolean; queueDepth: number; backfills: { active: Backfill[] } };
    expect(status).toMatchObject({ paused: true, queueDepth: 3 });
    expect(status.backfills.active.map((backfill) => backfill.id)).toEqual([created.body.id]);

    const cancelled = await api<Backfill>('DELETE', `/backfills/${created.body.id}`);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled', withdrawn: 3, pending: 0 } });
    expect(await ledger('2017/12/')).toEqual([]);
    expect((await api('DELETE', `/backfills/${created.body.id}`)).body).toMatchObject({ status: 'cancelled', withdrawn: 0 });
    expect((await api('POST', '/ingest/resume')).status).toBe(200);

    // Resumed with nothing of 2017/12 left to claim: the ledger is idle and no tweet of it lands.
    const idle = await eventually(async () => {
      const body = (await (await fetch(`${service.url}/status`)).json()) as { paused: boolean; queueDepth: number; files: { processing: number } };
      return !body.paused && body.queueDepth === 0 && body.files.processing === 0 ? body : undefined;
    });
    expect(idle.queueDepth).toBe(0);
    expect((await api<Backfill>('GET', `/backfills/${created.body.id}`)).body.status).toBe('cancelled');
    const { rows: december } = await client.query('SELECT count(*)::int AS tweets FROM tweets WHERE id = ANY($1::bigint[])', [idsUnder('2017/12')]);
    expect(december[0].tweets).toBe(0);

    const again = await api<Backfill>('POST', '/backfills', { body: { months: ['2017-12'] } });
    expect(await backfillWhen(again.body.id, 'done')).toMatchObject({ enqueued: 3, done: 3, tweetsWritten: 15 });
  });

  it('backfills a prefix, and lists backfills newest first with a cursor', async () => {
    const created = await api<Backfill>('POST', '/backfills', { body: { prefix: '2017/07/' } });
    expect(created.status).toBe(202);
    expect(await backfillWhen(created.body.id, 'done')).toMatchObject({ listed: 3, enqueued: 3, done: 3, tweetsWritten: 15 });

    // Ids come from a sequence that an identical (deduplicated) request also advances: compare
    // with the table, not with consecutive numbers.
    const { rows } = await client.query('SELECT id::text FROM backfills ORDER BY id DESC');
    const newestFirst = rows.map((row: { id: string }) => row.id);
    const firstPage = await api<{ items: Backfill[]; nextCursor: string | null }>('GET', '/backfills?limit=2');
    expect(firstPage.status).toBe(200);
    expect(firstPage.body.items.map((backfill) => backfill.id)).toEqual(newestFirst.slice(0, 2));
    expect(firstPage.body.nextCursor).toBe(newestFirst[1]);
    const rest = await api<{ items: Backfill[]; nextCursor: string | null }>('GET', `/backfills?limit=50&before=${firstPage.body.nextCursor}`);
    expect(rest.body.items.map((backfill) => backfill.id)).toEqual(newestFirst.slice(2));
    expect(rest.body.nextCursor).toBeNull();
  });
});
