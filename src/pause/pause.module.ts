import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module.js';
import { PauseController } from './pause.controller.js';
import { PauseService } from './pause.service.js';
import { SettingsRepository } from './settings.repository.js';

/** POST /ingest/pause and /ingest/resume, and the paused check of the claim loop. */
@Module({
  imports: [IngestModule],
  controllers: [PauseController],
  providers: [SettingsRepository, PauseService],
  exports: [PauseService],
})
export class PauseModule {}
