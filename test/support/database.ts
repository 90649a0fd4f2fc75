import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '../../src/database/data-source.js';
import { DIST_DIR } from '../../src/project-paths.js';

// Medium and end-to-end tests run against the real PostgreSQL of this machine (or
// TEST_DATABASE_URL). The schema is migrated once into a template database named after a hash
// of the compiled migrations; each test file clones it (CREATE DATABASE … TEMPLATE, ~50 ms).
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TEMPLATE_LOCK_KEY = 7_453_002;

function migrationsHash(): string {
  const folder = path.join(DIST_DIR, 'migrations');
  const hash = createHash('sha256');
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.js')).sort()) {
    hash.update(file).update(readFileSync(path.join(folder, file)));
  }
  return hash.digest('hex').slice(0, 12);
}

function urlOf(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function ensureTemplate(): Promise<string> {
  const template = `tweet_ingest_tpl_${migrationsHash()}`;
  await withAdmin(async (admin) => {
    // Test files start in parallel: one creates the template, the others wait for it.
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
      if (exists.rowCount) return;
      await admin.query(`CREATE DATABASE ${template}`);
      const dataSource = createDataSource(urlOf(template), 2);
      await dataSource.initialize();
      try {
        await runMigrations(dataSource);
      } finally {
        await dataSource.destroy();
      }
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  });
  return template;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database for one test file (or one test). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await ensureTemplate();
  const name = `tweet_ingest_test_${randomBytes(5).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  return {
    name,
    url: urlOf(name),
    drop: () => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export async function connectTestDataSource(database: TestDatabase, poolSize = 10): Promise<DataSource> {
  const dataSource = createDataSource(database.url, poolSize);
  await dataSource.initialize();
  return dataSource;
}
