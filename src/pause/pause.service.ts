import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { IngestRunner } from '../ingest/ingest-runner.service.js';
import { LOGGER } from '../logging/logger.js';
import { SettingsRepository, type PausedSetting } from './settings.repository.js';

/**
 * Pause and resume, cluster-wide: the flag lives in the database, and every replica's claim
 * checks it in the claim's own statement (FilesRepository.claimNextFiles). Paused replicas
 * finish the files they hold and claim nothing new; resuming wakes this replica at once and the
 * others at their next poll (POLL_INTERVAL_MS).
 */
@Injectable()
export class PauseService implements OnModuleInit {
  constructor(
    private readonly settings: SettingsRepository,
    private readonly runner: IngestRunner,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.runner.honourClusterPause();
  }

  state(): Promise<PausedSetting> {
    return this.settings.readPaused();
  }

  async pause(): Promise<PausedSetting> {
    const setting = await this.settings.writePaused(true);
    this.logger.info('ingest paused (cluster-wide)');
    return setting;
  }

  async resume(): Promise<PausedSetting> {
    const setting = await this.settings.writePaused(false);
    this.logger.info('ingest resumed (cluster-wide)');
    this.runner.notify();
    return setting;
  }
}
