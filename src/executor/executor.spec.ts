import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CorruptFileError } from '../pipeline/pipeline.errors.js';
import type { ParsedPiece, ParseFileOptions } from '../pipeline/parse-file.js';
import { PROJECT_ROOT } from '../project-paths.js';
import { WorkerFailedError, type Executor, type ExecutorKind } from './executor.js';
import { createExecutor } from './executor.module.js';
import { INPUT_READ_AHEAD, PIECE_CREDITS } from './file-channel.js';
import { ProcessPoolExecutor } from './process-pool.executor.js';
import { ThreadPoolExecutor } from './thread-pool.executor.js';

// Real workers run the compiled files in dist/ (npm test builds first).
const sampleGz = readFileSync(path.resolve(PROJECT_ROOT, '../shared/data/real-tweets/streaming-sample-2018.jsonl.gz'));
const OPTIONS: ParseFileOptions = { chunkBytes: 64 * 1024, maxRecordBytes: 1024 * 1024 };
const KINDS: ExecutorKind[] = ['inline', 'threads', 'processes'];

/** A file's bytes as a store would stream them, in pieces of `pieceBytes`; counts the pieces read. */
function sourceOf(bytes: Buffer, pieceBytes = 16 * 1024) {
  const read = { pieces: 0, bytes: 0, closed: false };
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (let offset = 0; offset < bytes.length; offset += pieceBytes) {
        read.pieces += 1;
        read.bytes += Math.min(pieceBytes, bytes.length - offset);
        yield bytes.subarray(offset, offset + pieceBytes);
      }
    } finally {
      read.closed = true;
    }
  }
  return { chunks: chunks(), read };
}

async function parseAll(executor: Executor, bytes: Buffer, options = OPTIONS): Promise<ParsedPiece[]> {
  const pieces: ParsedPiece[] = [];
  for await (const piece of executor.parseFile(sourceOf(bytes).chunks, options, new AbortController().signal)) pieces.push(piece);
  return pieces;
}

/** What a file's pieces hold, whatever the executor (timings and piece boundaries aside). */
function contents(pieces: ParsedPiece[]) {
  const results = pieces.flatMap((piece) => (piece.result ? [piece.result] : []));
  return {
    copy: Buffer.concat(results.map((result) => result.tweetsCopy)).toString('utf8'),
    deletions: results.flatMap((result) => result.deletions),
    rejected: [...pieces.flatMap((piece) => piece.rejected), ...results.flatMap((result) => result.rejected)],
    records: results.reduce((sum, result) => sum + result.counts.records, 0),
    tweets: results.reduce((sum, result) => sum + result.counts.tweets, 0),
    bytesDecoded: pieces.reduce((sum, piece) => sum + piece.bytesDecoded, 0),
  };
}

/** JSON lines of minimal tweets, about `bytes` long, not compressed. */
function plainTweets(bytes: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let id = 1; length < bytes; id++) {
    const line = JSON.stringify({ created_at: 'Wed Aug 02 10:00:00 +0000 2017', id_str: String(id), text: `tweet ${id} ${'x'.repeat(300)}`, user: { id_str: '7', screen_name: 'a' } });
    lines.push(line);
    length += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

describe('executors', () => {
  const executors: Executor[] = [];
  afterAll(async () => {
    await Promise.all(executors.map((executor) => executor.close()));
  });
  const executorOf = async (kind: ExecutorKind, size = 2) => {
    const executor = await createExecutor(kind, size);
    executors.push(executor);
    return executor;
  };

  it('threads, processes and inline parse a file into identical rows', async () => {
    const parsed: Record<string, ReturnType<typeof contents>> = {};
    for (const kind of KINDS) {
      const executor = await executorOf(kind);
      const pieces = await parseAll(executor, sampleGz);
      expect(pieces.length).toBeGreaterThan(1);
      parsed[kind] = contents(pieces);
      expect(executor.stats()).toMatchObject({ kind, busy: 0, queued: 0, failed: 0 });
    }
    expect(parsed.inline!.records).toBe(72);
    expect(parsed.inline!.tweets).toBeGreaterThan(0);
    expect(parsed.inline!.bytesDecoded).toBeGreaterThan(sampleGz.length);
    expect(parsed.threads).toEqual(parsed.inline);
    expect(parsed.processes).toEqual(parsed.inline);
  });

  it('a thread pool parses several files at once, each into its own rows', async () => {
    const executor = await executorOf('threads', 2);
    const files = [plainTweets(200_000), sampleGz, plainTweets(300_000)];
    const alone = await Promise.all(files.map(async (file) => contents(await parseAll(await executorOf('inline'), file))));
    const together = await Promise.all(files.map(async (file) => contents(await parseAll(executor, file))));
    expect(together).toEqual(alone);
    expect(executor.stats()).toMatchObject({ completed: 3, failed: 0, busy: 0 });
  });

  for (const kind of KINDS) {
    it(`a corrupt gzip fails the file with a CorruptFileError (${kind})`, async () => {
      const executor = await executorOf(kind, 1);
      const truncated = sampleGz.subarray(0, Math.floor(sampleGz.length / 2));
      const failure = await parseAll(executor, truncated).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(CorruptFileError);
      expect((failure as Error).message).toMatch(/^corrupt gzip: unexpected end of file$/);
      // The pool is still whole: the next file parses.
      expect(contents(await parseAll(executor, sampleGz)).records).toBe(72);
    });

    it(`a store that fails mid-file fails the file with its own error (${kind})`, async () => {
      const executor = await executorOf(kind, 1);
      const storeError = new Error('socket hang up');
      async function* failingSource(): AsyncGenerator<Buffer> {
        yield plainTweets(100_000);
        throw storeError;
      }
      const parsing = (async () => {
        for await (const piece of executor.parseFile(failingSource(), OPTIONS, new AbortController().signal)) void piece;
      })();
      await expect(parsing).rejects.toBe(storeError);
      expect(contents(await parseAll(executor, sampleGz)).records).toBe(72);
    });

    it(`stopping early frees the worker and closes the source (${kind})`, async () => {
      const executor = await executorOf(kind, 1);
      const source = sourceOf(plainTweets(2_000_000));
      for await (const piece of executor.parseFile(source.chunks, OPTIONS, new AbortController().signal)) {
        expect(piece).toBeDefined();
        break;
      }
      expect(source.read.closed).toBe(true);
      expect(executor.stats()).toMatchObject({ busy: 0, queued: 0 });
      expect(contents(await parseAll(executor, sampleGz)).records).toBe(72);
    });

    it(`an abort signal stops the file with its reason (${kind})`, async () => {
      const executor = await executorOf(kind, 1);
      const controller = new AbortController();
      const reason = new Error('shutting down');
      let pieces = 0;
      const parsing = (async () => {
        for await (const piece of executor.parseFile(sourceOf(plainTweets(2_000_000)).chunks, OPTIONS, controller.signal)) {
          void piece;
          pieces += 1;
          if (pieces === 2) controller.abort(reason);
        }
      })();
      await expect(parsing).rejects.toBe(reason);
      expect(pieces).toBe(2);
      expect(contents(await parseAll(executor, sampleGz)).records).toBe(72);
    });
  }

  for (const kind of KINDS) {
    it(`an abort while waiting for a stalled store ends the file with its reason (${kind})`, async () => {
      const executor = await executorOf(kind, 1);
      const controller = new AbortController();
      const reason = new Error('lease lost');
      // A store that sends part of the file, then nothing, until the file is given up (as
      // FileProcessor's stream does when it is destroyed on abort).
      async function* stalledSource(): AsyncGenerator<Buffer> {
        yield plainTweets(70_000);
        // Ends as a destroyed stream does: with an error of its own, which the abort's reason outranks.
        const ended = new Promise((_, reject) => controller.signal.addEventListener('abort', () => reject(new Error('stream destroyed'))));
        // The file is aborted while its next read is pending (and the consumer waits for pieces).
        setImmediate(() => controller.abort(reason));
        await ended;
      }
      const parsing = (async () => {
        for await (const piece of executor.parseFile(stalledSource(), OPTIONS, controller.signal)) void piece;
      })();
      await expect(parsing).rejects.toBe(reason);
      expect(executor.stats()).toMatchObject({ busy: 0, queued: 0 });
      expect(contents(await parseAll(executor, sampleGz)).records).toBe(72);
    });
  }

  it('a file given up while queued for a thread worker leaves the queue at once', async () => {
    const executor = await executorOf('threads', 1);
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
    async function* heldSource(): AsyncGenerator<Buffer> {
      yield plainTweets(70_000);
      await firstMayEnd;
    }
    // The only worker parses the first file, whose store holds back its end.
    const first = (async () => {
      let pieces = 0;
      for await (const piece of executor.parseFile(heldSource(), OPTIONS, new AbortController().signal)) pieces += piece.result ? 1 : 0;
      return pieces;
    })();
    // The second file waits in piscina's queue; giving it up must not wait for the first.
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const second = (async () => {
      for await (const piece of executor.parseFile(sourceOf(sampleGz).chunks, OPTIONS, controller.signal)) void piece;
    })();
    await vi.waitFor(() => expect(executor.stats()).toMatchObject({ busy: 1, queued: 1 }));
    controller.abort(reason);
    await expect(second).rejects.toBe(reason);
    // Withdrawn from the queue: neither completed nor failed.
    expect(executor.stats()).toMatchObject({ busy: 1, queued: 0, completed: 0, failed: 0 });
    releaseFirst();
    expect(await first).toBeGreaterThan(0);
    expect(executor.stats()).toMatchObject({ busy: 0, completed: 1, failed: 0 });
  });

  it('a thread worker reads the file only as fast as its pieces are taken', async () => {
    const executor = await executorOf('threads', 1);
    const chunkBytes = 64 * 1024;
    const source = sourceOf(plainTweets(60 * chunkBytes), chunkBytes);
    let taken = 0;
    let mostAhead = 0;
    for await (const piece of executor.parseFile(source.chunks, { ...OPTIONS, chunkBytes }, new AbortController().signal)) {
      void piece;
      taken += 1;
      mostAhead = Math.max(mostAhead, source.read.pieces - taken);
      // A slow writer: without flow control the worker would read the whole file meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    expect(taken).toBeGreaterThanOrEqual(60);
    // At most: 7 unacknowledged pieces + 1 waiting for credit, 2 reads asked for ahead, 1 chunk
    // in the splitter, 1 in each of the two streams in front of it (Readable.from twice).
    expect(mostAhead).toBeLessThanOrEqual(PIECE_CREDITS + INPUT_READ_AHEAD + 4);
  });

  it('a thread that dies or throws fails only its file; the pool replaces it', async () => {
    const executor = new ThreadPoolExecutor(1, path.join(PROJECT_ROOT, 'test/fixtures/crashing-file.worker.mjs'));
    executors.push(executor);
    const dies = await parseAll(executor, sampleGz, { ...OPTIONS, maxRecordBytes: 1 }).catch((error: unknown) => error);
    expect(dies).toBeInstanceOf(WorkerFailedError);
    await expect(parseAll(executor, sampleGz, { ...OPTIONS, maxRecordBytes: 2 })).rejects.toThrowError(/worker failed: cannot parse this/);
    expect(contents(await parseAll(executor, sampleGz)).records).toBe(72);
    expect(executor.stats()).toMatchObject({ completed: 1, failed: 2 });
  });

  it('a child process that dies fails only its file; the pool replaces it', async () => {
    const executor = new ProcessPoolExecutor(1, path.join(PROJECT_ROOT, 'test/fixtures/crashing-process.worker.cjs'));
    executors.push(executor);
    await expect(parseAll(executor, Buffer.from('!\n'))).rejects.toBeInstanceOf(WorkerFailedError);
    expect(contents(await parseAll(executor, Buffer.from('ok\n'))).records).toBe(1);
  });
});

describe('a file small enough to be one piece', () => {
  it('is parsed by every executor, with its decoded size', async () => {
    for (const kind of KINDS) {
      const executor = await createExecutor(kind, 1);
      try {
        const line = JSON.stringify({ created_at: 'Wed Aug 02 10:00:00 +0000 2017', id_str: '5', text: 'hi', user: { id_str: '2', screen_name: 'a' } });
        const parsed = contents(await parseAll(executor, gzipSync(`${line}\n`)));
        expect(parsed).toMatchObject({ records: 1, tweets: 1, bytesDecoded: line.length + 1 });
      } finally {
        await executor.close();
      }
    }
  });
});
