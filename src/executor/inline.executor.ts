import { setImmediate as nextTurn } from 'node:timers/promises';
import { processChunk } from '../pipeline/process-chunk.js';
import type { ChunkResult, ChunkTask } from '../pipeline/pipeline.types.js';
import { TaskCounter, type Executor, type ExecutorStats } from './executor.js';

/** No pool: the work runs on the main thread, one task at a time (the sequential baseline). */
export class InlineExecutor implements Executor {
  readonly kind = 'inline' as const;
  readonly size = 1;
  private readonly counter = new TaskCounter(this.kind, this.size);

  run(task: ChunkTask): Promise<ChunkResult> {
    return this.counter.track(async () => {
      // Let I/O callbacks (lease renewals, HTTP probes) run between chunks.
      await nextTurn();
      return processChunk(task);
    });
  }

  stats(): ExecutorStats {
    return this.counter.stats();
  }

  async close(): Promise<void> {}
}
