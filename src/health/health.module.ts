import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { IngestModule } from '../ingest/ingest.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), IngestModule, NotificationsModule],
  controllers: [HealthController],
})
export class HealthModule {}
