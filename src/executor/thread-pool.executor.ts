import path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { CorruptFileError } from '../pipeline/pipeline.errors.js';
import type { ParsedPiece, ParseFileOptions } from '../pipeline/parse-file.js';
import { DIST_DIR } from '../project-paths.js';
import { TaskCounter, WITHDRAWN, WorkerFailedError, type Executor, type ExecutorStats } from './executor.js';
import type { FileTask, MainMessage, WorkerMessage } from './file-channel.js';

export const THREAD_WORKER_FILE = path.join(DIST_DIR, 'executor', 'parse.worker.js');

/**
 * Worker threads (piscina), one whole file per worker at a time: the worker decompresses,
 * splits, parses, cleans and encodes (parse.worker.ts), the main thread only reads the file's
 * bytes from the store and writes the rows. Files are the unit of parallelism, so a pool of N
 * uses N cores when N files are in flight (CONCURRENT_FILES ≥ EXECUTOR_SIZE); one large file
 * runs on one worker.
 *
 * Why whole files rather than chunks: with chunk workers the main thread also decompressed,
 * split and copied every chunk, for every worker, and the workers waited on it. CPU profiles of
 * one 40-file ingest with threads x 2: main thread busy ~0.9 s after start with chunk workers,
 * ~0.4 s with whole files; each worker waiting ~1.1 s for work, against 0.3-0.5 s. On 2 cores
 * the wall time is the same (both ~3.35 s, 5 interleaved runs: the machine is CPU-bound), and
 * whole files cost ~120 MB more memory; the lighter main thread is for machines with more cores
 * (BENCHMARKS.md, "What changed in the fifth round").
 */
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

  async *parseFile(source: AsyncIterable<Buffer>, options: ParseFileOptions, signal: AbortSignal): AsyncGenerator<ParsedPiece> {
    signal.throwIfAborted();
    const { port1: port, port2: workerPort } = new MessageChannel();
    const conversation = new FileConversation(port, source[Symbol.asyncIterator]());
    const task: FileTask = { port: workerPort, options };
    // A file still queued in piscina (CONCURRENT_FILES > EXECUTOR_SIZE) that is given up is
    // taken out of the queue, not left to wait for a worker only to be cancelled there.
    const dequeue = new AbortController();
    const finished = this.counter.track(async () => {
      try {
        await this.pool.run(task, { transferList: [workerPort], signal: dequeue.signal });
      } catch (error) {
        if (!dequeue.signal.aborted) throw error;
        return WITHDRAWN;
      }
    });
    finished.catch((error: unknown) => conversation.fail(error));
    // The worker's end of the port closes when it finishes or dies; a death is explained by
    // the task's rejection, which may come after the close.
    port.once('close', () => void finished.then(() => conversation.fail(new WorkerFailedError('the worker closed the file channel early')), () => undefined));
    const onAbort = () => conversation.fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const piece = await conversation.next();
        if (piece === null) break;
        signal.throwIfAborted();
        yield piece;
        conversation.post({ type: 'ack' });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!conversation.started) dequeue.abort();
      try {
        await conversation.close();
      } finally {
        // The worker is free again (or dead and replaced) before the file is given up or retried.
        await finished.catch(() => undefined);
        port.close();
      }
    }
  }

  stats(): ExecutorStats {
    return this.counter.stats();
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/**
 * The main thread's end of one file's conversation (see file-channel.ts): answers the worker's
 * pulls from the source, queues the parsed pieces until they are taken, and turns the worker's
 * end (done, failed, death) or a failure here into the end of `next()`.
 */
class FileConversation {
  private readonly pieces: ParsedPiece[] = [];
  private ended: { error: unknown } | 'done' | null = null;
  /** True once a worker has asked for the file's bytes (the task left piscina's queue). */
  started = false;
  private wake: (() => void) | null = null;
  private reading = Promise.resolve();

  constructor(
    private readonly port: MessagePort,
    private readonly source: AsyncIterator<Buffer>,
  ) {
    port.on('message', (message: WorkerMessage) => this.receive(message));
  }

  /** The next piece, null when the worker sent them all; throws how the file failed. */
  async next(): Promise<ParsedPiece | null> {
    for (;;) {
      const piece = this.pieces.shift();
      if (piece) return piece;
      if (this.ended === 'done') return null;
      if (this.ended) throw this.ended.error;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = { error };
    this.wake?.();
  }

  post(message: MainMessage): void {
    this.port.postMessage(message);
  }

  /** Stops the worker if it is still going, and the source. */
  async close(): Promise<void> {
    if (this.ended !== 'done') this.post({ type: 'cancel' });
    this.fail(new Error('file conversation closed'));
    await this.reading;
    await this.source.return?.();
  }

  private receive(message: WorkerMessage): void {
    switch (message.type) {
      case 'pull':
        this.started = true;
        // One read at a time, in order: the source is a stream.
        this.reading = this.reading.then(() => this.sendNextBytes());
        return;
      case 'piece':
        this.pieces.push(message.piece);
        break;
      case 'done':
        if (!this.ended) this.ended = 'done';
        break;
      case 'failed':
        this.fail(message.corrupt ? new CorruptFileError(message.message) : new WorkerFailedError(message.message));
        break;
    }
    this.wake?.();
  }

  private async sendNextBytes(): Promise<void> {
    if (this.ended) return;
    try {
      const next = await this.source.next();
      if (next.done === true) {
        this.post({ type: 'end' });
        return;
      }
      // A chunk may be a view of a larger (or shared) ArrayBuffer, and posting a view clones the
      // whole buffer: copy just the chunk's bytes, then move that copy.
      const bytes = new Uint8Array(next.value);
      this.port.postMessage({ type: 'data', bytes } satisfies MainMessage, [bytes.buffer]);
    } catch (error) {
      // The store failed (network, object gone): the file fails with that error, unchanged.
      this.fail(error);
    }
  }
}
