import path from 'node:path';
import { Piscina } from 'piscina';
import type { ChunkResult, ChunkTask } from '../pipeline/pipeline.types.js';
import { DIST_DIR } from '../project-paths.js';
import { TaskCounter, type Executor, type ExecutorStats } from './executor.js';

export const THREAD_WORKER_FILE = path.join(DIST_DIR, 'executor', 'parse.worker.js');

/** Worker threads (piscina). Task bytes are moved, not copied, into the worker. */
export class ThreadPoolExecutor implements Executor {
  readonly kind = 'threads' as const;
  private readonly pool: Piscina;
  private readonly counter: TaskCounter;

  constructor(
    readonly size: number,
    workerFile = THREAD_WORKER_FILE,
    options: { maxHeapMb?: number } = {},
  ) {
    this.counter = new TaskCounter(this.kind, size);
    // A heap limit per worker: a worker that exceeds it is terminated alone (its task rejects
    // with ERR_WORKER_OUT_OF_MEMORY) instead of aborting the process (see worker-heap-limit.ts).
    const resourceLimits = options.maxHeapMb === undefined ? undefined : { maxOldGenerationSizeMb: options.maxHeapMb };
    this.pool = new Piscina({ filename: workerFile, minThreads: size, maxThreads: size, idleTimeout: 60_000, resourceLimits });
    // Without a listener an 'error' event would crash the service; the task's rejection carries it.
    this.pool.on('error', () => undefined);
  }

  run(task: ChunkTask): Promise<ChunkResult> {
    return this.counter.track(
      () => this.pool.run(task, { transferList: [task.bytes.buffer as ArrayBuffer] }) as Promise<ChunkResult>,
    );
  }

  stats(): ExecutorStats {
    return this.counter.stats();
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
