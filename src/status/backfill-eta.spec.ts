import { describe, expect, it } from 'vitest';
import { backfillPace } from './backfill-eta.js';

const work = (overrides: Partial<Parameters<typeof backfillPace>[0]>) => ({
  backfillId: '1',
  recentFiles: 0,
  recentBytes: 0,
  recentTweets: 0,
  remainingFiles: 0,
  remainingBytes: 0,
  windowSeconds: 900,
  ...overrides,
});

describe('backfillPace', () => {
  it('divides the bytes left by the bytes per second of the recent window', () => {
    // 30 files of 100 MB in 15 minutes → 3.33 MB/s; 3 GB left → 900 s.
    const pace = backfillPace(work({ recentFiles: 30, recentBytes: 3e9, recentTweets: 1_800_000, remainingFiles: 30, remainingBytes: 3e9 }));
    expect(pace).toEqual({ windowSeconds: 900, files: 30, filesPerMinute: 2, tweetsPerSecond: 2000, etaSeconds: 900 });
  });

  it('counts files when sizes are unknown', () => {
    expect(backfillPace(work({ recentFiles: 10, remainingFiles: 45, windowSeconds: 100 })).etaSeconds).toBe(450);
  });

  it('measures a young backfill over its own short window', () => {
    expect(backfillPace(work({ recentFiles: 2, recentBytes: 200, remainingFiles: 8, remainingBytes: 800, windowSeconds: 20 }))).toMatchObject({
      filesPerMinute: 6,
      etaSeconds: 80,
    });
  });

  it('is 0 with nothing left, and unknown without recent progress', () => {
    expect(backfillPace(work({ recentFiles: 5, remainingFiles: 0 })).etaSeconds).toBe(0);
    expect(backfillPace(work({ recentFiles: 0, remainingFiles: 5, remainingBytes: 500 })).etaSeconds).toBeNull();
    expect(backfillPace(work({ recentFiles: 0, remainingFiles: 5, windowSeconds: 0 }))).toMatchObject({ etaSeconds: null, filesPerMinute: 0, tweetsPerSecond: 0 });
  });
});
