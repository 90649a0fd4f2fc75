import path from 'node:path';
import workerpool from 'workerpool';
import type { ChunkResult, ChunkTask } from '../pipeline/pipeline.types.js';
import { DIST_DIR } from '../project-paths.js';
import { TaskCounter, type Executor, type ExecutorStats } from './executor.js';

export const PROCESS_WORKER_FILE = path.join(DIST_DIR, 'executor', 'process.worker.js');

/**
 * Child processes (workerpool over child_process.fork). Each task's bytes are copied over the
 * IPC channel with V8's structured serialisation. A process that dies rejects its task and
 * is replaced by the pool.
 */
export class ProcessPoolExecutor implements Executor {
  readonly kind = 'processes' as const;
  private readonly pool: workerpool.Pool;
  private readonly counter: TaskCounter;

  constructor(
    readonly size: number,
    workerFile = PROCESS_WORKER_FILE,
  ) {
    this.counter = new TaskCounter(this.kind, size);
    this.pool = workerpool.pool(workerFile, {
      workerType: 'process',
      minWorkers: size,
      maxWorkers: size,
      forkOpts: { serialization: 'advanced' },
    });
  }

  run(task: ChunkTask): Promise<ChunkResult> {
    return this.counter.track(async () => (await this.pool.exec('processChunk', [task])) as ChunkResult);
  }

  stats(): ExecutorStats {
    return this.counter.stats();
  }

  async close(): Promise<void> {
    await this.pool.terminate();
  }
}
