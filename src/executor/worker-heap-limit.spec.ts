import { afterAll, describe, expect, it } from 'vitest';
import type { ChunkTask } from '../pipeline/pipeline.types.js';
import { WorkerFailedError, type Executor } from './executor.js';
import { createExecutor } from './executor.module.js';
import { workerHeapLimitMb } from './worker-heap-limit.js';

// Real workers run the compiled files in dist/ (npm test builds first).

const taskOf = (text: string): ChunkTask => ({
  bytes: new TextEncoder().encode(text),
  boundaries: Uint32Array.of(0, text.length),
  lineNumbers: Uint32Array.of(1),
});

// 9 MB of `{},` parses into 3 million objects: ~200 MB of heap, far above a 64 MB limit.
const heapBomb = () => taskOf(`[${'{},'.repeat(3_000_000)}{}]`);
const tweet = () =>
  taskOf(JSON.stringify({ id_str: '1', created_at: 'Wed Aug 02 10:00:00 +0000 2017', text: 'hi', user: { id_str: '2', screen_name: 'a' } }));

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
    it(`fails only its task and is replaced (${kind}); the process survives`, async () => {
      const executor = await createExecutor(kind, 1, { maxHeapMb: 64 });
      executors.push(executor);
      const failure = await executor.run(heapBomb()).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(WorkerFailedError);
      expect((failure as Error).message).toBe(
        kind === 'threads'
          ? 'worker failed: Worker terminated due to reaching memory limit: JS heap out of memory'
          : 'worker failed: worker process killed by SIGABRT: out of memory (heap limit 64 MB)?',
      );
      // The replacement worker takes the next task.
      const next = await executor.run(tweet());
      expect(next.counts).toMatchObject({ records: 1, tweets: 1 });
      expect(executor.stats()).toMatchObject({ failed: 1, completed: 1 });
    });
  }
});
