import { Inject, Injectable } from '@nestjs/common';
import { EXECUTOR, type Executor } from '../executor/executor.js';
import { FilesRepository } from '../ingest/files.repository.js';
import { IngestRunner } from '../ingest/ingest-runner.service.js';
import { TweetsRepository } from '../ingest/tweets.repository.js';
import { NotificationsService } from '../notifications/notifications.service.js';

/** The state of the cluster (from the database) and of this replica, for ops tooling. */
@Injectable()
export class StatusService {
  constructor(
    private readonly files: FilesRepository,
    private readonly tweets: TweetsRepository,
    private readonly runner: IngestRunner,
    @Inject(EXECUTOR) private readonly executor: Executor,
    private readonly notifications: NotificationsService,
  ) {}

  async status() {
    const [files, tweets] = await Promise.all([this.files.countByStatus(), this.tweets.countTweets()]);
    return {
      files,
      tweets,
      executor: this.executor.stats(),
      replica: this.runner.state(),
      notifications: this.notifications.state(),
    };
  }
}
