import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/project-paths.js';
import { adminApi } from '../support/admin-api.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { eventually, freePort, runCli, startService, type RunningService } from '../support/service.js';
import { writeTweetFiles } from '../support/tweet-files.js';
import { FAULT_ADMIN_TOKEN, faultEnvironment } from './support/fault-service.js';

// Security (issue 7), beyond what test/e2e/admin-api.e2e.spec.ts already covers (401 on every
// admin route, constant-time token check, 16 KiB body limit, field-named 400s, prefixes that
// escape the root): secrets never reach logs or error bodies, SQL-looking and oversized input
// is refused before any query (or bound as a parameter), and the image runs as non-root.

const DATABASE_PASSWORD = 'security-db-password-never-logged';

describe('secrets stay out of logs and error messages', () => {
  it('redacts the database password when PostgreSQL cannot be reached at start', async () => {
    const closedPort = await freePort();
    for (const command of [['migrate'], ['serve']]) {
      const result = await runCli(command, {
        DATABASE_URL: `postgres://postgres:${DATABASE_PASSWORD}@127.0.0.1:${closedPort}/nowhere`,
        ADMIN_TOKEN: FAULT_ADMIN_TOKEN,
        PORT: '0',
        LOG_FORMAT: 'json',
      });
      expect(result.code, command[0]).not.toBe(0);
      const output = result.stdout + result.stderr;
      expect(output, command[0]).toContain(`postgres://postgres:***@127.0.0.1:${closedPort}/nowhere`);
      expect(output, command[0]).not.toContain(DATABASE_PASSWORD);
      expect(output, command[0]).not.toContain(FAULT_ADMIN_TOKEN);
    }
  });

  it('never echoes a secret variable in a configuration error', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: `mysql://root:${DATABASE_PASSWORD}@db/x`, ADMIN_TOKEN: 'short-secret' });
    expect(result.code).not.toBe(0);
    const output = result.stdout + result.stderr;
    expect(output).toContain('DATABASE_URL=<redacted>: expected a postgres://user:password@host:port/database URL');
    expect(output).toContain('ADMIN_TOKEN=<redacted>: expected at least 16 characters');
    expect(output).not.toContain(DATABASE_PASSWORD);
    expect(output).not.toContain('short-secret');
  });
});

describe('hostile requests (built service, real PostgreSQL)', () => {
  let database: TestDatabase;
  let bucket: string;
  let service: RunningService;
  let client: pg.Client;
  let api: ReturnType<typeof adminApi>;
  let tablesBefore: unknown;

  const tableCounts = async () =>
    (
      await client.query(
        `SELECT (SELECT count(*)::int FROM ingest_files) AS files, (SELECT count(*)::int FROM tweets) AS tweets,
                (SELECT count(*)::int FROM backfills) AS backfills, (SELECT count(*)::int FROM service_settings) AS settings`,
      )
    ).rows[0];

  beforeAll(async () => {
    database = await createTestDatabase();
    bucket = await mkdtemp(path.join(tmpdir(), 'faults-security-'));
    await writeTweetFiles(bucket, ['in'], { filesPerFolder: 2, tweetsPerFile: 3 });
    const url = new URL(database.url);
    url.username = 'postgres';
    url.password = DATABASE_PASSWORD; // trust auth: accepted, and must never be shown
    service = await startService(faultEnvironment(url.toString(), bucket));
    api = adminApi(service.url, FAULT_ADMIN_TOKEN);
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    tablesBefore = await tableCounts();
  });
  afterAll(async () => {
    await client?.end();
    if (service?.child.exitCode === null) await service.stop('SIGKILL');
    await database?.drop();
    await rm(bucket, { recursive: true, force: true });
  });

  it('answers 400 to SQL-looking values in every parameter, before any query', async () => {
    const injection = "1' OR '1'='1'; DROP TABLE tweets; --";
    const query = encodeURIComponent(injection);
    const probes: [string, string, unknown, RegExp][] = [
      ['GET', `/files?status=${query}`, undefined, /^status: must be one of/],
      ['GET', `/files?backfill=${query}`, undefined, /^backfill: must be a backfill id/],
      ['GET', `/files?after=${query}`, undefined, /^after: must be a file id/],
      ['GET', `/files?prefix=${query}`, undefined, /^prefix: may contain only/],
      ['GET', `/files?limit=${query}`, undefined, /^limit: must be/],
      ['GET', `/files/${query}`, undefined, /^id: must be a positive whole number/],
      ['POST', `/files/${query}/retry`, undefined, /^id: must be a positive whole number/],
      ['GET', `/backfills/${query}`, undefined, /^id: must be a positive whole number/],
      ['GET', `/backfills?before=${query}`, undefined, /^before: /],
      ['DELETE', `/backfills/${query}`, undefined, /^id: must be a positive whole number/],
      ['POST', '/backfills', { months: [injection] }, /^months: must be a month as YYYY-MM/],
      ['POST', '/backfills', { from: '2017-08', to: injection }, /^to: /],
      ['POST', '/backfills', { prefix: injection }, /^prefix: may contain only/],
    ];
    for (const [method, route, body, message] of probes) {
      const response = await api<{ statusCode: number; message: string }>(method, route, { body });
      expect(response.status, `${method} ${route}`).toBe(400);
      expect(response.body.message, `${method} ${route}`).toMatch(message);
    }
    expect(await tableCounts()).toEqual(tablesBefore);
  });

  it('refuses very long values, unknown fields, prototype keys and non-JSON bodies with 400', async () => {
    const long = 'a'.repeat(5000);
    expect((await api<{ message: string }>('GET', `/files?prefix=${long}`)).body.message).toBe('prefix: must be at most 1024 characters');
    expect((await api<{ message: string }>('GET', `/files/${'9'.repeat(40)}`)).status).toBe(400);
    expect((await api<{ message: string }>('POST', '/backfills', { body: { months: Array.from({ length: 1000 }, () => '2017-08') } })).status).toBe(400);
    expect((await api<{ message: string }>('POST', '/backfills', { rawBody: '{"prefix":"in/","__proto__":{"admin":true}}' })).body.message).toBe('__proto__: unknown field');
    expect((await api<{ message: string }>('POST', '/backfills', { rawBody: '{"prefix":"in/","constructor":{"prototype":{}}}' })).body.message).toBe('constructor: unknown field');
    const textBody = await fetch(`${service.url}/backfills`, {
      method: 'POST',
      headers: { authorization: `Bearer ${FAULT_ADMIN_TOKEN}`, 'content-type': 'text/plain' },
      body: 'prefix=in/',
    });
    expect(textBody.status).toBe(400);
    expect(await tableCounts()).toEqual(tablesBefore);
  });

  it('takes a prefix filter literally, as a bound parameter: a LIKE wildcard matches nothing', async () => {
    const created = await api<{ id: string }>('POST', '/backfills', { body: { prefix: 'in/' } });
    expect(created.status).toBe(202);
    await eventually(async () => ((await api<{ items: unknown[] }>('GET', '/files?prefix=in/')).body.items.length === 2 ? true : undefined), 30_000, 'two files listed');
    // As a LIKE pattern `in/_` would match both files; as the literal prefix it matches none.
    expect((await api<{ items: unknown[] }>('GET', '/files?prefix=in/_')).body.items).toEqual([]);
    expect((await api<{ items: unknown[] }>('GET', '/files?prefix=in/part-00')).body.items).toHaveLength(2);
  });

  it('never writes the database password or the admin token to the log', async () => {
    await api('GET', '/files', { token: 'Bearer-but-wrong-0123456789abcdef' });
    expect(service.output().length).toBeGreaterThan(0);
    expect(service.output()).not.toContain(DATABASE_PASSWORD);
    expect(service.output()).not.toContain(FAULT_ADMIN_TOKEN);
    expect(service.output()).not.toContain('Bearer-but-wrong-0123456789abcdef');
  });
});

describe('the container runs as non-root', () => {
  it("the Dockerfile's final stage sets a non-root USER, after the last COPY", () => {
    const dockerfile = readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^FROM /m);
    const runtime = stages[stages.length - 1]!;
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((match) => match[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
    // Nothing the process runs is copied in after the switch, and nothing is chowned to it:
    // the application files stay read-only for the process (the chart adds a read-only root
    // filesystem; test/helm/chart.spec.ts checks that part).
    const lastUser = runtime.search(/^USER\s+/m);
    expect(runtime.slice(lastUser)).not.toMatch(/^(COPY|ADD|RUN)\s/m);
    expect(runtime).not.toMatch(/--chown/);
  });
});
