import type { ChunkResult, ChunkTask } from '../pipeline/pipeline.types.js';

export type ExecutorKind = 'threads' | 'processes' | 'inline';

/** Injection token of the Executor. */
export const EXECUTOR = Symbol('EXECUTOR');

export interface ExecutorStats {
  kind: ExecutorKind;
  size: number;
  busy: number;
  queued: number;
  completed: number;
  failed: number;
}

/**
 * Where the CPU-heavy part of ingest runs (UTF-8 decode, JSON parse, clean, COPY encode).
 * One interface, three implementations: a worker-thread pool (piscina), a child-process pool
 * (workerpool over child_process.fork) and inline on the main thread (the sequential baseline).
 * A worker that throws or dies rejects only its task; pools replace dead workers.
 */
export interface Executor {
  readonly kind: ExecutorKind;
  readonly size: number;
  run(task: ChunkTask): Promise<ChunkResult>;
  stats(): ExecutorStats;
  close(): Promise<void>;
}

/** A task that failed because its worker crashed or threw: retrying the file may succeed. */
export class WorkerFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`worker failed: ${message}`, options);
    this.name = 'WorkerFailedError';
  }
}

/** Counts tasks in flight, done and failed; shared by the three implementations. */
export class TaskCounter {
  private inFlight = 0;
  private completed = 0;
  private failed = 0;

  constructor(
    private readonly kind: ExecutorKind,
    private readonly size: number,
  ) {}

  async track<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    try {
      const result = await work();
      this.completed += 1;
      return result;
    } catch (error) {
      this.failed += 1;
      throw error instanceof WorkerFailedError ? error : new WorkerFailedError((error as Error).message, { cause: error });
    } finally {
      this.inFlight -= 1;
    }
  }

  stats(): ExecutorStats {
    return {
      kind: this.kind,
      size: this.size,
      busy: Math.min(this.inFlight, this.size),
      queued: Math.max(0, this.inFlight - this.size),
      completed: this.completed,
      failed: this.failed,
    };
  }
}
