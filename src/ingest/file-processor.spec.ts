import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnvironment } from '../config/environment.js';
import type { Executor } from '../executor/executor.js';
import { createExecutor } from '../executor/executor.module.js';
import type { ObjectStore } from '../storage/object-store.js';
import { FileProcessor } from './file-processor.js';
import type { ClaimedFile } from './files.repository.js';
import type { TweetsRepository, WriteBatch } from './tweets.repository.js';

// The file processor's logic with its I/O replaced: a store whose stream is under the test's
// control and a repository that records the batches (the real ones are tested against real
// storage and PostgreSQL in test/medium and test/e2e). Real executors (dist/ for the pools).

const FILE: ClaimedFile = { id: '1', bucket: 'b', name: 'stalled.jsonl', generation: '1', size: 0, attempts: 1, backfillId: null, expiredLeaseOwner: null };

function tweetLines(count: number): Buffer {
  const lines = Array.from({ length: count }, (_, index) =>
    JSON.stringify({ created_at: 'Wed Aug 02 10:00:00 +0000 2017', id_str: String(index + 1), text: 'hi', user: { id_str: '2', screen_name: 'a' } }),
  );
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** A store whose one object sends `head`, then nothing more, until it is destroyed. */
function stalledStore(head: Buffer) {
  // `moreWanted`: the reader is taking the head and asks for more (Readable calls read() as the
  // buffered head drops below the high-water mark of 1 byte); it never comes.
  const state = { stream: null as Readable | null, moreWanted: false };
  const store = {
    openRead: async () => {
      state.stream = new Readable({
        highWaterMark: 1,
        read() {
          state.moreWanted = true;
        },
      });
      state.stream.push(head);
      return state.stream;
    },
  } as unknown as ObjectStore;
  return { store, state };
}

function recordingRepository() {
  const batches: WriteBatch[] = [];
  const repository = {
    writeBatch: async (batch: WriteBatch) => {
      batches.push(batch);
      return { inserted: 0 };
    },
  } as unknown as TweetsRepository;
  return { repository, batches };
}

describe('FileProcessor', () => {
  const executors: Executor[] = [];
  afterAll(async () => {
    await Promise.all(executors.map((executor) => executor.close()));
  });

  for (const kind of ['inline', 'threads', 'processes'] as const) {
    it(`gives up a file whose store stalls when the file is aborted, ending the stream (${kind})`, async () => {
      const config = parseEnvironment({ EXECUTOR: kind, EXECUTOR_SIZE: '1', CHUNK_BYTES: String(64 * 1024) });
      const executor = await createExecutor(kind, 1);
      executors.push(executor);
      // Less than one chunk: every executor has read it and now waits for the rest.
      const { store, state } = stalledStore(tweetLines(300));
      const { repository } = recordingRepository();
      const processor = new FileProcessor(config, executor, store, repository);
      const controller = new AbortController();
      const reason = new Error('lease lost');

      const processing = processor.process(FILE, controller.signal);
      // The head has been read: the file now waits on the store alone.
      await expect.poll(() => state.moreWanted).toBe(true);
      // One turn of the event loop: the head travels on through the executor's streams.
      await new Promise((resolve) => setImmediate(resolve));
      controller.abort(reason);
      await expect(processing).rejects.toBe(reason);
      expect(state.stream!.destroyed).toBe(true);
      expect(executor.stats()).toMatchObject({ busy: 0, queued: 0 });
    });
  }

  it('writes every row of a file that ends, in batches, with its counts', async () => {
    const config = parseEnvironment({ EXECUTOR: 'threads', EXECUTOR_SIZE: '1', CHUNK_BYTES: String(64 * 1024) });
    const executor = await createExecutor('threads', 1);
    executors.push(executor);
    const { repository, batches } = recordingRepository();
    const store = { openRead: async () => Readable.from([tweetLines(3000), tweetLines(10)]) } as unknown as ObjectStore;
    const outcome = await new FileProcessor(config, executor, store, repository).process(FILE, new AbortController().signal);
    expect(outcome).toMatchObject({ lines: 3010, tweets: 3010, rejected: 0, bytesDecoded: tweetLines(3000).length + tweetLines(10).length });
    const rows = batches.flatMap((batch) => Buffer.concat(batch.tweetsCopy).toString('utf8').split('\n').filter(Boolean));
    expect(rows).toHaveLength(3010);
  });
});
