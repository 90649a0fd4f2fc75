import { Inject, Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { APP_CONFIG, type AppConfig } from '../config/config.module.js';
import { EXECUTOR, type Executor } from '../executor/executor.js';
import { isCorruptFileError } from '../pipeline/decode.js';
import type { ChunkResult, RejectedRecord } from '../pipeline/pipeline.types.js';
import { OBJECT_STORE } from '../storage/storage.module.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ClaimedFile, FileOutcome } from './files.repository.js';
import { PermanentError } from './ingest.errors.js';
import { TweetsRepository } from './tweets.repository.js';

// Rows per write transaction. The throughput prototype (issue 6) measured batches of 100 rows
// 2-3x slower than 3k. Measured here on the 2.18 GB benchmark file (639k rows, interleaved runs
// of `node dist/main.js ingest`, medians): 2,500 rows 10.7 s, 5,000 9.5 s, 10,000 9.2 s, 20,000
// 9.2 s, 40,000 9.3 s; on the 40-file corpus (about one batch per file) 2,500 rows cost 0.4 s
// more and 5,000-20,000 are the same. 10,000 rows (~3 MB of COPY text) keep PostgreSQL's staging
// table within its 8 MB of temp_buffers. One batch is written while the next is parsed
// (BatchWriter).
const WRITE_BATCH_ROWS = 10_000;
// Upper bound of encoded bytes held for one write, whatever the row count.
const WRITE_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Ingests one claimed file: stream it from the store, hand its bytes to the executor (which
 * decompresses, cuts them into chunks of whole records, parses and cleans them, on the main
 * thread or in workers) and write the parsed pieces in batches. Memory is bounded by what is in
 * flight, whatever the file's size: the executor reads the file only as fast as pieces are taken.
 *
 * Stage timings: read = time spent waiting for the store's bytes; decompress = time waiting
 * for decompressed bytes beyond that; parse/clean = CPU time inside the executor (summed over
 * workers, so it can exceed wall time); write = time in database transactions. With thread
 * workers, decompress is measured in the worker and also holds its waits for the main thread
 * (which reads ahead of it, so the subtraction is approximate; rows and bytes are exact).
 */
@Injectable()
export class FileProcessor {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EXECUTOR) private readonly executor: Executor,
    @Inject(OBJECT_STORE) private readonly store: ObjectStore,
    private readonly tweets: TweetsRepository,
  ) {}

  async process(file: ClaimedFile, signal: AbortSignal): Promise<FileOutcome> {
    const started = performance.now();
    const outcome = emptyOutcome();
    const source = await this.store.openRead(file);
    const writer = new BatchWriter(this.tweets, file.id, outcome);
    const options = { chunkBytes: this.config.CHUNK_BYTES, maxRecordBytes: this.config.MAX_LINE_BYTES };
    // A read that never answers (a stalled store) must not hold the file past an abort: the
    // executor waits for a pending read before it lets go, so the stream is ended here. Without
    // an error: nobody may be listening for one any more (an 'error' event without a listener
    // would crash the process); a pending read fails with ERR_STREAM_PREMATURE_CLOSE, and the
    // executor reports the abort's reason instead.
    const endSource = () => source.destroy();
    signal.addEventListener('abort', endSource, { once: true });
    try {
      for await (const piece of this.executor.parseFile(measureWaits(source, outcome), options, signal)) {
        signal.throwIfAborted();
        outcome.bytesDecoded += piece.bytesDecoded;
        outcome.timings.decompressMs += piece.decompressMs;
        writer.addRejected(piece.rejected);
        if (piece.result) await writer.add(piece.result);
      }
      signal.throwIfAborted();
      await writer.finish();
    } catch (error) {
      throw this.explain(file, error);
    } finally {
      signal.removeEventListener('abort', endSource);
      source.destroy();
      // A write still running after a failure must end before the file is retried elsewhere.
      await writer.settle().catch(() => undefined);
    }
    // The decoder's wait included the source's: keep only what decompression added.
    outcome.timings.decompressMs = Math.max(0, outcome.timings.decompressMs - outcome.timings.readMs);
    outcome.duplicates = Math.max(0, outcome.tweets - outcome.inserted);
    outcome.timings.totalMs = performance.now() - started;
    return outcome;
  }

  private explain(file: ClaimedFile, error: unknown): unknown {
    if (isCorruptFileError(error)) {
      return new PermanentError(`corrupt file ${file.name}: ${(error as Error).message}`, { cause: error });
    }
    return error;
  }
}

function emptyOutcome(): FileOutcome {
  return {
    lines: 0,
    tweets: 0,
    inserted: 0,
    duplicates: 0,
    deletes: 0,
    notices: 0,
    rejected: 0,
    bytesRead: 0,
    bytesDecoded: 0,
    timings: { readMs: 0, decompressMs: 0, parseMs: 0, cleanMs: 0, writeMs: 0, totalMs: 0 },
  };
}

async function* measureWaits(source: Readable, outcome: FileOutcome): AsyncGenerator<Buffer> {
  let waitStarted = performance.now();
  for await (const chunk of source as AsyncIterable<Buffer>) {
    outcome.timings.readMs += performance.now() - waitStarted;
    outcome.bytesRead += chunk.byteLength;
    yield chunk;
    waitStarted = performance.now();
  }
}

/**
 * Accumulates chunk results and writes them in batches of about WRITE_BATCH_ROWS rows. One
 * batch is written while the next accumulates: the file's pipeline (decompress, split, parse)
 * goes on during the database round trips instead of stalling on each of them. Batches of a
 * file are still written one at a time and in order (the next waits for the previous).
 */
class BatchWriter {
  private tweetsCopy: Uint8Array[] = [];
  private deletions: ChunkResult['deletions'] = [];
  private rejected: RejectedRecord[] = [];
  private rows = 0;
  private bytes = 0;
  // The batch being written, if any. Its failure is thrown when the next batch is full (or at
  // finish()): the file then fails after at most one more batch was parsed for nothing.
  private writing: Promise<void> | null = null;

  constructor(
    private readonly repository: TweetsRepository,
    private readonly fileId: string,
    private readonly outcome: FileOutcome,
  ) {}

  addRejected(records: RejectedRecord[]): void {
    if (records.length === 0) return;
    this.rejected.push(...records);
    this.outcome.rejected += records.length;
    this.outcome.lines += records.length;
  }

  async add(result: ChunkResult): Promise<void> {
    const { counts, timings } = result;
    this.outcome.lines += counts.records;
    this.outcome.tweets += counts.tweets;
    this.outcome.deletes += counts.deletes;
    this.outcome.notices += counts.notices;
    this.outcome.rejected += counts.rejected;
    this.outcome.timings.parseMs += timings.parseMs;
    this.outcome.timings.cleanMs += timings.cleanMs + timings.encodeMs;
    this.tweetsCopy.push(result.tweetsCopy);
    this.deletions.push(...result.deletions);
    this.rejected.push(...result.rejected);
    this.rows += counts.tweets + result.deletions.length + result.rejected.length;
    this.bytes += result.tweetsCopy.byteLength;
    if (this.rows >= WRITE_BATCH_ROWS || this.bytes >= WRITE_BATCH_BYTES) await this.startWrite();
  }

  /** Writes what is left and waits for every write of this file. */
  async finish(): Promise<void> {
    await this.startWrite();
    await this.settle();
  }

  /** Waits for the write in progress (if any), then starts writing the accumulated batch. */
  private async startWrite(): Promise<void> {
    await this.settle();
    if (this.tweetsCopy.length === 0 && this.deletions.length === 0 && this.rejected.length === 0) return;
    const batch = { fileId: this.fileId, tweetsCopy: this.tweetsCopy, deletions: this.deletions, rejected: this.rejected };
    this.tweetsCopy = [];
    this.deletions = [];
    this.rejected = [];
    this.rows = 0;
    this.bytes = 0;
    const started = performance.now();
    this.writing = this.repository.writeBatch(batch).then((result) => {
      this.outcome.inserted += result.inserted;
      this.outcome.timings.writeMs += performance.now() - started;
    });
    // Awaited by the next settle(); until then a failure must not count as unhandled.
    this.writing.catch(() => undefined);
  }

  /** Waits for the write in progress, rethrowing its failure. */
  async settle(): Promise<void> {
    const writing = this.writing;
    this.writing = null;
    await writing;
  }
}
