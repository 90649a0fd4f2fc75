import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { expect } from 'vitest';
import { adminApi } from '../../support/admin-api.js';
import { generateCorpus, type CorpusManifest } from '../../support/corpus-generator.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { eventually } from '../../support/service.js';
import { ledgerCounts } from './audit.js';

export const FAULT_ADMIN_TOKEN = 'fault-suite-admin-token-0123456789abcdef';
export const CORPUS_PREFIX = '2017/08/';

/**
 * The service's environment in the fault suite: a short lease (a dead replica's files are
 * claimed again within ~2 s), short backoff and polling, one worker and two files at a time
 * so that a small corpus still takes a few seconds, which leaves room to inject the fault
 * mid-run on a 2-core machine.
 */
export function faultEnvironment(databaseUrl: string, bucket: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    STORAGE_URL: bucket,
    WATCH_LOCAL_FOLDER: 'false',
    BACKFILL_CRON: 'off',
    ADMIN_TOKEN: FAULT_ADMIN_TOKEN,
    EXECUTOR: 'threads',
    EXECUTOR_SIZE: '1',
    CONCURRENT_FILES: '2',
    LEASE_MS: '2000',
    POLL_INTERVAL_MS: '100',
    RETRY_BASE_MS: '200',
    DRAIN_TIMEOUT_MS: '5000',
    DATABASE_POOL_SIZE: '4',
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

export interface FaultBed {
  database: TestDatabase;
  bucket: string;
  manifest: CorpusManifest;
  client: pg.Client;
  cleanup(): Promise<void>;
}

/** A fresh database, a bucket folder with a seeded corpus under CORPUS_PREFIX, and a client. */
export async function createFaultBed(options: { files: number; tweetsPerFile: number; seed: number }): Promise<FaultBed> {
  const database = await createTestDatabase();
  const bucket = await mkdtemp(path.join(tmpdir(), 'faults-'));
  const manifest = await generateCorpus({ outDir: path.join(bucket, CORPUS_PREFIX), ...options, quirks: true });
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  return {
    database,
    bucket,
    manifest,
    client,
    cleanup: async () => {
      await client.end().catch(() => undefined);
      await database.drop();
      await rm(bucket, { recursive: true, force: true });
    },
  };
}

/** POST /backfills for the corpus prefix; resolves with the backfill id. */
export async function startBackfill(serviceUrl: string, prefix = CORPUS_PREFIX): Promise<string> {
  const created = await adminApi(serviceUrl, FAULT_ADMIN_TOKEN)<{ id: string }>('POST', '/backfills', { body: { prefix } });
  expect(created.status).toBe(202);
  return created.body.id;
}

/** Waits until no ledger row is pending or processing; resolves with how long it took. */
export async function waitUntilSettled(client: pg.Client, timeoutMs = 90_000): Promise<number> {
  const started = Date.now();
  await eventually(
    async () => {
      const counts = await ledgerCounts(client);
      return counts.pending + counts.processing === 0 && counts.done + counts.failed > 0 ? counts : undefined;
    },
    timeoutMs,
    'every file done or failed',
  );
  return Date.now() - started;
}

/** Files whose lease this replica holds now (its owner id is `host:pid:random`). */
export async function filesLeasedBy(client: pg.Client, pid: number): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT name FROM ingest_files WHERE status = 'processing' AND lease_owner LIKE $1 ORDER BY name`,
    [`%:${pid}:%`],
  );
  return rows.map((row) => row.name);
}

/** One line per figure, collected into RELIABILITY.md by hand. */
export function reportFigure(caseName: string, figures: Record<string, unknown>): void {
  console.log(`[fault-figures] ${caseName} ${JSON.stringify(figures)}`);
}
