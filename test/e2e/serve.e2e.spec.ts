import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminService, type AdminService } from '../support/admin-service.js';
import { REAL_SAMPLE, realSampleTweetIds } from '../support/real-sample.js';
import { eventually, type RunningService } from '../support/service.js';

describe('tweet-ingest serve (built service, real PostgreSQL, watched folder)', () => {
  let running: AdminService | undefined;
  let folder: string;
  let service: RunningService;
  let client: pg.Client;

  beforeAll(async () => {
    running = await startAdminService({
      name: 'serve-e2e',
      // The service as deployed by default: it watches the folder, keeps its scheduled scan, and has no ADMIN_TOKEN.
      env: { WATCH_LOCAL_FOLDER: undefined, BACKFILL_CRON: undefined, EXECUTOR: 'threads', EXECUTOR_SIZE: '2', POLL_INTERVAL_MS: '200' },
    });
    ({ bucket: folder, service, client } = running);
  });
  afterAll(() => running?.stop());

  it('is ready once the database answers', async () => {
    const response = await fetch(`${service.url}/health/ready`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; info: Record<string, { status: string }> };
    expect(body.status).toBe('ok');
    expect(body.info.database!.status).toBe('up');
    expect(body.info.notifications).toMatchObject({ status: 'up', source: 'local-folder' });
  });

  it('ingests a file dropped into the folder: every tweet and embedded original, exactly once', async () => {
    const expectedIds = realSampleTweetIds();
    await copyFile(REAL_SAMPLE, path.join(folder, 'streaming-sample-2018.jsonl.gz'));
    const file = await eventually(async () => {
      const { rows } = await client.query(`SELECT status, lines, tweets, inserted, rejected, error FROM ingest_files`);
      return rows[0]?.status === 'done' || rows[0]?.status === 'failed' ? rows[0] : undefined;
    });
    expect(file).toMatchObject({ status: 'done', lines: '72', rejected: '0', error: null });
    const { rows } = await client.query('SELECT id::text FROM tweets ORDER BY id::text');
    expect(rows.map((row: { id: string }) => row.id)).toEqual(expectedIds);
    expect(Number(file.inserted)).toBe(expectedIds.length);
  });

  it('reports files, tweets and the executor in /status', async () => {
    const status = (await (await fetch(`${service.url}/status`)).json()) as {
      files: Record<string, number>;
      tweets: { total: number };
      executor: { kind: string; size: number };
    };
    expect(status.files).toEqual({ pending: 0, processing: 0, done: 1, failed: 0 });
    expect(status.tweets.total).toBe(realSampleTweetIds().length);
    expect(status.executor).toMatchObject({ kind: 'threads', size: 2, failed: 0 });
  });

  it('exits 0 on SIGTERM after closing everything', async () => {
    expect(await service.stop('SIGTERM')).toBe(0);
    expect(service.output()).toContain('shutdown complete');
  });
});
