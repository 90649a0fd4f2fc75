import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { ConfigModule, type AppConfig } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { ExecutorModule } from './executor/executor.module.js';
import { IngestModule } from './ingest/ingest.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { StorageModule } from './storage/storage.module.js';

export type AppMode = 'serve' | 'ingest';

/**
 * `serve` is the daemon: ingest plus notifications, backfills (and their schedule) and the HTTP
 * API. `ingest` is the one-shot command: the same ingest path with no HTTP, no notifications,
 * no schedule and no pause switch.
 *
 * The daemon's modules are imported only in `serve` mode: loading them (Express, Swagger,
 * Terminus, the scheduler) took ~0.5 s of every one-shot `ingest` run (measured on this 2-core
 * machine, BENCHMARKS.md).
 */
@Module({})
export class AppModule {
  static async forRoot(options: { config: AppConfig; logger: Logger; mode: AppMode }): Promise<DynamicModule> {
    const core = [
      ConfigModule.forRoot(options.config),
      LoggingModule.forRoot(options.logger),
      DatabaseModule.forRoot({ migrate: options.mode === 'ingest' || options.config.MIGRATE_ON_START }),
      StorageModule,
      ExecutorModule,
      IngestModule,
    ];
    const daemon = options.mode === 'serve' ? (await import('./daemon.modules.js')).DAEMON_MODULES : [];
    return { module: AppModule, imports: [...core, ...daemon] };
  }
}
