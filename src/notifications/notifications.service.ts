import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/config.module.js';
import { FilesRepository } from '../ingest/files.repository.js';
import { IngestRunner } from '../ingest/ingest-runner.service.js';
import { LOGGER } from '../logging/logger.js';
import { LocalObjectStore } from '../storage/local-object-store.js';
import type { ObjectStore, StoredObject } from '../storage/object-store.js';
import { OBJECT_STORE } from '../storage/storage.module.js';
import { LocalFolderWatcher } from './local-folder-watcher.js';

export interface NotificationsState {
  source: 'pubsub' | 'local-folder' | 'none';
  healthy: boolean;
  detail: Record<string, unknown>;
}

interface NotificationSource {
  close(): Promise<void>;
  state(): NotificationsState;
}

/**
 * Turns "a new file arrived" into a ledger row: from the bucket's Pub/Sub subscription when
 * PUBSUB_SUBSCRIPTION is set, else by watching a local STORAGE_URL folder. Each registration
 * wakes the claim loop.
 */
@Injectable()
export class NotificationsService implements OnApplicationBootstrap {
  private source: NotificationSource | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    private readonly files: FilesRepository,
    private readonly runner: IngestRunner,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const registrar = {
      registerObjects: async (objects: StoredObject[]) => {
        const result = await this.files.registerObjects(objects);
        if (result.inserted > 0) {
          this.logger.info({ files: result.inserted }, 'new files registered');
          this.runner.notify();
        }
      },
    };
    if (this.config.PUBSUB_SUBSCRIPTION) {
      this.source = await this.startPubSub(registrar);
    } else if (this.store instanceof LocalObjectStore && this.config.WATCH_LOCAL_FOLDER) {
      const watcher = new LocalFolderWatcher(this.store, registrar, this.logger);
      await watcher.start();
      this.source = {
        close: () => watcher.close(),
        state: () => ({ source: 'local-folder', healthy: watcher.isReady(), detail: { folder: this.store.bucket } }),
      };
    } else {
      this.logger.warn('no notification source: only backfills will find new files');
    }
  }

  /** Closed by the shutdown sequence before the database (main.ts). */
  async close(): Promise<void> {
    await this.source?.close();
    this.source = null;
  }

  state(): NotificationsState {
    return this.source?.state() ?? { source: 'none', healthy: true, detail: {} };
  }

  private async startPubSub(registrar: { registerObjects(objects: StoredObject[]): Promise<void> }): Promise<NotificationSource> {
    const { PubSubNotificationSource } = await import('./pubsub-notification-source.js');
    const subscriber = new PubSubNotificationSource({
      subscription: this.config.PUBSUB_SUBSCRIPTION!,
      projectId: this.config.GOOGLE_CLOUD_PROJECT,
      bucket: this.store.bucket,
      rootPrefix: this.store.rootPrefix,
      maxMessages: this.config.PUBSUB_MAX_MESSAGES,
      maxBytes: this.config.PUBSUB_MAX_BYTES,
      registrar,
      logger: this.logger,
    });
    await subscriber.start();
    return {
      close: () => subscriber.close(),
      state: () => ({ source: 'pubsub', healthy: subscriber.healthy(), detail: { ...subscriber.state() } }),
    };
  }
}
