import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseEnvironment } from '../config/environment.js';
import { BackfillSchedulerService, FULL_SCAN_JOB, shortestGapMs } from './backfill-scheduler.service.js';
import type { BackfillsService } from './backfills.service.js';

function setUp(cron: string) {
  const registry = new SchedulerRegistry();
  const backfills = { createScheduledScan: vi.fn(async () => null) };
  const scheduler = new BackfillSchedulerService(
    parseEnvironment({ BACKFILL_CRON: cron }),
    pino({ level: 'silent' }),
    registry,
    backfills as unknown as BackfillsService,
  );
  return { scheduler, registry, backfills };
}

describe('BackfillSchedulerService', () => {
  let scheduler: BackfillSchedulerService | undefined;
  afterEach(() => scheduler?.stop());

  it('adds a cron job for BACKFILL_CRON and removes it on stop', () => {
    const setup = setUp('0 * * * *');
    scheduler = setup.scheduler;
    scheduler.onApplicationBootstrap();
    expect(setup.registry.getCronJob(FULL_SCAN_JOB).isActive).toBe(true);
    scheduler.stop();
    expect(setup.registry.doesExist('cron', FULL_SCAN_JOB)).toBe(false);
  });

  it("adds nothing when BACKFILL_CRON is 'off'", () => {
    const setup = setUp('off');
    scheduler = setup.scheduler;
    scheduler.onApplicationBootstrap();
    expect(setup.registry.getCronJobs().size).toBe(0);
  });

  it('refuses an expression the cron library cannot run, naming the variable', () => {
    const setup = setUp('99 * * * *');
    scheduler = setup.scheduler;
    expect(() => scheduler!.onApplicationBootstrap()).toThrow(/^BACKFILL_CRON="99 \* \* \* \*": /);
  });

  it('asks for a scan per tick, with half the shortest gap between ticks as the window', async () => {
    const setup = setUp('*/3 * * * * *');
    scheduler = setup.scheduler;
    scheduler.onApplicationBootstrap();
    await scheduler.tick();
    expect(setup.backfills.createScheduledScan).toHaveBeenCalledWith(1500);
  });

  it('survives a tick that fails (the next one tries again)', async () => {
    const setup = setUp('0 * * * *');
    scheduler = setup.scheduler;
    setup.backfills.createScheduledScan.mockRejectedValueOnce(new Error('database unavailable'));
    await expect(scheduler.tick()).resolves.toBeUndefined();
  });
});

describe('shortestGapMs', () => {
  it('finds the shortest gap of an irregular schedule', () => {
    const job = CronJob.from({ cronTime: '0 9,10 * * *', onTick: () => undefined, start: false, timeZone: 'UTC' });
    expect(shortestGapMs(job)).toBe(60 * 60_000);
  });
});
