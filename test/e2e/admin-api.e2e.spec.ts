import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, logLines } from '../support/admin-api.js';
import { startAdminService, type AdminService } from '../support/admin-service.js';
import { eventually, type RunningService } from '../support/service.js';
import { tweetFileContent, writeTweetFiles } from '../support/tweet-files.js';

const ADMIN_TOKEN = 'admin-api-e2e-token-0123456789abcdef';
const WRONG_TOKEN = 'wrong-token-0123456789abcdef-never-valid';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

interface LedgerFile {
  id: string;
  name: string;
  status: string;
  attempts: number;
  error: string | null;
  rejected: number;
  rejectedRecords?: { lineNo: number; reason: string; raw: string }[];
}

describe('admin API (built service, real PostgreSQL)', () => {
  let running: AdminService | undefined;
  let service: RunningService;
  let client: pg.Client;
  let api: ReturnType<typeof adminApi>;
  let backfillId: string;

  beforeAll(async () => {
    running = await startAdminService({
      name: 'admin-api-e2e',
      token: ADMIN_TOKEN,
      seed: async (bucket) => {
        await writeTweetFiles(bucket, ['in'], { filesPerFolder: 2, tweetsPerFile: 4 });
        // A file that is not gzip past its header fails for good; one with bad lines is done, with dead letters.
        await writeFile(path.join(bucket, 'in/corrupt.jsonl.gz'), tweetFileContent(['1']).subarray(0, 15));
        await writeFile(path.join(bucket, 'in/with-rejects.jsonl'), `not json at all\n${JSON.stringify({ hello: 'world' })}\n`);
      },
      env: { EXECUTOR: 'threads', EXECUTOR_SIZE: '2', POLL_INTERVAL_MS: '100' },
    });
    ({ service, client, api } = running);
  });
  afterAll(() => running?.stop());

  describe('auth', () => {
    const adminRoutes: [string, string][] = [
      ['POST', '/backfills'],
      ['GET', '/backfills'],
      ['GET', '/backfills/1'],
      ['DELETE', '/backfills/1'],
      ['GET', '/files'],
      ['GET', '/files/1'],
      ['POST', '/files/1/retry'],
      ['POST', '/ingest/pause'],
      ['POST', '/ingest/resume'],
    ];

    it('answers 401 JSON on every admin route without a token or with a wrong one', async () => {
      for (const [method, route] of adminRoutes) {
        for (const token of [null, WRONG_TOKEN, `${ADMIN_TOKEN}x`]) {
          const response = await api<ErrorBody>(method, route, { token, body: method === 'POST' ? { prefix: 'in/' } : undefined });
          expect(response.status, `${method} ${route}`).toBe(401);
          expect(response.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/^authorization: /) });
          expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
        }
      }
      // Nothing was done on the way: no backfill, no pause.
      const { rows } = await client.query('SELECT (SELECT count(*)::int FROM backfills) AS backfills, (SELECT count(*)::int FROM service_settings) AS settings');
      expect(rows[0]).toEqual({ backfills: 0, settings: 0 });
    });

    it('never writes a token to the log', () => {
      expect(service.output()).not.toContain(ADMIN_TOKEN);
      expect(service.output()).not.toContain(WRONG_TOKEN);
    });

    it('leaves /status, /health and /metrics open to ops tooling', async () => {
      for (const route of ['/status', '/health', '/health/live', '/health/ready', '/metrics', '/docs-json']) {
        expect((await fetch(`${service.url}${route}`)).status, route).toBe(200);
      }
    });
  });

  describe('validation', () => {
    const rejected = async (body: unknown, rawBody?: string) => {
      const response = await api<ErrorBody>('POST', '/backfills', rawBody === undefined ? { body } : { rawBody });
      expect(response.body.statusCode).toBe(response.status);
      expect(response.body.error).toBe(response.status === 400 ? 'Bad Request' : 'Payload Too Large');
      return `${response.status} ${response.body.message}`;
    };

    it('answers 400 naming the field', async () => {
      expect(await rejected({ months: ['2017-13'] })).toMatch(/^400 months: must be a month as YYYY-MM/);
      expect(await rejected({ months: ['2017-08', '2017-00'] })).toMatch(/^400 months: .*"2017-00"/);
      expect(await rejected({ from: '2017-08' })).toBe('400 to: required together with from');
      expect(await rejected({ from: '2017-10', to: '2017-08' })).toMatch(/^400 to: must not be before from/);
      expect(await rejected({})).toMatch(/^400 body: expected one of "prefix", "months", or "from" and "to"/);
      expect(await rejected({ prefix: 'in/', months: ['2017-08'] })).toMatch(/^400 months: cannot be combined with prefix/);
      expect(await rejected({ prefix: 'in/', force: true })).toBe('400 force: unknown field');
      expect(await rejected({ prefix: 'x'.repeat(1025) })).toBe('400 prefix: must be at most 1024 characters');
      expect(await rejected(null, '')).toMatch(/^400 body: expected one of/);
      expect(await rejected(null, '[{"prefix":"in/"}]')).toBe('400 body: must be a JSON object');
      expect(await rejected(null, '{"prefix": ')).toBe('400 body: malformed JSON');
      expect(await rejected(null, JSON.stringify({ prefix: 'a'.repeat(17 * 1024) }))).toBe('413 body: larger than the 16 KiB limit');
    });

    it('rejects prefixes that escape the storage root or carry unsafe characters', async () => {
      for (const prefix of ['../', '../../etc/', 'in/../../', '/etc/', '..']) {
        expect(await rejected({ prefix })).toMatch(/^400 prefix: must stay inside the storage root/);
      }
      for (const prefix of ["in/' OR 1=1; --", 'in/%2e%2e/', 'in\\..\\..\\', 'in/*', 'in/ x']) {
        expect(await rejected({ prefix })).toBe('400 prefix: may contain only letters, digits and . _ - / = + @');
      }
      const { rows } = await client.query('SELECT count(*)::int AS backfills FROM backfills');
      expect(rows[0].backfills).toBe(0);
    });

    it('validates ids and query parameters', async () => {
      expect((await api<ErrorBody>('GET', '/backfills/abc')).body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'id: must be a positive whole number' });
      expect((await api<ErrorBody>('GET', '/files/0')).status).toBe(400);
      expect((await api<ErrorBody>('GET', '/backfills/999')).body).toEqual({ statusCode: 404, error: 'Not Found', message: 'id: no backfill 999' });
      expect((await api<ErrorBody>('GET', '/files?limit=501')).body.message).toBe('limit: must be at most 500');
      expect((await api<ErrorBody>('GET', '/files?status=lost')).body.message).toBe('status: must be one of pending, processing, done, failed');
      expect((await api<ErrorBody>('GET', '/files?prefix=../')).status).toBe(200);
      expect((await api<ErrorBody>('GET', '/files?order=name')).body.message).toBe('order: unknown field');
      expect((await api<ErrorBody>('GET', '/nowhere')).body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    });
  });

  describe('files', () => {
    beforeAll(async () => {
      const created = await api<{ id: string }>('POST', '/backfills', { body: { prefix: 'in/' } });
      expect(created.status).toBe(202);
      backfillId = created.body.id;
      await eventually(async () => {
        const { body } = await api<{ status: string }>('GET', `/backfills/${backfillId}`);
        return body.status === 'done' ? body : undefined;
      });
    });

    it('lists the ledger by id with filters and a cursor', async () => {
      const all = await api<{ items: LedgerFile[]; nextCursor: string | null }>('GET', `/files?backfill=${backfillId}`);
      expect(all.body.items.map((file) => file.name)).toEqual(['in/corrupt.jsonl.gz', 'in/part-000.jsonl.gz', 'in/part-001.jsonl.gz', 'in/with-rejects.jsonl']);
      expect(all.body.nextCursor).toBeNull();
      const page = await api<{ items: LedgerFile[]; nextCursor: string | null }>('GET', '/files?limit=3');
      const next = await api<{ items: LedgerFile[]; nextCursor: string | null }>('GET', `/files?limit=3&after=${page.body.nextCursor}`);
      expect([...page.body.items, ...next.body.items].map((file) => file.id)).toEqual(all.body.items.map((file) => file.id));
      expect((await api<{ items: LedgerFile[] }>('GET', '/files?status=failed')).body.items.map((file) => file.name)).toEqual(['in/corrupt.jsonl.gz']);
      expect((await api<{ items: LedgerFile[] }>('GET', '/files?prefix=in/part-')).body.items).toHaveLength(2);
    });

    it('shows a file with its error or its first rejected records', async () => {
      const { body: list } = await api<{ items: LedgerFile[] }>('GET', '/files');
      const withRejects = list.items.find((file) => file.name === 'in/with-rejects.jsonl')!;
      const detail = await api<LedgerFile>('GET', `/files/${withRejects.id}`);
      expect(detail.body).toMatchObject({ status: 'done', rejected: 2 });
      expect(detail.body.rejectedRecords!.map((record) => [record.lineNo, record.raw])).toEqual([
        [1, 'not json at all'],
        [2, '{"hello":"world"}'],
      ]);
      const corrupt = list.items.find((file) => file.name === 'in/corrupt.jsonl.gz')!;
      expect((await api<LedgerFile>('GET', `/files/${corrupt.id}`)).body).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringMatching(/^corrupt file in\/corrupt\.jsonl\.gz/) });
      expect((await api<ErrorBody>('GET', '/files/999999')).status).toBe(404);
    });

    it('retries a failed file (202, pending, attempts 0) and refuses to retry any other (409)', async () => {
      const { body: failed } = await api<{ items: LedgerFile[] }>('GET', '/files?status=failed');
      const corrupt = failed.items[0]!;
      const retried = await api<LedgerFile>('POST', `/files/${corrupt.id}/retry`);
      expect(retried.status).toBe(202);
      expect(retried.body).toMatchObject({ id: corrupt.id, status: 'pending', attempts: 0, error: corrupt.error });
      // Still corrupt: it fails again after exactly one new attempt.
      const again = await eventually(async () => {
        const { body } = await api<LedgerFile>('GET', `/files/${corrupt.id}`);
        return body.status === 'failed' ? body : undefined;
      });
      expect(again.attempts).toBe(1);

      const { body: done } = await api<{ items: LedgerFile[] }>('GET', '/files?status=done&limit=1');
      expect((await api<ErrorBody>('POST', `/files/${done.items[0]!.id}/retry`)).body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: `file ${done.items[0]!.id} is done; only a failed file can be retried`,
      });
      expect((await api<ErrorBody>('POST', '/files/999999/retry')).status).toBe(404);
    });

    it('refuses to cancel a finished backfill (409)', async () => {
      expect((await api<ErrorBody>('DELETE', `/backfills/${backfillId}`)).body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    });
  });

  describe('pause and resume', () => {
    it('switches the cluster-wide flag, shown in /status', async () => {
      expect((await api('POST', '/ingest/pause')).body).toMatchObject({ paused: true });
      expect(((await (await fetch(`${service.url}/status`)).json()) as { paused: boolean }).paused).toBe(true);
      const { rows } = await client.query(`SELECT value FROM service_settings WHERE key = 'ingest.paused'`);
      expect(rows).toEqual([{ value: true }]);
      expect((await api('POST', '/ingest/resume')).body).toMatchObject({ paused: false });
      expect(((await (await fetch(`${service.url}/status`)).json()) as { paused: boolean }).paused).toBe(false);
    });
  });

  describe('ops endpoints', () => {
    it('/status reports the cluster, the stages and this replica', async () => {
      const status = (await (await fetch(`${service.url}/status`)).json()) as Record<string, unknown> & {
        files: Record<string, number>;
        tweets: { total: number };
        throughput: { lastMinute: { files: number; tweets: number }; last15Minutes: { files: number; tweets: number; tweetsPerSecond: number } };
        stages: { files: number; seconds: Record<string, number>; bottleneck: string | null; hint: string };
        backfills: { active: unknown[] };
      };
      expect(status.files).toEqual({ pending: 0, processing: 0, done: 3, failed: 1 });
      expect(status.tweets.total).toBe(8);
      expect(status).toMatchObject({ queueDepth: 0, paused: false, backfills: { active: [] } });
      expect(status.throughput.last15Minutes).toMatchObject({ files: 3, tweets: 8 });
      expect(status.throughput.last15Minutes.tweetsPerSecond).toBeCloseTo(8 / 900, 2);
      expect(status.stages.files).toBe(3);
      expect(Object.keys(status.stages.seconds)).toEqual(['read', 'decompress', 'parse', 'clean', 'write']);
      expect(['read', 'decompress', 'parse', 'clean', 'write']).toContain(status.stages.bottleneck);
      expect(status.stages.hint.length).toBeGreaterThan(20);
      expect(status).toMatchObject({
        executor: { kind: 'threads', size: 2 },
        replica: { running: true, draining: false, processed: { done: 3, failed: 2 } },
        notifications: { source: 'none', healthy: true },
      });
    });

    it('/health, /health/live and /health/ready answer with terminus reports', async () => {
      for (const route of ['/health', '/health/ready']) {
        const body = (await (await fetch(`${service.url}${route}`)).json()) as { status: string; info: Record<string, { status: string }> };
        expect(body.status).toBe('ok');
        expect(body.info).toMatchObject({ database: { status: 'up' }, ingest: { status: 'up' }, notifications: { status: 'up' } });
      }
      expect(await (await fetch(`${service.url}/health/live`)).json()).toMatchObject({ status: 'ok', info: { process: { status: 'up' } } });
    });

    it('/metrics exposes the dashboard metrics in Prometheus format', async () => {
      const response = await fetch(`${service.url}/metrics`);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      for (const line of [
        '# TYPE tweet_ingest_files gauge',
        'tweet_ingest_files{status="done"} 3',
        'tweet_ingest_files{status="failed"} 1',
        'tweet_ingest_files{status="pending"} 0',
        '# TYPE tweet_ingest_tweets_inserted_total counter',
        'tweet_ingest_tweets_inserted_total 8',
        'tweet_ingest_rejected_records_total 2',
        '# TYPE tweet_ingest_stage_duration_seconds histogram',
        'tweet_ingest_queue_depth 0',
        'tweet_ingest_executor_size 2',
        'tweet_ingest_executor_busy_workers 0',
        'tweet_ingest_notifications_total{outcome="received"} 0',
        'tweet_ingest_notifications_total{outcome="acked"} 0',
      ]) {
        expect(text).toContain(line);
      }
      for (const stage of ['read', 'decompress', 'parse', 'clean', 'write']) {
        expect(text).toContain(`tweet_ingest_stage_duration_seconds_count{stage="${stage}"} 3`);
      }
    });

    it('/docs serves the OpenAPI UI and document, with examples and bearer auth', async () => {
      const page = await fetch(`${service.url}/docs`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('swagger');
      const document = (await (await fetch(`${service.url}/docs-json`)).json()) as {
        paths: Record<string, Record<string, { security?: unknown[] }>>;
        components: { schemas: Record<string, { properties: Record<string, { example?: unknown }> }>; securitySchemes: Record<string, unknown> };
      };
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining(['/backfills', '/backfills/{id}', '/files', '/files/{id}', '/files/{id}/retry', '/ingest/pause', '/ingest/resume', '/status', '/metrics']),
      );
      expect(document.components.schemas.CreateBackfillDto!.properties.months!.example).toEqual(['2017-08', '2017-09', '2017-10']);
      expect(document.components.schemas.BackfillDto!.properties.etaSeconds).toBeDefined();
      expect(document.paths['/backfills']!.post!.security).toEqual([{ bearer: [] }]);
      expect(document.components.securitySchemes).toHaveProperty('bearer');
    });
  });
});

describe('admin API without ADMIN_TOKEN (local mode)', () => {
  let running: AdminService | undefined;
  let service: RunningService;

  beforeAll(async () => {
    running = await startAdminService({ name: 'admin-token-e2e', token: '', env: { NODE_ENV: 'development' } });
    ({ service } = running);
  });
  afterAll(() => running?.stop());

  it('generates a token, prints it once on stdout (not in a log line), and accepts only it', async () => {
    const token = await eventually(async () => /Authorization: Bearer (\S+)/.exec(service.output())?.[1]);
    expect(service.output().split(token)).toHaveLength(2);
    expect(logLines(service.output(), 'tweet-ingest serving')).toHaveLength(1);
    expect(service.output().split('\n').filter((line) => line.startsWith('{') && line.includes(token))).toEqual([]);
    const api = adminApi(service.url, token);
    expect((await api('GET', '/backfills')).status).toBe(200);
    expect((await api('GET', '/backfills', { token: null })).status).toBe(401);
  });
});
