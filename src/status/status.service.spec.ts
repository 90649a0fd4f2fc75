import { describe, expect, it, vi } from 'vitest';
import type { BackfillsService } from '../backfills/backfills.service.js';
import type { Executor } from '../executor/executor.js';
import type { FilesRepository } from '../ingest/files.repository.js';
import type { IngestRunner } from '../ingest/ingest-runner.service.js';
import type { TweetsRepository } from '../ingest/tweets.repository.js';
import type { NotificationsService } from '../notifications/notifications.service.js';
import type { PauseService } from '../pause/pause.service.js';
import type { StatusHistoryRepository } from './status-history.repository.js';
import { StatusService } from './status.service.js';

describe('StatusService', () => {
  it('combines the cluster (ledger, pause, backfills) and this replica into one document', async () => {
    const window = (files: number, tweets: number) => ({ files, tweets, inserted: tweets, bytesRead: files * 1e6 });
    const files = {
      countByStatus: vi.fn(async () => ({ pending: 12, processing: 2, done: 40, failed: 1 })),
      recentThroughput: vi.fn(async () => ({ lastMinute: window(6, 60_000), last15Minutes: window(90, 900_000) })),
      recentStageTimings: vi.fn(async () => ({
        files: 90,
        timings: { readMs: 1000, decompressMs: 2000, parseMs: 9000, cleanMs: 4000, writeMs: 3000, totalMs: 12_000 },
      })),
    };
    const history = {
      backfillRecentWork: vi.fn(async () => [
        { backfillId: '3', recentFiles: 6, recentBytes: 600, recentTweets: 1200, remainingFiles: 3, remainingBytes: 300, windowSeconds: 60 },
      ]),
    };
    const service = new StatusService(
      files as unknown as FilesRepository,
      { countTweets: async () => ({ total: 123, estimated: false }) } as unknown as TweetsRepository,
      { state: () => ({ owner: 'me' }) } as unknown as IngestRunner,
      { stats: () => ({ kind: 'threads', size: 4 }) } as unknown as Executor,
      { state: () => ({ source: 'none', healthy: true, detail: {} }) } as unknown as NotificationsService,
      { state: async () => ({ paused: true, updatedAt: null }) } as unknown as PauseService,
      { active: async () => [{ id: '3', etaSeconds: 60 }] } as unknown as BackfillsService,
      history as unknown as StatusHistoryRepository,
    );
    const status = await service.status();
    expect(status).toMatchObject({
      files: { pending: 12, done: 40 },
      tweets: { total: 123 },
      queueDepth: 12,
      paused: true,
      throughput: {
        lastMinute: { files: 6, tweetsPerSecond: 1000, filesPerMinute: 6, megabytesReadPerSecond: 0.1 },
        last15Minutes: { files: 90, tweetsPerSecond: 1000, filesPerMinute: 6 },
      },
      backfills: {
        active: [{ id: '3', etaSeconds: 60, recent: { windowSeconds: 60, files: 6, filesPerMinute: 6, tweetsPerSecond: 20, etaSeconds: 30 } }],
      },
      stages: { files: 90, windowMinutes: 15, bottleneck: 'parse' },
      executor: { kind: 'threads', size: 4 },
      replica: { owner: 'me' },
      notifications: { source: 'none' },
    });
    expect(files.recentStageTimings).toHaveBeenCalledWith(900);
    expect(history.backfillRecentWork).toHaveBeenCalledWith(['3'], 900);
  });
});

describe('StatusService.throughputHistory', () => {
  it('turns tweets per minute into tweets per second', async () => {
    const end = new Date('2026-01-05T10:00:00Z');
    const history = { throughputPerMinute: vi.fn(async () => [{ end, files: 2, tweets: 3000.4567 }]) };
    const unused = {} as never;
    const service = new StatusService(unused, unused, unused, unused, unused, unused, unused, history as unknown as StatusHistoryRepository);
    expect(await service.throughputHistory(60)).toEqual({ minutes: 60, points: [{ end, files: 2, tweets: 3000.46, tweetsPerSecond: 50.01 }] });
    expect(history.throughputPerMinute).toHaveBeenCalledWith(60);
  });
});
