import { describe, expect, it, vi } from 'vitest';
import type { Executor } from '../executor/executor.js';
import type { FileOutcome, FilesRepository } from '../ingest/files.repository.js';
import type { FinishedFile, IngestRunner } from '../ingest/ingest-runner.service.js';
import type { NotificationsService, NotificationsState } from '../notifications/notifications.service.js';
import { MetricsService } from './metrics.service.js';

const outcome: FileOutcome = {
  lines: 12,
  tweets: 10,
  inserted: 9,
  duplicates: 1,
  deletes: 0,
  notices: 0,
  rejected: 2,
  bytesRead: 1,
  bytesDecoded: 1,
  timings: { readMs: 20, decompressMs: 30, parseMs: 1500, cleanMs: 700, writeMs: 400, totalMs: 2000 },
};

function setUp(notifications: NotificationsState) {
  let listener: ((finished: FinishedFile) => void) | null = null;
  const runner = { setFileFinishedListener: vi.fn((callback: (finished: FinishedFile) => void) => (listener = callback)) };
  const ledger = { countByStatus: vi.fn(async () => ({ pending: 7, processing: 2, done: 30, failed: 1 })) };
  const executor = { stats: () => ({ kind: 'threads', size: 4, busy: 3, queued: 0, completed: 0, failed: 0 }) };
  const state = { current: notifications };
  const service = new MetricsService(
    ledger as unknown as FilesRepository,
    runner as unknown as IngestRunner,
    executor as unknown as Executor,
    { state: () => state.current } as unknown as NotificationsService,
  );
  service.onModuleInit();
  return { service, finish: (finished: FinishedFile) => listener!(finished), state };
}

const pubsub = (counts: Record<string, number>): NotificationsState => ({ source: 'pubsub', healthy: true, detail: { counts } });

describe('MetricsService', () => {
  it('exposes the gauges from the ledger and the executor at scrape time', async () => {
    const { service } = setUp({ source: 'none', healthy: true, detail: {} });
    const text = await service.render();
    expect(text).toContain('tweet_ingest_files{status="pending"} 7');
    expect(text).toContain('tweet_ingest_files{status="failed"} 1');
    expect(text).toContain('tweet_ingest_queue_depth 7');
    expect(text).toContain('tweet_ingest_executor_busy_workers 3');
    expect(text).toContain('tweet_ingest_executor_size 4');
    for (const outcome of ['received', 'acked', 'ignored', 'malformed', 'nacked']) {
      expect(text).toContain(`tweet_ingest_notifications_total{outcome="${outcome}"} 0`);
    }
  });

  it('counts each finished file: tweets inserted, rejected records, one observation per stage', async () => {
    const { service, finish } = setUp({ source: 'none', healthy: true, detail: {} });
    finish({ file: {} as FinishedFile['file'], outcome });
    finish({ file: {} as FinishedFile['file'], outcome });
    const text = await service.render();
    expect(text).toContain('tweet_ingest_tweets_inserted_total 18');
    expect(text).toContain('tweet_ingest_rejected_records_total 4');
    expect(text).toContain('tweet_ingest_stage_duration_seconds_count{stage="parse"} 2');
    expect(text).toContain('tweet_ingest_stage_duration_seconds_sum{stage="parse"} 3');
    expect(text).toContain('tweet_ingest_stage_duration_seconds_bucket{le="2.5",stage="parse"} 2');
    expect(text).toContain('tweet_ingest_stage_duration_seconds_bucket{le="1",stage="parse"} 0');
    for (const stage of ['read', 'decompress', 'clean', 'write']) expect(text).toContain(`tweet_ingest_stage_duration_seconds_count{stage="${stage}"} 2`);
  });

  it("follows the Pub/Sub subscriber's running totals as counters", async () => {
    const { service, state } = setUp(pubsub({ received: 5, acked: 4, ignored: 1, malformed: 0, nacked: 0 }));
    expect(await service.render()).toContain('tweet_ingest_notifications_total{outcome="received"} 5');
    state.current = pubsub({ received: 8, acked: 7, ignored: 1, malformed: 0, nacked: 0 });
    const text = await service.render();
    expect(text).toContain('tweet_ingest_notifications_total{outcome="received"} 8');
    expect(text).toContain('tweet_ingest_notifications_total{outcome="acked"} 7');
    // A restarted subscriber starts from zero again: the counter keeps rising.
    state.current = pubsub({ received: 2, acked: 2, ignored: 0, malformed: 0, nacked: 0 });
    expect(await service.render()).toContain('tweet_ingest_notifications_total{outcome="received"} 10');
  });
});

describe('MetricsService without a database', () => {
  it("still serves this replica's metrics when the ledger cannot be read", async () => {
    const service = new MetricsService(
      { countByStatus: async () => Promise.reject(new Error('connection refused')) } as unknown as FilesRepository,
      { setFileFinishedListener: () => undefined } as unknown as IngestRunner,
      { stats: () => ({ kind: 'inline', size: 1, busy: 0, queued: 0, completed: 0, failed: 0 }) } as unknown as Executor,
      { state: () => ({ source: 'none', healthy: true, detail: {} }) } as unknown as NotificationsService,
    );
    expect(await service.render()).toContain('tweet_ingest_executor_size 1');
  });
});
