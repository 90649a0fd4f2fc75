import type { BackfillFileCounts, BackfillRecord } from './backfills.repository.js';
import type { BackfillDto } from './backfill.dto.js';

const NO_FILES: BackfillFileCounts = {
  pending: 0,
  processing: 0,
  done: 0,
  failed: 0,
  tweets: 0,
  inserted: 0,
  bytesFinished: 0,
  bytesRemaining: 0,
  firstStartedAt: null,
  lastFinishedAt: null,
};

/**
 * A backfill as the API shows it: its row, where its files stand, throughput and ETA.
 * Throughput is measured from the first file started to now (or to the last file finished);
 * the ETA divides the bytes still to ingest by the bytes per second so far (files vary in size
 * far more than bytes per second do), falling back to files when sizes are unknown.
 */
export function toBackfillView(record: BackfillRecord, counts: BackfillFileCounts = NO_FILES, now = new Date()): BackfillDto {
  const active = record.status === 'listing' || record.status === 'running';
  const finished = counts.done + counts.failed;
  const remaining = counts.pending + counts.processing;
  const end = active ? now : (counts.lastFinishedAt ?? record.finishedAt ?? now);
  const elapsedSeconds = counts.firstStartedAt ? Math.max(0.001, (end.getTime() - counts.firstStartedAt.getTime()) / 1000) : 0;
  const filesPerSecond = elapsedSeconds > 0 ? finished / elapsedSeconds : 0;
  const tweetsPerSecond = elapsedSeconds > 0 ? counts.tweets / elapsedSeconds : 0;
  return {
    id: record.id,
    status: record.status,
    scheduled: record.scheduled,
    request: record.request,
    prefixes: record.prefixes,
    listed: record.filesListed,
    enqueued: record.filesEnqueued,
    skipped: record.filesSkipped,
    pending: counts.pending,
    processing: counts.processing,
    done: counts.done,
    failed: counts.failed,
    tweets: counts.tweets,
    tweetsWritten: counts.inserted,
    progress: finished + remaining > 0 ? round(finished / (finished + remaining), 4) : null,
    throughput: { filesPerSecond: round(filesPerSecond, 3), tweetsPerSecond: round(tweetsPerSecond, 1) },
    etaSeconds: active ? estimateSeconds(counts, remaining, finished, elapsedSeconds) : null,
    error: record.error,
    createdAt: record.createdAt,
    listedAt: record.listedAt,
    finishedAt: record.finishedAt,
  };
}

function estimateSeconds(counts: BackfillFileCounts, remaining: number, finished: number, elapsedSeconds: number): number | null {
  if (remaining === 0) return 0;
  if (elapsedSeconds <= 0 || finished === 0) return null;
  if (counts.bytesFinished > 0) return Math.round(counts.bytesRemaining / (counts.bytesFinished / elapsedSeconds));
  return Math.round(remaining / (finished / elapsedSeconds));
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
