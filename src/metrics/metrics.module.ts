import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/** GET /metrics, and the per-file observations of the claim loop. */
@Module({
  imports: [IngestModule, NotificationsModule],
  controllers: [MetricsController],
  providers: [MetricsService],
})
export class MetricsModule {}
