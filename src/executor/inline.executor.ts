import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ParsedPiece, ParseFileOptions } from '../pipeline/parse-file.js';
import { processChunk } from '../pipeline/process-chunk.js';
import type { ChunkResult, ChunkTask } from '../pipeline/pipeline.types.js';
import { ChunkedFileParser, TaskCounter, type Executor, type ExecutorStats } from './executor.js';

/** No pool: the work runs on the main thread, one chunk at a time (the sequential baseline). */
export class InlineExecutor implements Executor {
  readonly kind = 'inline' as const;
  readonly size = 1;
  private readonly counter = new TaskCounter(this.kind, this.size);
  // Two tasks per file: the next chunk is split while one is parsed.
  private readonly files: ChunkedFileParser;

  constructor(options: { concurrentFiles?: number } = {}) {
    this.files = new ChunkedFileParser((task) => this.run(task), this.size + 1, options.concurrentFiles ?? 1);
  }

  parseFile(source: AsyncIterable<Buffer>, options: ParseFileOptions, signal: AbortSignal): AsyncIterable<ParsedPiece> {
    return this.files.parse(source, options, signal);
  }

  /** Parses one chunk task (between two turns of the event loop). */
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
