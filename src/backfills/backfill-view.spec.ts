import { describe, expect, it } from 'vitest';
import type { BackfillFileCounts, BackfillRecord } from './backfills.repository.js';
import { toBackfillView } from './backfill-view.js';

const record = (overrides: Partial<BackfillRecord> = {}): BackfillRecord => ({
  id: '1',
  request: { prefix: 'a/' },
  prefixes: ['a/'],
  status: 'running',
  scheduled: false,
  filesListed: 10,
  filesEnqueued: 8,
  filesSkipped: 2,
  error: null,
  createdAt: new Date('2026-01-01T10:00:00Z'),
  listedAt: new Date('2026-01-01T10:00:01Z'),
  finishedAt: null,
  ...overrides,
});

const counts = (overrides: Partial<BackfillFileCounts> = {}): BackfillFileCounts => ({
  pending: 4,
  processing: 1,
  done: 2,
  failed: 1,
  tweets: 6000,
  inserted: 5900,
  bytesFinished: 300,
  bytesRemaining: 600,
  firstStartedAt: new Date('2026-01-01T10:00:00Z'),
  lastFinishedAt: new Date('2026-01-01T10:00:50Z'),
  ...overrides,
});

const NOW = new Date('2026-01-01T10:01:00Z');

describe('toBackfillView', () => {
  it('reports files, tweets, throughput and an ETA from bytes per second', () => {
    const view = toBackfillView(record(), counts(), NOW);
    expect(view).toMatchObject({
      listed: 10,
      enqueued: 8,
      skipped: 2,
      pending: 4,
      processing: 1,
      done: 2,
      failed: 1,
      tweets: 6000,
      tweetsWritten: 5900,
      progress: 0.375,
      throughput: { filesPerSecond: 0.05, tweetsPerSecond: 100 },
    });
    // 300 bytes in 60 s = 5 B/s; 600 bytes left → 120 s.
    expect(view.etaSeconds).toBe(120);
  });

  it('has no ETA before any file finished, and 0 when nothing is left', () => {
    expect(toBackfillView(record(), counts({ done: 0, failed: 0, bytesFinished: 0 }), NOW).etaSeconds).toBeNull();
    expect(toBackfillView(record(), counts({ pending: 0, processing: 0, bytesRemaining: 0 }), NOW).etaSeconds).toBe(0);
  });

  it('falls back to files per second when sizes are unknown', () => {
    expect(toBackfillView(record(), counts({ bytesFinished: 0, bytesRemaining: 0 }), NOW).etaSeconds).toBe(100);
  });

  it('measures a finished backfill up to its last file and gives it no ETA', () => {
    const view = toBackfillView(record({ status: 'done', finishedAt: NOW }), counts({ pending: 0, processing: 0 }), NOW);
    expect(view.etaSeconds).toBeNull();
    expect(view.throughput.tweetsPerSecond).toBe(120);
  });

  it('shows a backfill without files yet as zeros', () => {
    expect(toBackfillView(record({ status: 'listing' }), undefined, NOW)).toMatchObject({
      pending: 0,
      done: 0,
      progress: null,
      throughput: { filesPerSecond: 0, tweetsPerSecond: 0 },
      etaSeconds: 0,
    });
  });
});
