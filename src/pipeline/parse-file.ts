import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { createDecodedStream } from './decode.js';
import type { ChunkResult, ChunkTask, RejectedRecord } from './pipeline.types.js';
import { RecordSplitter, type TaskBufferPool } from './split.js';

export interface ParseFileOptions {
  /** Decompressed bytes per chunk task (CHUNK_BYTES). */
  chunkBytes: number;
  /** Longest record accepted (MAX_LINE_BYTES); longer ones are dead-lettered unread. */
  maxRecordBytes: number;
}

/**
 * One step of a file's parsing, in file order: a chunk's result and/or records the splitter
 * refused, with the decompressed bytes and the time spent waiting for them since the last piece.
 * Plain data: it crosses the thread boundary as it is (see parse.worker.ts).
 */
export interface ParsedPiece {
  result: ChunkResult | null;
  rejected: RejectedRecord[];
  bytesDecoded: number;
  decompressMs: number;
}

export type RunChunk = (task: ChunkTask) => Promise<ChunkResult>;

export interface ChunkWindow {
  /** Chunk tasks in flight at once (enough to keep every worker of a pool busy). */
  tasks: number;
  /** Reused task buffers, when the chunks are not transferred away. */
  taskBuffers?: TaskBufferPool;
}

/**
 * Decompresses a file's bytes, cuts them into chunk tasks of whole records, runs every task
 * with `runChunk` (a few in flight) and yields the results in order. Async iteration is the
 * flow control: the file is read only as fast as the consumer takes pieces, so memory is
 * bounded by the tasks in flight whatever the file's size. A consumer that stops early (error,
 * abort) gets the tasks in flight settled before the generator returns.
 */
export async function* parseFileInChunks(
  source: AsyncIterable<Buffer>,
  options: ParseFileOptions,
  runChunk: RunChunk,
  window: ChunkWindow,
  signal?: AbortSignal,
): AsyncGenerator<ParsedPiece> {
  const decoded = createDecodedStream(Readable.from(source, { objectMode: false }));
  const { taskBuffers } = window;
  const splitter = new RecordSplitter({
    chunkBytes: options.chunkBytes,
    maxRecordBytes: options.maxRecordBytes,
    allocateTaskBytes: taskBuffers && ((length) => taskBuffers.take(length)),
  });
  const inFlight: { task: ChunkTask; result: Promise<ChunkResult> }[] = [];
  // Decompression figures gathered since the last piece; the next piece carries them.
  let bytesDecoded = 0;
  let decompressMs = 0;
  const piece = (result: ChunkResult | null, rejected: RejectedRecord[]): ParsedPiece => {
    signal?.throwIfAborted();
    const next = { result, rejected, bytesDecoded, decompressMs };
    bytesDecoded = 0;
    decompressMs = 0;
    return next;
  };
  // The oldest task's result; its bytes are free again once the executor has answered.
  const settleOldest = async (): Promise<ParsedPiece> => {
    const { task, result } = inFlight.shift()!;
    const settled = await result;
    taskBuffers?.give(task.bytes);
    return piece(settled, []);
  };
  async function* submit(tasks: ChunkTask[], rejected: RejectedRecord[]): AsyncGenerator<ParsedPiece> {
    if (rejected.length > 0) yield piece(null, rejected);
    for (const task of tasks) {
      const result = runChunk(task);
      result.catch(() => undefined); // awaited in order; keeps an early rejection from going unhandled
      inFlight.push({ task, result });
      while (inFlight.length >= window.tasks) yield await settleOldest();
    }
  }

  try {
    let waitStarted = performance.now();
    for await (const chunk of decoded as AsyncIterable<Buffer>) {
      decompressMs += performance.now() - waitStarted;
      signal?.throwIfAborted();
      bytesDecoded += chunk.byteLength;
      const output = splitter.push(chunk);
      yield* submit(output.tasks, output.rejected);
      waitStarted = performance.now();
    }
    const last = splitter.end();
    yield* submit(last.tasks, last.rejected);
    while (inFlight.length > 0) yield await settleOldest();
    if (bytesDecoded > 0 || decompressMs > 0) yield piece(null, []);
  } catch (error) {
    // An aborted file ends with the abort's reason, not with what the abort did to its source.
    signal?.throwIfAborted();
    throw error;
  } finally {
    decoded.destroy();
    await Promise.allSettled(inFlight.map((entry) => entry.result));
  }
}
