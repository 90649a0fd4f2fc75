import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
// `cron` is the library under @nestjs/schedule (same version); its CronJob is what the
// registry holds. A dynamic job is needed because the expression is runtime configuration.
import { CronJob } from 'cron';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/config.module.js';
import { describeError } from '../ingest/ingest.errors.js';
import { LOGGER } from '../logging/logger.js';
import { BackfillsService } from './backfills.service.js';

export const FULL_SCAN_JOB = 'backfill-full-scan';
// Fire times compared to find the shortest gap between two ticks.
const TICKS_SAMPLED = 6;

/**
 * The scheduled full scan (BACKFILL_CRON, in UTC so that every replica ticks at the same
 * moment; 'off' disables it): a backfill of the whole storage root that catches any file whose
 * notification never came. Every replica runs the cron; BackfillsService.createScheduledScan
 * makes sure only one scan starts per tick (advisory lock + "none created within half the
 * shortest gap between ticks").
 */
@Injectable()
export class BackfillSchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private job: CronJob | null = null;
  private minimumGapMs = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly registry: SchedulerRegistry,
    private readonly backfills: BackfillsService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.BACKFILL_CRON === 'off') {
      this.logger.info('scheduled full scan disabled (BACKFILL_CRON=off)');
      return;
    }
    let job: CronJob;
    try {
      job = CronJob.from({ cronTime: this.config.BACKFILL_CRON, onTick: () => this.tick(), start: false, timeZone: 'UTC' });
    } catch (error) {
      throw new Error(`BACKFILL_CRON=${JSON.stringify(this.config.BACKFILL_CRON)}: ${describeError(error)}`);
    }
    this.minimumGapMs = shortestGapMs(job) / 2;
    this.registry.addCronJob(FULL_SCAN_JOB, job);
    job.start();
    this.job = job;
    this.logger.info({ cron: this.config.BACKFILL_CRON, next: job.nextDate().toISO() }, 'scheduled full scan enabled');
  }

  onApplicationShutdown(): void {
    this.stop();
  }

  /** Stops the schedule (shutdown). Idempotent. */
  stop(): void {
    if (!this.job) return;
    void this.job.stop();
    if (this.registry.doesExist('cron', FULL_SCAN_JOB)) this.registry.deleteCronJob(FULL_SCAN_JOB);
    this.job = null;
  }

  /** One tick: start the scan unless another replica did. Never throws (the cron would log it raw). */
  async tick(): Promise<void> {
    try {
      const backfill = await this.backfills.createScheduledScan(this.minimumGapMs);
      if (!backfill) this.logger.debug('scheduled full scan: already started by another replica, or the last one is still running');
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, 'scheduled full scan could not start; next tick will try again');
    }
  }
}

/** The shortest time between two of the next fire times (a schedule may be irregular). */
export function shortestGapMs(job: CronJob): number {
  const times = job.nextDates(TICKS_SAMPLED).map((date) => date.toMillis());
  let shortest = Number.POSITIVE_INFINITY;
  for (let index = 1; index < times.length; index += 1) shortest = Math.min(shortest, times[index]! - times[index - 1]!);
  return Number.isFinite(shortest) ? shortest : 60_000;
}
