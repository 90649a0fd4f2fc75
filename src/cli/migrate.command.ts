import { createDataSource, initializeDataSource, redactDatabaseUrl, runMigrationsExclusively } from '../database/data-source.js';
import { EmbeddedDatabase } from '../database/embedded-postgres.js';
import { parseEnvironment } from '../config/environment.js';
import { createLogger } from '../logging/logger.js';

/** Applies pending migrations (the Helm pre-install/pre-upgrade Job runs this) and exits. */
export async function runMigrate(): Promise<void> {
  const config = parseEnvironment(process.env);
  const logger = createLogger(config);
  const embedded = config.DATABASE_URL ? null : new EmbeddedDatabase(config.DATA_DIR, config.EMBEDDED_POSTGRES_PORT, logger);
  const url = config.DATABASE_URL ?? (await embedded!.start());
  const dataSource = createDataSource(url, 2);
  try {
    await initializeDataSource(dataSource, url);
    const applied = await runMigrationsExclusively(dataSource);
    logger.info({ database: redactDatabaseUrl(url), applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date');
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}
