import { watch, type FSWatcher } from 'chokidar';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { LocalObjectStore } from '../storage/local-object-store.js';
import type { StoredObject } from '../storage/object-store.js';

// Files are registered in batches: a folder of 15,000 files at start-up becomes a few dozen
// statements, not 15,000.
const FLUSH_INTERVAL_MS = 200;
// A file counts as complete once its size has not changed for this long.
const WRITE_STABILITY_MS = 500;

export interface Registrar {
  registerObjects(objects: StoredObject[]): Promise<void>;
}

/**
 * The local stand-in for bucket notifications: watches the STORAGE_URL folder (existing files
 * at start, then every complete new or rewritten file) and registers each as a ledger row.
 */
export class LocalFolderWatcher {
  private watcher: FSWatcher | null = null;
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private ready = false;

  constructor(
    private readonly store: LocalObjectStore,
    private readonly registrar: Registrar,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    // The default ./data/bucket may not exist yet on a fresh clone: create it to drop files into.
    await mkdir(this.store.bucket, { recursive: true });
    const watcher = watch(this.store.bucket, {
      ignored: (file) => path.basename(file).startsWith('.') && file !== this.store.bucket,
      awaitWriteFinish: { stabilityThreshold: WRITE_STABILITY_MS, pollInterval: 100 },
      persistent: true,
    });
    watcher.on('add', (file) => this.enqueue(file));
    watcher.on('change', (file) => this.enqueue(file));
    watcher.on('error', (error) => this.logger.error({ err: String(error) }, 'folder watcher error'));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    this.watcher = watcher;
    this.ready = true;
    this.logger.info({ folder: this.store.bucket }, 'watching local folder for new files');
  }

  isReady(): boolean {
    return this.ready;
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }

  private enqueue(file: string): void {
    this.pending.add(path.relative(this.store.bucket, file).split(path.sep).join('/'));
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, FLUSH_INTERVAL_MS);
  }

  private flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const names = [...this.pending];
      this.pending.clear();
      if (names.length === 0) return;
      const objects = (await Promise.all(names.map((name) => this.store.stat(name)))).filter(
        (object): object is StoredObject => object !== null,
      );
      try {
        await this.registrar.registerObjects(objects);
      } catch (error) {
        // Keep them for the next flush: a file seen is never forgotten while the database is down.
        for (const name of names) this.pending.add(name);
        this.logger.warn({ err: (error as Error).message, files: names.length }, 'cannot register files yet; will retry');
        this.timer ??= setTimeout(() => {
          this.timer = null;
          void this.flush();
        }, 2000);
      }
    });
    return this.flushing;
  }
}
