import {
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/config.module.js';
import { FilesRepository } from '../ingest/files.repository.js';
import { IngestRunner } from '../ingest/ingest-runner.service.js';
import { describeError } from '../ingest/ingest.errors.js';
import { LOGGER } from '../logging/logger.js';
import type { ObjectStore } from '../storage/object-store.js';
import { assertSafeRelativePath } from '../storage/storage.errors.js';
import { OBJECT_STORE } from '../storage/storage.module.js';
import { FULL_SCAN_PREFIXES, requestKeyOf, resolveBackfillRequest } from './backfill-request.js';
import { toBackfillView } from './backfill-view.js';
import type { BackfillDto, BackfillListDto, CancelledBackfillDto, CreatedBackfillDto } from './backfill.dto.js';
import { BackfillsRepository, type BackfillRecord } from './backfills.repository.js';
import type { CreateBackfillDto } from './create-backfill.dto.js';

// A listing renews its heartbeat at least this often (each page renews it too)…
const LISTING_HEARTBEAT_MS = 10_000;
// …and another replica takes it over after this long without one: six missed heartbeats, so a
// slow page or a GC pause never triggers a takeover, while a dead replica's listing resumes
// within a minute or so.
const LISTING_STALE_MS = 60_000;
// How often each replica marks finished backfills done and looks for abandoned listings.
const MAINTENANCE_INTERVAL_MS = 10_000;
const DEFAULT_LIST_LIMIT = 50;

interface Listing {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Backfills: a request becomes prefixes, the prefixes are listed page by page in the
 * background by the replica that created the backfill, and every page becomes ledger rows
 * (insert-or-ignore, so objects already known are skipped, not redone). The claim loops of all
 * replicas then share the files as they share any other. A backfill is `done` once its listing
 * has finished and none of its files is pending or processing; that is checked when backfills
 * are read and every MAINTENANCE_INTERVAL_MS.
 */
@Injectable()
export class BackfillsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly listings = new Map<string, Listing>();
  private maintenance: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    private readonly backfills: BackfillsRepository,
    private readonly files: FilesRepository,
    private readonly runner: IngestRunner,
  ) {
    // A month template that escapes the storage root is a configuration error: refuse to start.
    try {
      assertSafeRelativePath(config.BACKFILL_MONTH_PREFIX);
    } catch (error) {
      throw new Error(`BACKFILL_MONTH_PREFIX: ${describeError(error)}`);
    }
  }

  onApplicationBootstrap(): void {
    this.maintenance = setInterval(() => void this.maintain(), MAINTENANCE_INTERVAL_MS);
    this.maintenance.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** The replica's identity in the ledger doubles as the listing owner. */
  private get owner(): string {
    return this.runner.owner;
  }

  async create(dto: CreateBackfillDto | undefined): Promise<CreatedBackfillDto> {
    const resolved = resolveBackfillRequest(dto, this.config.BACKFILL_MONTH_PREFIX);
    const { backfill, created } = await this.backfills.createOrFindActive({ ...resolved, owner: this.owner });
    if (created) {
      this.logger.info({ backfillId: backfill.id, prefixes: backfill.prefixes }, 'backfill created');
      this.startListing(backfill);
    }
    return { ...(await this.view(backfill)), created };
  }

  /**
   * The scheduled full scan of the whole storage root, once per tick across all replicas (see
   * BackfillsRepository.createScheduledScan). Null when another replica (or an earlier, still
   * active scan) has it covered.
   */
  async createScheduledScan(minimumGapMs: number): Promise<BackfillRecord | null> {
    if (this.stopped) return null;
    // A scan that finished since the last check must not count as still running.
    await this.backfills.markFinishedBackfills();
    const scan = {
      request: { scheduled: true, prefix: '' },
      prefixes: FULL_SCAN_PREFIXES,
      requestKey: requestKeyOf(FULL_SCAN_PREFIXES),
      owner: this.owner,
    };
    const backfill = await this.backfills.createScheduledScan(scan, minimumGapMs);
    if (backfill) {
      this.logger.info({ backfillId: backfill.id }, 'scheduled full scan started');
      this.startListing(backfill);
    }
    return backfill;
  }

  async list(limit = DEFAULT_LIST_LIMIT, before?: string): Promise<BackfillListDto> {
    await this.backfills.markFinishedBackfills();
    const records = await this.backfills.listRecent(limit, before);
    const counts = await this.backfills.fileCountsOf(records.map((record) => record.id));
    const now = new Date();
    return {
      items: records.map((record) => toBackfillView(record, counts.get(record.id), now)),
      nextCursor: records.length === limit ? records[records.length - 1]!.id : null,
    };
  }

  async get(id: string): Promise<BackfillDto> {
    await this.backfills.markFinishedBackfills();
    const record = await this.backfills.findById(id);
    if (!record) throw new NotFoundException(`id: no backfill ${id}`);
    return this.view(record);
  }

  /** Active backfills with their progress, for /status. */
  async active(): Promise<BackfillDto[]> {
    await this.backfills.markFinishedBackfills();
    const records = await this.backfills.findActive();
    const counts = await this.backfills.fileCountsOf(records.map((record) => record.id));
    const now = new Date();
    return records.map((record) => toBackfillView(record, counts.get(record.id), now));
  }

  /**
   * Cancel: the backfill stops listing, its pending files are withdrawn from the ledger (a later
   * scan may enqueue them again), files in flight finish. Cancelling a cancelled backfill is a
   * no-op; a finished one cannot be cancelled (409).
   */
  async cancel(id: string): Promise<CancelledBackfillDto> {
    const cancelled = await this.backfills.cancel(id);
    if (!cancelled) {
      const current = await this.backfills.findById(id);
      if (!current) throw new NotFoundException(`id: no backfill ${id}`);
      if (current.status !== 'cancelled') {
        throw new ConflictException(`backfill ${id} is already ${current.status}; only an active backfill can be cancelled`);
      }
      return { ...(await this.view(current)), withdrawn: 0 };
    }
    // The listing (here or on another replica) sees the status at its next page and stops; it
    // withdraws again after noticing, for a page it registered while this ran.
    this.listings.get(id)?.controller.abort();
    const withdrawn = await this.files.withdrawPendingFiles(id);
    this.logger.info({ backfillId: id, withdrawn }, 'backfill cancelled');
    return { ...(await this.view(cancelled)), withdrawn };
  }

  /** Shutdown: stop listing and hand unfinished listings to the other replicas. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.maintenance) clearInterval(this.maintenance);
    this.maintenance = null;
    const listings = [...this.listings.entries()];
    for (const [, listing] of listings) listing.controller.abort();
    await Promise.all(listings.map(([, listing]) => listing.done));
    for (const [id] of listings) {
      await this.backfills.releaseListing(id, this.owner).catch((error: unknown) =>
        this.logger.warn({ backfillId: id, err: describeError(error) }, 'cannot hand the listing over; it is taken over once stale'),
      );
    }
  }

  /** Marks finished backfills done and resumes listings whose replica went away. */
  async maintain(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.backfills.markFinishedBackfills();
      const abandoned = await this.backfills.claimAbandonedListing(this.owner, LISTING_STALE_MS);
      if (abandoned && !this.stopped) {
        this.logger.warn({ backfillId: abandoned.id }, 'resuming a backfill listing abandoned by another replica');
        this.startListing(abandoned);
      } else if (abandoned) {
        await this.backfills.releaseListing(abandoned.id, this.owner);
      }
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, 'backfill maintenance failed; will try again');
    }
  }

  private async view(record: BackfillRecord): Promise<BackfillDto> {
    const counts = await this.backfills.fileCountsOf([record.id]);
    return toBackfillView(record, counts.get(record.id));
  }

  private startListing(backfill: BackfillRecord): void {
    const controller = new AbortController();
    const done = this.listAll(backfill, controller)
      .catch((error: unknown) => this.logger.error({ backfillId: backfill.id, err: describeError(error) }, 'backfill listing crashed'))
      .finally(() => this.listings.delete(backfill.id));
    this.listings.set(backfill.id, { controller, done });
  }

  /** Lists every prefix page by page into the ledger; runs in the background. */
  private async listAll(backfill: BackfillRecord, controller: AbortController): Promise<void> {
    const { id } = backfill;
    const { signal } = controller;
    const log = this.logger.child({ backfillId: id });
    const heartbeat = setInterval(() => {
      this.backfills
        .renewListing(id, this.owner)
        .then((held) => {
          if (!held) controller.abort();
        })
        .catch((error: unknown) => log.warn({ err: describeError(error) }, 'cannot renew the listing heartbeat'));
    }, LISTING_HEARTBEAT_MS);
    heartbeat.unref();
    try {
      for (const prefix of backfill.prefixes) {
        for await (const page of this.store.list(prefix)) {
          // Checked before registering only: a page once registered is always recorded below,
          // so that a cancel racing with it is noticed and its rows withdrawn.
          if (signal.aborted) return;
          const result = await this.files.registerObjects(page, id);
          if (result.inserted > 0) this.runner.notify();
          const progress = await this.backfills.recordListedPage(id, this.owner, {
            listed: page.length,
            enqueued: result.inserted,
            skipped: result.existing,
          });
          if (progress === 'cancelled') {
            await this.files.withdrawPendingFiles(id);
            log.info('listing stopped: backfill cancelled');
            return;
          }
          if (progress === 'lost') {
            log.warn('listing stopped: another replica took it over');
            return;
          }
        }
      }
      if (await this.backfills.finishListing(id, this.owner)) {
        log.info('backfill listing finished');
        await this.backfills.markFinishedBackfills();
      }
    } catch (error) {
      if (signal.aborted) return;
      const message = describeError(error);
      log.error({ err: message }, 'backfill listing failed');
      await this.backfills.failListing(id, this.owner, `listing failed: ${message}`);
    } finally {
      clearInterval(heartbeat);
    }
  }
}
