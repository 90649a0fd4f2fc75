import { afterAll, describe, expect, it } from 'vitest';
import type { ParsedPiece } from '../pipeline/parse-file.js';
import { WorkerFailedError, type Executor } from './executor.js';
import { createExecutor } from './executor.module.js';
import { workerHeapLimitMb } from './worker-heap-limit.js';

// Real workers run the compiled files in dist/ (npm test builds first).

const OPTIONS = { chunkBytes: 64 * 1024, maxRecordBytes: 16 * 1024 * 1024 };
const tweetLine = (id: number) =>
  JSON.stringify({ id_str: String(id), created_at: 'Wed Aug 02 10:00:00 +0000 2017', text: 'hi', user: { id_str: '2', screen_name: 'a' } });
// 9 MB of `{},` parses into 3 million objects: ~200 MB of heap, far above a 64 MB limit. Two
// chunks of good tweets come first, so the worker dies in the middle of the file.
const goodLines = (count: number) => Array.from({ length: count }, (_, index) => tweetLine(index + 1)).join('\n');
const heapBombFile = () => Buffer.from(`${goodLines(1500)}\n[${'{},'.repeat(3_000_000)}{}]\n`);

async function parse(executor: Executor, bytes: Buffer): Promise<ParsedPiece[]> {
  const pieces: ParsedPiece[] = [];
  async function* source() {
    yield bytes;
  }
  for await (const piece of executor.parseFile(source(), OPTIONS, new AbortController().signal)) pieces.push(piece);
  return pieces;
}

describe('workerHeapLimitMb', () => {
  it('grows with the largest task a worker can be sent', () => {
    expect(workerHeapLimitMb(1024 * 1024, 32 * 1024 * 1024)).toBe(260);
    expect(workerHeapLimitMb(256 * 1024, 32 * 1024 * 1024)).toBe(257);
    expect(workerHeapLimitMb(64 * 1024, 1024 * 1024)).toBe(133);
  });
});

describe('a worker that runs out of heap', () => {
  const executors: Executor[] = [];
  afterAll(async () => {
    await Promise.all(executors.map((executor) => executor.close()));
  });

  for (const kind of ['threads', 'processes'] as const) {
    it(`fails only its file and is replaced (${kind}); the process survives`, async () => {
      const executor = await createExecutor(kind, 1, { maxHeapMb: 64 });
      executors.push(executor);
      const failure = await parse(executor, heapBombFile()).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(WorkerFailedError);
      expect((failure as Error).message).toBe(
        kind === 'threads'
          ? 'worker failed: Worker terminated due to reaching memory limit: JS heap out of memory'
          : 'worker failed: worker process killed by SIGABRT: out of memory (heap limit 64 MB)?',
      );
      // The replacement worker takes the next file.
      const next = await parse(executor, Buffer.from(`${tweetLine(1)}\n`));
      expect(next.reduce((sum, piece) => sum + (piece.result?.counts.tweets ?? 0), 0)).toBe(1);
      expect(executor.stats()).toMatchObject({ failed: 1 });
    });
  }
});
