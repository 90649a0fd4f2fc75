import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuthModule } from './auth/auth.module.js';
import { BackfillsModule } from './backfills/backfills.module.js';
import { ConfigModule, type AppConfig } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { ExecutorModule } from './executor/executor.module.js';
import { FilesModule } from './files/files.module.js';
import { HealthModule } from './health/health.module.js';
import { HttpModule } from './http/http.module.js';
import { IngestModule } from './ingest/ingest.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { PauseModule } from './pause/pause.module.js';
import { StatusPageModule } from './status-page/status-page.module.js';
import { StatusModule } from './status/status.module.js';
import { StorageModule } from './storage/storage.module.js';

export type AppMode = 'serve' | 'ingest';

/**
 * `serve` is the daemon: ingest plus notifications, backfills (and their schedule) and the HTTP
 * API. `ingest` is the one-shot command: the same ingest path with no HTTP, no notifications,
 * no schedule and no pause switch.
 */
@Module({})
export class AppModule {
  static forRoot(options: { config: AppConfig; logger: Logger; mode: AppMode }): DynamicModule {
    const core = [
      ConfigModule.forRoot(options.config),
      LoggingModule.forRoot(options.logger),
      DatabaseModule.forRoot({ migrate: options.mode === 'ingest' || options.config.MIGRATE_ON_START }),
      StorageModule,
      ExecutorModule,
      IngestModule,
    ];
    const daemon =
      options.mode === 'serve'
        ? [
            HttpModule,
            AuthModule,
            NotificationsModule,
            HealthModule,
            PauseModule,
            BackfillsModule,
            FilesModule,
            StatusModule,
            StatusPageModule,
            MetricsModule,
          ]
        : [];
    return { module: AppModule, imports: [...core, ...daemon] };
  }
}
