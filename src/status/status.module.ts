import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { StatusController } from './status.controller.js';
import { StatusService } from './status.service.js';

@Module({
  imports: [IngestModule, NotificationsModule],
  controllers: [StatusController],
  providers: [StatusService],
})
export class StatusModule {}
