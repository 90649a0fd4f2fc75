import path from 'node:path';
import workerpool from 'workerpool';
import type { ParsedPiece, ParseFileOptions } from '../pipeline/parse-file.js';
import type { ChunkResult, ChunkTask } from '../pipeline/pipeline.types.js';
import { DIST_DIR } from '../project-paths.js';
import { ChunkedFileParser, TaskCounter, type Executor, type ExecutorStats } from './executor.js';

export const PROCESS_WORKER_FILE = path.join(DIST_DIR, 'executor', 'process.worker.js');

/**
 * Child processes (workerpool over child_process.fork), chunk by chunk: the main thread
 * decompresses and splits each file, the children parse its chunks. Each task's bytes are
 * copied over the IPC channel with V8's structured serialisation. A process that dies rejects
 * its task (and fails its file) and is replaced by the pool.
 */
export class ProcessPoolExecutor implements Executor {
  readonly kind = 'processes' as const;
  private readonly pool: workerpool.Pool;
  private readonly counter: TaskCounter;
  private readonly maxHeapMb: number | undefined;
  private readonly files: ChunkedFileParser;

  constructor(
    readonly size: number,
    workerFile = PROCESS_WORKER_FILE,
    options: { maxHeapMb?: number; concurrentFiles?: number } = {},
  ) {
    this.counter = new TaskCounter(this.kind, size);
    // One task more than workers per file: every child stays busy while the main thread reads and writes.
    this.files = new ChunkedFileParser((task) => this.run(task), size + 1, options.concurrentFiles ?? 1);
    // The same per-worker heap limit as the thread pool (see worker-heap-limit.ts): a child
    // that exceeds it exits alone and is replaced.
    this.maxHeapMb = options.maxHeapMb;
    // The parent's own Node flags (source maps, loaders) are kept, but its heap size.
    const heapFlags = [
      ...process.execArgv.filter((flag) => !flag.startsWith('--max-old-space-size')),
      ...(options.maxHeapMb === undefined ? [] : [`--max-old-space-size=${options.maxHeapMb}`]),
    ];
    this.pool = workerpool.pool(workerFile, {
      workerType: 'process',
      minWorkers: size,
      maxWorkers: size,
      forkOpts: { serialization: 'advanced', execArgv: heapFlags },
    });
  }

  parseFile(source: AsyncIterable<Buffer>, options: ParseFileOptions, signal: AbortSignal): AsyncIterable<ParsedPiece> {
    return this.files.parse(source, options, signal);
  }

  /** Parses one chunk task in a child process. */
  run(task: ChunkTask): Promise<ChunkResult> {
    return this.counter.track(async () => {
      try {
        return (await this.pool.exec('processChunk', [task])) as ChunkResult;
      } catch (error) {
        throw describeWorkerDeath(error, this.maxHeapMb);
      }
    });
  }

  stats(): ExecutorStats {
    return this.counter.stats();
  }

  async close(): Promise<void> {
    await this.pool.terminate();
  }
}

/**
 * workerpool reports a dead child as a multi-line dump (script, spawn arguments, stdio). The
 * file's error must say what happened in one line: how the process ended, and that SIGABRT is
 * what V8 does when a heap limit is reached.
 */
export function describeWorkerDeath(error: unknown, maxHeapMb: number | undefined): unknown {
  const message = error instanceof Error ? error.message : '';
  if (!message.startsWith('Workerpool Worker terminated Unexpectedly')) return error;
  const signal = /signalCode: `(\w+)`/.exec(message)?.[1];
  const exitCode = /exitCode: `(\d+)`/.exec(message)?.[1];
  const ended = signal ? `killed by ${signal}` : `exited with code ${exitCode ?? 'unknown'}`;
  const outOfMemory = signal === 'SIGABRT' ? `: out of memory (heap limit ${maxHeapMb ?? 'default'} MB)?` : '';
  return new Error(`worker process ${ended}${outOfMemory}`, { cause: error });
}
