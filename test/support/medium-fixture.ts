import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { connectTestDataSource, createTestDatabase, type TestDatabase } from './database.js';

export interface TestDataSourceOptions {
  /** Connections of the pool (connectTestDataSource's default when left out). */
  poolSize?: number;
  /** Tables emptied before each test (RESTART IDENTITY CASCADE), so that every test starts from the same ids. */
  truncate?: readonly string[];
}

/**
 * The fixture of a medium (repository) test: registers, in the enclosing describe, the hooks that
 * clone a fresh migrated database and connect to it before the tests, empty `truncate` before each
 * test, and close and drop it after them. `connected` receives the data source once it is open,
 * to build the repositories under test. This file's beforeEach runs before the ones the spec
 * registers after calling it, so a spec's own beforeEach can insert rows into the emptied tables.
 */
export function useTestDataSource(options: TestDataSourceOptions, connected: (dataSource: DataSource) => void): void {
  const tables = options.truncate ?? [];
  for (const table of tables) {
    // The names are interpolated into SQL: accept plain identifiers only.
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`useTestDataSource: truncate: ${JSON.stringify(table)} is not a plain table name`);
  }
  let database: TestDatabase | undefined;
  let dataSource: DataSource | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await connectTestDataSource(database, options.poolSize);
    connected(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });
  if (tables.length > 0) {
    beforeEach(async () => {
      await dataSource!.query(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY CASCADE`);
    });
  }
}
