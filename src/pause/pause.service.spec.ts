import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { IngestRunner } from '../ingest/ingest-runner.service.js';
import { PauseService } from './pause.service.js';
import type { SettingsRepository } from './settings.repository.js';

function setUp(paused: boolean) {
  let stored = paused;
  const settings = {
    readPaused: vi.fn(async () => ({ paused: stored, updatedAt: null })),
    writePaused: vi.fn(async (value: boolean) => {
      stored = value;
      return { paused: value, updatedAt: new Date(0) };
    }),
  };
  const runner = { honourClusterPause: vi.fn(), notify: vi.fn() };
  const service = new PauseService(settings as unknown as SettingsRepository, runner as unknown as IngestRunner, pino({ level: 'silent' }));
  service.onModuleInit();
  return { service, settings, runner };
}

describe('PauseService', () => {
  it('makes the claim loop honour the cluster-wide flag', () => {
    const { runner } = setUp(false);
    expect(runner.honourClusterPause).toHaveBeenCalledTimes(1);
  });

  it('pauses without waking anyone, and resumes waking the claim loop', async () => {
    const { service, runner, settings } = setUp(true);
    expect(await service.pause()).toMatchObject({ paused: true });
    expect(runner.notify).not.toHaveBeenCalled();
    expect(await service.resume()).toMatchObject({ paused: false });
    expect(settings.writePaused).toHaveBeenLastCalledWith(false);
    expect(runner.notify).toHaveBeenCalledTimes(1);
  });
});
