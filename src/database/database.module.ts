import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.module.js';
import { LOGGER } from '../logging/logger.js';
import { createDataSource, initializeDataSource, runMigrationsExclusively } from './data-source.js';
import { EmbeddedDatabase } from './embedded-postgres.js';

export const EMBEDDED_DATABASE = Symbol('EMBEDDED_DATABASE');
export const DATABASE_OPTIONS = Symbol('DATABASE_OPTIONS');

export interface DatabaseOptions {
  /** Apply pending migrations before anything else touches the database. */
  migrate: boolean;
}

/**
 * The DataSource, connected at boot. Without DATABASE_URL an embedded PostgreSQL is started
 * first; on shutdown the DataSource is destroyed before the embedded server stops.
 */
@Global()
@Module({
  providers: [
    {
      provide: EMBEDDED_DATABASE,
      inject: [APP_CONFIG, LOGGER],
      useFactory: (config: AppConfig, logger: Logger) =>
        config.DATABASE_URL ? null : new EmbeddedDatabase(config.DATA_DIR, config.EMBEDDED_POSTGRES_PORT, logger),
    },
    {
      provide: DataSource,
      inject: [APP_CONFIG, LOGGER, EMBEDDED_DATABASE, DATABASE_OPTIONS],
      useFactory: async (config: AppConfig, logger: Logger, embedded: EmbeddedDatabase | null, options: DatabaseOptions) => {
        const url = config.DATABASE_URL ?? (await embedded!.start());
        const dataSource = createDataSource(url, config.DATABASE_POOL_SIZE);
        await initializeDataSource(dataSource, url);
        if (options.migrate) {
          const applied = await runMigrationsExclusively(dataSource);
          if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
        }
        return dataSource;
      },
    },
  ],
  exports: [DataSource],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(EMBEDDED_DATABASE) private readonly embedded: EmbeddedDatabase | null,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  static forRoot(options: DatabaseOptions) {
    return {
      module: DatabaseModule,
      providers: [{ provide: DATABASE_OPTIONS, useValue: options }],
      global: true,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    // Logged so the shutdown order (notifications closed before the database) can be checked.
    this.logger.info('database connections closed');
    await this.embedded?.stop();
  }
}
