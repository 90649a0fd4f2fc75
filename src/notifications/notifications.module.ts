import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module.js';
import { NotificationsService } from './notifications.service.js';

@Module({
  imports: [IngestModule],
  providers: [NotificationsService],
  exports: [NotificationsService],
})
export class NotificationsModule {}
