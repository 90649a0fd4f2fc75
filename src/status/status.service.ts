import { Inject, Injectable } from '@nestjs/common';
import { BackfillsService } from '../backfills/backfills.service.js';
import { EXECUTOR, type Executor } from '../executor/executor.js';
import { FilesRepository, type FinishedWindow } from '../ingest/files.repository.js';
import { IngestRunner } from '../ingest/ingest-runner.service.js';
import { TweetsRepository } from '../ingest/tweets.repository.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { PauseService } from '../pause/pause.service.js';
import { backfillPace } from './backfill-eta.js';
import { stageProfile } from './stage-profile.js';
import { StatusHistoryRepository, type FailedFile } from './status-history.repository.js';

// The stage profile covers the files finished in this window: long enough to smooth out one
// odd file, short enough to reflect a change of EXECUTOR_SIZE or replicas within minutes.
const STAGE_WINDOW_MINUTES = 15;
// A backfill's ETA follows its pace over the same window, for the same reasons.
const BACKFILL_PACE_WINDOW_SECONDS = 15 * 60;

/** The throughput chart: one point per minute. */
export interface ThroughputHistory {
  minutes: number;
  points: { end: Date; files: number; tweets: number; tweetsPerSecond: number }[];
}

/** The state of the cluster (from the database) and of this replica, for ops tooling. */
@Injectable()
export class StatusService {
  constructor(
    private readonly files: FilesRepository,
    private readonly tweets: TweetsRepository,
    private readonly runner: IngestRunner,
    @Inject(EXECUTOR) private readonly executor: Executor,
    private readonly notifications: NotificationsService,
    private readonly pause: PauseService,
    private readonly backfills: BackfillsService,
    private readonly history: StatusHistoryRepository,
  ) {}

  async status() {
    const [files, tweets, throughput, stages, pause, activeBackfills] = await Promise.all([
      this.files.countByStatus(),
      this.tweets.countTweets(),
      this.files.recentThroughput(),
      this.files.recentStageTimings(STAGE_WINDOW_MINUTES * 60),
      this.pause.state(),
      this.backfills.active(),
    ]);
    const recentWork = await this.history.backfillRecentWork(
      activeBackfills.map((backfill) => backfill.id),
      BACKFILL_PACE_WINDOW_SECONDS,
    );
    const paceOf = new Map(recentWork.map((work) => [work.backfillId, backfillPace(work)]));
    return {
      files,
      tweets,
      queueDepth: files.pending,
      paused: pause.paused,
      throughput: {
        lastMinute: rates(throughput.lastMinute, 60),
        last15Minutes: rates(throughput.last15Minutes, 15 * 60),
      },
      // `recent`: the pace of the last minutes and the ETA it predicts (backfill-eta.ts); null
      // while none of its files is in the ledger yet.
      backfills: { active: activeBackfills.map((backfill) => ({ ...backfill, recent: paceOf.get(backfill.id) ?? null })) },
      stages: stageProfile(stages.files, stages.timings, STAGE_WINDOW_MINUTES),
      executor: this.executor.stats(),
      replica: this.runner.state(),
      notifications: this.notifications.state(),
    };
  }

  async throughputHistory(minutes: number): Promise<ThroughputHistory> {
    const points = await this.history.throughputPerMinute(minutes);
    return {
      minutes,
      points: points.map((point) => ({ ...point, tweets: round(point.tweets), tweetsPerSecond: round(point.tweets / 60) })),
    };
  }

  async latestFailures(limit: number): Promise<{ items: FailedFile[] }> {
    return { items: await this.history.latestFailures(limit) };
  }
}

function rates(window: FinishedWindow, seconds: number) {
  return {
    ...window,
    filesPerMinute: round((window.files / seconds) * 60),
    tweetsPerSecond: round(window.tweets / seconds),
    insertedPerSecond: round(window.inserted / seconds),
    megabytesReadPerSecond: round(window.bytesRead / 1e6 / seconds),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
