import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { IngestModule } from '../ingest/ingest.module.js';
import { BackfillSchedulerService } from './backfill-scheduler.service.js';
import { BackfillsController } from './backfills.controller.js';
import { BackfillsRepository } from './backfills.repository.js';
import { BackfillsService } from './backfills.service.js';

/** POST/GET/DELETE /backfills, the background listing, and the scheduled full scan. */
@Module({
  imports: [ScheduleModule.forRoot(), IngestModule],
  controllers: [BackfillsController],
  providers: [BackfillsRepository, BackfillsService, BackfillSchedulerService],
  exports: [BackfillsService, BackfillSchedulerService],
})
export class BackfillsModule {}
