import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/config.module.js';
import { LOGGER } from '../logging/logger.js';
import { FileProcessor } from './file-processor.js';
import { FilesRepository, type ClaimedFile, type FileOutcome } from './files.repository.js';
import { asDatabaseError, describeError, isDatabaseUnavailable, isPermanent } from './ingest.errors.js';
import { Wakeup } from './wakeup.js';

// Retry delays double per attempt from RETRY_BASE_MS, up to this cap.
const MAX_RETRY_DELAY_MS = 10 * 60_000;
// After a failed claim (database unreachable) the loop waits this long before trying again.
const CLAIM_ERROR_DELAY_MS = 2000;
// While the database is unreachable, giving a file back is retried this often.
const RELEASE_RETRY_MS = 1000;

class ShutdownAbort extends Error {
  constructor() {
    super('service shutting down');
  }
}

class LeaseLost extends Error {
  constructor() {
    super('lease lost');
  }
}

interface ActiveFile {
  file: ClaimedFile;
  controller: AbortController;
  done: Promise<void>;
  startedAt: number;
}

/** A file this replica processed to the end, with its counts and stage timings. */
export interface FinishedFile {
  file: ClaimedFile;
  outcome: FileOutcome;
}

export interface RunnerState {
  owner: string;
  running: boolean;
  draining: boolean;
  activeFiles: { id: string; name: string; attempt: number; runningMs: number }[];
  processed: { done: number; failed: number; retried: number };
  lastClaimError: string | null;
}

/**
 * The claim loop of one replica: claims pending files from the ledger (up to CONCURRENT_FILES
 * at a time), processes each with the FileProcessor while renewing its lease, and records how
 * each ended: done, retried later with backoff (transient error), or failed (permanent error,
 * or MAX_ATTEMPTS reached). On shutdown it stops claiming, waits for in-flight files up to
 * DRAIN_TIMEOUT_MS and gives back the leases of the rest.
 */
@Injectable()
export class IngestRunner {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly active = new Map<string, ActiveFile>();
  private readonly wakeup = new Wakeup();
  private loop: Promise<void> | null = null;
  private stopping = false;
  private lastClaimError: string | null = null;
  private readonly processed = { done: 0, failed: 0, retried: 0 };
  private honourPause = false;
  private fileFinishedListener: ((finished: FinishedFile) => void) | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly files: FilesRepository,
    private readonly processor: FileProcessor,
  ) {}

  /**
   * Makes every claim honour the cluster-wide pause of the admin API (paused replicas finish what
   * they hold and claim nothing new). The one-shot `ingest` command does not call it.
   */
  honourClusterPause(): void {
    this.honourPause = true;
  }

  /**
   * Lets the metrics observe each file this replica processes to the end (its rows are written
   * even when the lease was lost meanwhile, so it is reported either way). One listener.
   */
  setFileFinishedListener(listener: ((finished: FinishedFile) => void) | null): void {
    this.fileFinishedListener = listener;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.claimLoop();
    this.logger.info(
      { owner: this.owner, executor: this.config.EXECUTOR, executorSize: this.config.EXECUTOR_SIZE, concurrentFiles: this.config.CONCURRENT_FILES },
      'ingest started',
    );
  }

  /** Wakes the claim loop now (a file was just registered). */
  notify(): void {
    this.wakeup.notify();
  }

  /**
   * Stops claiming now (the first step of shutdown, before anything slower); in-flight files
   * carry on until drain().
   */
  stopClaiming(): void {
    this.stopping = true;
    this.wakeup.notify();
  }

  /** Stops claiming, waits for in-flight files up to `timeoutMs`, releases the leases of the rest. */
  async drain(timeoutMs: number): Promise<void> {
    this.stopClaiming();
    await this.loop;
    this.loop = null;
    if (this.active.size === 0) return;
    this.logger.info({ files: this.active.size, timeoutMs }, 'draining in-flight files');
    const all = Promise.all([...this.active.values()].map((entry) => entry.done));
    const timedOut = await Promise.race([all.then(() => false), delay(timeoutMs).then(() => true)]);
    if (timedOut) {
      for (const entry of this.active.values()) entry.controller.abort(new ShutdownAbort());
      await all;
    }
  }

  state(): RunnerState {
    const now = Date.now();
    return {
      owner: this.owner,
      running: this.loop !== null && !this.stopping,
      draining: this.stopping,
      activeFiles: [...this.active.values()].map(({ file, startedAt }) => ({
        id: file.id,
        name: file.name,
        attempt: file.attempts,
        runningMs: now - startedAt,
      })),
      processed: { ...this.processed },
      lastClaimError: this.lastClaimError,
    };
  }

  private async claimLoop(): Promise<void> {
    while (!this.stopping) {
      const free = this.config.CONCURRENT_FILES - this.active.size;
      if (free > 0) {
        let claimed: ClaimedFile[];
        try {
          // While paused this claims nothing, and the loop waits for the next poll.
          claimed = await this.files.claimNextFiles(this.owner, free, this.config.LEASE_MS, { honourPause: this.honourPause });
          this.lastClaimError = null;
        } catch (error) {
          this.lastClaimError = describeError(error);
          this.logger.warn({ err: this.lastClaimError }, 'cannot claim files (database unavailable?), retrying');
          await this.wakeup.wait(CLAIM_ERROR_DELAY_MS);
          continue;
        }
        if (this.stopping) {
          // The signal came while this claim was in flight: give the files back untouched.
          await this.releaseUnstarted(claimed);
          break;
        }
        for (const file of claimed) this.begin(file);
        if (claimed.length === free) continue; // there may be more: claim again when a slot frees
      }
      await this.wakeup.wait(this.config.POLL_INTERVAL_MS);
    }
  }

  private async releaseUnstarted(claimed: ClaimedFile[]): Promise<void> {
    for (const file of claimed) {
      const log = this.logger.child({ fileId: file.id, file: file.name, attempt: file.attempts });
      await this.settle(log, () => this.files.releaseFile(file.id, this.owner));
      log.info({ outcome: 'released' }, 'file released at shutdown');
    }
  }

  private begin(file: ClaimedFile): void {
    const controller = new AbortController();
    const entry: ActiveFile = { file, controller, startedAt: Date.now(), done: Promise.resolve() };
    entry.done = this.handle(file, controller).finally(() => {
      this.active.delete(file.id);
      this.wakeup.notify();
    });
    this.active.set(file.id, entry);
  }

  private async handle(file: ClaimedFile, controller: AbortController): Promise<void> {
    const log = this.logger.child({ fileId: file.id, file: file.name, attempt: file.attempts });
    if (file.expiredLeaseOwner) log.warn({ previousOwner: file.expiredLeaseOwner }, 'lease expired; file claimed again');
    if (file.attempts > this.config.MAX_ATTEMPTS) {
      // Only an expired lease gets here: every earlier attempt died without recording an outcome.
      const error = `gave up after ${file.attempts - 1} attempts: the process handling it stopped before finishing (crash or out of memory?)`;
      await this.settle(log, () => this.files.markFileFailed(file.id, this.owner, error));
      this.processed.failed += 1;
      log.error({ outcome: 'failed', err: error }, 'file failed');
      return;
    }
    const renewal = setInterval(() => void this.renew(file, controller, log), Math.max(250, Math.floor(this.config.LEASE_MS / 3)));
    try {
      log.info({ size: file.size }, 'file started');
      const outcome = await this.processor.process(file, controller.signal);
      const recorded = await this.files.markFileDone(file.id, this.owner, outcome).catch((error: unknown) => {
        throw asDatabaseError(error);
      });
      this.processed.done += 1;
      this.reportFinished(file, outcome, log);
      if (recorded) log.info({ outcome: 'done', ...summarise(outcome) }, 'file done');
      else log.warn({ outcome: 'lease lost' }, 'file finished but its lease was taken over; outcome not recorded');
    } catch (error) {
      await this.recordFailure(file, controller.signal.reason, error, log);
    } finally {
      clearInterval(renewal);
    }
  }

  private async recordFailure(file: ClaimedFile, abortReason: unknown, error: unknown, log: Logger): Promise<void> {
    if (abortReason instanceof ShutdownAbort) {
      await this.settle(log, () => this.files.releaseFile(file.id, this.owner));
      log.info({ outcome: 'released' }, 'file released at shutdown');
      return;
    }
    if (abortReason instanceof LeaseLost) {
      log.warn({ outcome: 'lease lost' }, 'file abandoned: its lease was taken over');
      return;
    }
    const message = describeError(error);
    if (isDatabaseUnavailable(error)) {
      // Not the file's fault: give it back with the attempt not counted, as soon as the
      // database answers again (a file on its last attempt must not fail for an outage).
      const released = await this.releaseWhenReachable(file, log);
      this.processed.retried += 1;
      log.warn({ outcome: released ? 'released' : 'lease expired', err: message }, 'database unavailable; file given back without counting the attempt');
      return;
    }
    if (isPermanent(error) || file.attempts >= this.config.MAX_ATTEMPTS) {
      const reason = isPermanent(error) ? message : `gave up after ${file.attempts} attempts: ${message}`;
      await this.settle(log, () => this.files.markFileFailed(file.id, this.owner, reason));
      this.processed.failed += 1;
      log.error({ outcome: 'failed', err: reason }, 'file failed');
      return;
    }
    const delayMs = Math.min(MAX_RETRY_DELAY_MS, this.config.RETRY_BASE_MS * 2 ** (file.attempts - 1));
    await this.settle(log, () => this.files.scheduleRetry(file.id, this.owner, message, delayMs));
    this.processed.retried += 1;
    log.warn({ outcome: 'retry', err: message, retryInMs: delayMs }, 'file attempt failed; will retry');
  }

  /**
   * Releases the file (attempt not counted), retrying while the database is unreachable. Gives
   * up once the lease has certainly expired (the file is then claimed again by whoever comes
   * first, which counts an attempt) or when the replica shuts down. True when released.
   */
  private async releaseWhenReachable(file: ClaimedFile, log: Logger): Promise<boolean> {
    const giveUpAt = Date.now() + this.config.LEASE_MS;
    for (;;) {
      try {
        return await this.files.releaseFile(file.id, this.owner);
      } catch (error) {
        if (this.stopping || Date.now() >= giveUpAt) {
          log.error({ err: describeError(error) }, 'cannot give the file back; its lease will expire and it will be retried');
          return false;
        }
      }
      await delay(Math.min(RELEASE_RETRY_MS, Math.max(0, giveUpAt - Date.now())));
    }
  }

  // Recording an outcome can itself fail (database down): the lease then expires and the file
  // is claimed again, so nothing is lost; we only log.
  private async settle(log: Logger, write: () => Promise<boolean>): Promise<void> {
    try {
      await write();
    } catch (error) {
      log.error({ err: describeError(error) }, 'cannot record the file outcome; its lease will expire and it will be retried');
    }
  }

  // An observer's failure must never change how a file ends.
  private reportFinished(file: ClaimedFile, outcome: FileOutcome, log: Logger): void {
    try {
      this.fileFinishedListener?.({ file, outcome });
    } catch (error) {
      log.warn({ err: describeError(error) }, 'file-finished listener failed');
    }
  }

  private async renew(file: ClaimedFile, controller: AbortController, log: Logger): Promise<void> {
    try {
      const held = await this.files.renewLease(file.id, this.owner, this.config.LEASE_MS);
      if (!held && !controller.signal.aborted) controller.abort(new LeaseLost());
    } catch (error) {
      log.warn({ err: describeError(error) }, 'cannot renew lease');
    }
  }
}

function summarise(outcome: FileOutcome) {
  const { timings, ...counts } = outcome;
  return { ...counts, ms: Math.round(timings.totalMs) };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
