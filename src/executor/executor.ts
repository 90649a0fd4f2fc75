import { parseFileInChunks, type ParsedPiece, type ParseFileOptions, type RunChunk } from '../pipeline/parse-file.js';
import { TaskBufferPool } from '../pipeline/split.js';

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
 * Where the CPU-heavy part of ingest runs (decompress, split, UTF-8 decode, JSON parse, clean,
 * COPY encode). One interface, three implementations:
 * - a worker-thread pool (piscina): each worker parses whole files, the main thread only reads
 *   and writes;
 * - a child-process pool (workerpool over child_process.fork): the main thread decompresses and
 *   splits, the children parse chunks;
 * - inline on the main thread (the sequential baseline), chunk by chunk.
 * A worker that throws or dies fails only the file it was parsing; pools replace dead workers.
 */
export interface Executor {
  readonly kind: ExecutorKind;
  readonly size: number;
  /**
   * The parsed pieces of one file, in order, from its raw (possibly gzipped) bytes. Pulled:
   * the source is read only as fast as pieces are taken. Stopping early (return, throw or
   * `signal`) stops the parsing and settles everything in flight before the iterator returns;
   * a read of `source` already pending is awaited too, so the caller ends a stalled source on
   * abort (FileProcessor destroys its stream).
   * A corrupt file fails with a CorruptFileError; a worker's death with a WorkerFailedError.
   */
  parseFile(source: AsyncIterable<Buffer>, options: ParseFileOptions, signal: AbortSignal): AsyncIterable<ParsedPiece>;
  stats(): ExecutorStats;
  close(): Promise<void>;
}

/**
 * parseFile for executors whose unit of work is a chunk task (inline, processes): the main
 * thread decompresses and splits the file, `runChunk` parses its chunks, a few in flight.
 */
export class ChunkedFileParser {
  private taskBuffers: TaskBufferPool | undefined;

  /**
   * `tasksInFlight`: per file, enough to keep every worker busy while the main thread reads and
   * writes. Task buffers are reused across chunks and files (the tasks are copied, never
   * transferred, to these executors), with room for `concurrentFiles` files at once.
   */
  constructor(
    private readonly runChunk: RunChunk,
    private readonly tasksInFlight: number,
    private readonly concurrentFiles: number,
  ) {}

  parse(source: AsyncIterable<Buffer>, options: ParseFileOptions, signal: AbortSignal): AsyncGenerator<ParsedPiece> {
    // Room for a task of two chunks; larger ones (a record near MAX_LINE_BYTES) get a buffer of their own.
    this.taskBuffers ??= new TaskBufferPool(2 * options.chunkBytes, this.tasksInFlight * this.concurrentFiles + 2);
    return parseFileInChunks(source, options, this.runChunk, { tasks: this.tasksInFlight, taskBuffers: this.taskBuffers }, signal);
  }
}

/** A task that failed because its worker crashed or threw: retrying the file may succeed. */
export class WorkerFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`worker failed: ${message}`, options);
    this.name = 'WorkerFailedError';
  }
}

/** What a tracked task returns when it was taken out of the queue before it ran. */
export const WITHDRAWN = Symbol('withdrawn');

/** Counts tasks in flight, done and failed; shared by the three implementations. */
export class TaskCounter {
  private inFlight = 0;
  private completed = 0;
  private failed = 0;

  constructor(
    private readonly kind: ExecutorKind,
    private readonly size: number,
  ) {}

  /**
   * Runs one task, counted busy or queued while it runs, then completed or failed. A task that
   * `work` reports WITHDRAWN (given up before any worker took it) counts as neither.
   */
  async track<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight += 1;
    try {
      const result = await work();
      if (result !== WITHDRAWN) this.completed += 1;
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
