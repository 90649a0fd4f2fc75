import pg from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS_GLOB } from '../project-paths.js';

/** The TypeORM DataSource on `pg`. The schema comes only from migrations (synchronize off). */
export function createDataSource(url: string, poolSize: number): DataSource {
  return new DataSource({
    type: 'postgres',
    // Given, not left for TypeORM to require() at run time, so the bundle carries it
    // (scripts/bundle.mjs): ~45 files fewer to load at every start.
    driver: pg,
    url,
    synchronize: false,
    migrationsRun: false,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'typeorm_migrations',
    logging: false,
    extra: {
      max: poolSize,
      application_name: 'tweet-ingest',
      // A dead database must fail fast (and be retried) rather than hang a claim or a write.
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    },
  });
}

/**
 * Connects, or throws an error that names the database (password redacted): a bare
 * `connect ECONNREFUSED 10.0.0.5:5432` does not tell an operator which setting is wrong.
 */
export async function initializeDataSource(dataSource: DataSource, url: string): Promise<void> {
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new Error(`cannot connect to PostgreSQL at ${redactDatabaseUrl(url)}: ${(error as Error).message}`);
  }
}

/** Applies pending migrations; returns their names. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  return applied.map((migration) => migration.name);
}

/** A database URL with its password replaced, for logs and error messages. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

// Replicas starting together must not run the same migration twice: the first holds this
// session-level advisory lock while it migrates, the others wait and then find nothing to do.
const MIGRATION_LOCK_KEY = 7_453_001;

export async function runMigrationsExclusively(dataSource: DataSource): Promise<string[]> {
  const lockRunner = dataSource.createQueryRunner();
  await lockRunner.connect();
  try {
    await lockRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await runMigrations(dataSource);
  } finally {
    await lockRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lockRunner.release();
  }
}
