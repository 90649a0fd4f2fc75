import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { adminApi } from './admin-api.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { startService, type RunningService } from './service.js';

export interface AdminServiceOptions {
  /** Prefix of the temporary bucket folder's name, so that a leftover folder says which spec left it. */
  name: string;
  /**
   * ADMIN_TOKEN of the service, and the bearer `api` sends. '' lets the service generate one
   * (outside production); left out, ADMIN_TOKEN is not set and `api` sends no bearer.
   */
  token?: string;
  /** Puts files into the bucket folder before the service starts. */
  seed?: (bucket: string) => Promise<unknown>;
  /**
   * Variables on top of the defaults below (the executor is always the spec's choice). A variable
   * set to undefined is removed: the service then uses its own default.
   */
  env?: Record<string, string | undefined>;
  /** Services started on the same database and bucket (default 1): replicas of one deployment. */
  replicas?: number;
}

export interface AdminService {
  database: TestDatabase;
  bucket: string;
  /** The first (or only) replica. */
  service: RunningService;
  services: RunningService[];
  /** Connected to the test database, for asserting on the ledger and the tweets directly. */
  client: pg.Client;
  /** The admin API of `service`. */
  api: ReturnType<typeof adminApi>;
  /** Kills what still runs, drops the database and removes the bucket folder. */
  stop(): Promise<void>;
}

/**
 * The built service (`node dist/main.js serve`) on a fresh test database and a temporary local
 * bucket folder. By default only backfills find files (no folder watcher, no scheduled scan),
 * so that a spec decides when what is ingested.
 */
export async function startAdminService(options: AdminServiceOptions): Promise<AdminService> {
  const database = await createTestDatabase();
  const bucket = await mkdtemp(path.join(tmpdir(), `${options.name}-`));
  const services: RunningService[] = [];
  let client: pg.Client | undefined;
  const stop = async () => {
    await client?.end();
    await Promise.all(services.map((service) => (service.child.exitCode === null ? service.stop('SIGKILL') : undefined)));
    await database.drop();
    await rm(bucket, { recursive: true, force: true });
  };
  try {
    await options.seed?.(bucket);
    const env = serviceEnvironment(database, bucket, options);
    // allSettled, so that a replica which did start is still stopped when another one fails.
    const started = await Promise.allSettled(Array.from({ length: options.replicas ?? 1 }, () => startService(env)));
    for (const result of started) if (result.status === 'fulfilled') services.push(result.value);
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    const connected = new pg.Client({ connectionString: database.url });
    await connected.connect();
    client = connected;
    const service = services[0]!;
    return { database, bucket, service, services, client: connected, api: adminApi(service.url, options.token ?? null), stop };
  } catch (error) {
    // The caller gets no handle to clean up with: leave no database, folder or process behind.
    await stop();
    throw error;
  }
}

function serviceEnvironment(database: TestDatabase, bucket: string, options: AdminServiceOptions): Record<string, string> {
  const env: Record<string, string | undefined> = {
    DATABASE_URL: database.url,
    STORAGE_URL: bucket,
    WATCH_LOCAL_FOLDER: 'false',
    BACKFILL_CRON: 'off',
    ADMIN_TOKEN: options.token,
    ...options.env,
  };
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
