import { AuthModule } from './auth/auth.module.js';
import { BackfillsModule } from './backfills/backfills.module.js';
import { FilesModule } from './files/files.module.js';
import { HealthModule } from './health/health.module.js';
import { HttpModule } from './http/http.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { NotificationsModule } from './notifications/notifications.module.js';
import { PauseModule } from './pause/pause.module.js';
import { StatusPageModule } from './status-page/status-page.module.js';
import { StatusModule } from './status/status.module.js';

/** What `serve` adds to the ingest core (AppModule): notifications, backfills, the HTTP API. */
export const DAEMON_MODULES = [
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
];
