import type { BackfillRecentWork } from './status-history.repository.js';

/** A backfill's pace over the recent window and the finish it predicts. */
export interface BackfillPace {
  windowSeconds: number;
  /** Files (done or failed) finished in the window. */
  files: number;
  filesPerMinute: number;
  tweetsPerSecond: number;
  /** Seconds until its last file is finished at the recent pace; null when there is no recent pace to go by. */
  etaSeconds: number | null;
}

/**
 * The ETA the status page shows: the work left divided by the backfill's *recent* rate (over
 * the last 15 minutes, or since its first file started when that is shorter), not its average
 * since creation, so that adding replicas or raising EXECUTOR_SIZE shows up in the estimate
 * within minutes. Work is counted in bytes when sizes are known (files vary in size far more
 * than bytes per second do), in files otherwise. Zero when nothing is left; null while nothing
 * of it finished in the window (not started, paused, or stalled): no number beats a wrong one.
 */
export function backfillPace(work: BackfillRecentWork): BackfillPace {
  const { windowSeconds } = work;
  const perSecond = (amount: number) => (windowSeconds > 0 ? amount / windowSeconds : 0);
  return {
    windowSeconds: Math.round(windowSeconds),
    files: work.recentFiles,
    filesPerMinute: round(perSecond(work.recentFiles) * 60),
    tweetsPerSecond: round(perSecond(work.recentTweets)),
    etaSeconds: estimateSeconds(work),
  };
}

function estimateSeconds(work: BackfillRecentWork): number | null {
  if (work.remainingFiles === 0) return 0;
  if (work.windowSeconds <= 0 || work.recentFiles === 0) return null;
  if (work.recentBytes > 0 && work.remainingBytes > 0) {
    return Math.round(work.remainingBytes / (work.recentBytes / work.windowSeconds));
  }
  return Math.round(work.remainingFiles / (work.recentFiles / work.windowSeconds));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
