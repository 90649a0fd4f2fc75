import { Module } from '@nestjs/common';
import { BackfillsModule } from '../backfills/backfills.module.js';
import { IngestModule } from '../ingest/ingest.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { PauseModule } from '../pause/pause.module.js';
import { StatusController } from './status.controller.js';
import { StatusHistoryRepository } from './status-history.repository.js';
import { StatusService } from './status.service.js';

@Module({
  imports: [IngestModule, NotificationsModule, PauseModule, BackfillsModule],
  controllers: [StatusController],
  providers: [StatusService, StatusHistoryRepository],
})
export class StatusModule {}
