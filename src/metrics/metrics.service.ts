import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EXECUTOR, type Executor } from '../executor/executor.js';
import { FILE_STATUSES, FilesRepository } from '../ingest/files.repository.js';
import { IngestRunner, type FinishedFile } from '../ingest/ingest-runner.service.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PIPELINE_STAGES, type PipelineStage } from './pipeline-stages.js';

export const NOTIFICATION_OUTCOMES = ['received', 'acked', 'ignored', 'malformed', 'nacked'] as const;
type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];

// Seconds one stage takes for one file: small files take milliseconds, a 2 GB file minutes.
const STAGE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * GET /metrics in Prometheus format, on a registry of its own. The names are a contract: the
 * Helm chart's Grafana dashboard queries them. Cluster-wide gauges (files by status, queue
 * depth) come from the database at scrape time; counters and histograms count what this replica
 * did (Prometheus sums them over pods).
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly registry = new Registry();
  private readonly files = new Gauge({
    name: 'tweet_ingest_files',
    help: 'Files in the ledger by status (cluster-wide)',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly tweetsInserted = new Counter({
    name: 'tweet_ingest_tweets_inserted_total',
    help: 'Rows this replica added to the tweets table',
    registers: [this.registry],
  });
  private readonly rejectedRecords = new Counter({
    name: 'tweet_ingest_rejected_records_total',
    help: 'Records this replica sent to rejected_records',
    registers: [this.registry],
  });
  private readonly stageDuration = new Histogram({
    name: 'tweet_ingest_stage_duration_seconds',
    help: 'Time per pipeline stage per file (parse and clean: CPU time summed over workers)',
    labelNames: ['stage'],
    buckets: STAGE_BUCKETS,
    registers: [this.registry],
  });
  private readonly queueDepth = new Gauge({
    name: 'tweet_ingest_queue_depth',
    help: 'Pending files in the ledger (cluster-wide)',
    registers: [this.registry],
  });
  private readonly busyWorkers = new Gauge({
    name: 'tweet_ingest_executor_busy_workers',
    help: "Workers of this replica's executor running a task",
    registers: [this.registry],
  });
  private readonly executorSize = new Gauge({
    name: 'tweet_ingest_executor_size',
    help: "Workers in this replica's executor",
    registers: [this.registry],
  });
  private readonly notifications = new Counter({
    name: 'tweet_ingest_notifications_total',
    help: 'Storage notifications this replica handled, by outcome (Pub/Sub only)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  // The subscriber keeps its own running totals; the counter advances by the difference.
  private readonly notificationsSeen: Record<NotificationOutcome, number> = {
    received: 0,
    acked: 0,
    ignored: 0,
    malformed: 0,
    nacked: 0,
  };

  constructor(
    private readonly ledger: FilesRepository,
    private readonly runner: IngestRunner,
    @Inject(EXECUTOR) private readonly executor: Executor,
    private readonly notificationsService: NotificationsService,
  ) {
    // Every series exists from the first scrape, at zero, so dashboards and rate() see them.
    for (const outcome of NOTIFICATION_OUTCOMES) this.notifications.inc({ outcome }, 0);
    for (const status of FILE_STATUSES) this.files.set({ status }, 0);
  }

  onModuleInit(): void {
    this.runner.setFileFinishedListener((finished) => this.observeFile(finished));
  }

  observeFile({ outcome }: FinishedFile): void {
    this.tweetsInserted.inc(outcome.inserted);
    this.rejectedRecords.inc(outcome.rejected);
    const seconds: Record<PipelineStage, number> = {
      read: outcome.timings.readMs / 1000,
      decompress: outcome.timings.decompressMs / 1000,
      parse: outcome.timings.parseMs / 1000,
      clean: outcome.timings.cleanMs / 1000,
      write: outcome.timings.writeMs / 1000,
    };
    for (const stage of PIPELINE_STAGES) this.stageDuration.observe({ stage }, seconds[stage]);
  }

  /** The exposition text; refreshes the gauges first (one ledger query). */
  async render(): Promise<string> {
    try {
      const counts = await this.ledger.countByStatus();
      for (const status of FILE_STATUSES) this.files.set({ status }, counts[status]);
      this.queueDepth.set(counts.pending);
    } catch {
      // Database unreachable: the ledger gauges keep their last values and this replica's own
      // metrics are still served; /health/ready reports the outage.
    }
    const executor = this.executor.stats();
    this.busyWorkers.set(executor.busy);
    this.executorSize.set(executor.size);
    this.advanceNotificationCounts();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private advanceNotificationCounts(): void {
    const state = this.notificationsService.state();
    if (state.source !== 'pubsub') return;
    const counts = (state.detail as { counts?: Partial<Record<NotificationOutcome, number>> }).counts ?? {};
    for (const outcome of NOTIFICATION_OUTCOMES) {
      const current = counts[outcome] ?? 0;
      // A smaller total means the subscriber started over: count its new total.
      const delta = current >= this.notificationsSeen[outcome] ? current - this.notificationsSeen[outcome] : current;
      if (delta > 0) this.notifications.inc({ outcome }, delta);
      this.notificationsSeen[outcome] = current;
    }
  }
}
