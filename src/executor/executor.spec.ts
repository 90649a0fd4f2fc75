import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordSplitter } from '../pipeline/split.js';
import type { ChunkResult, ChunkTask } from '../pipeline/pipeline.types.js';
import { PROJECT_ROOT } from '../project-paths.js';
import { WorkerFailedError, type Executor } from './executor.js';
import { createExecutor } from './executor.module.js';
import { ProcessPoolExecutor } from './process-pool.executor.js';
import { ThreadPoolExecutor } from './thread-pool.executor.js';

// Real workers run the compiled files in dist/ (npm test builds first).
const sample = gunzipSync(readFileSync(path.resolve(PROJECT_ROOT, '../shared/data/real-tweets/streaming-sample-2018.jsonl.gz')));

function tasksOfSample(): ChunkTask[] {
  const splitter = new RecordSplitter({ chunkBytes: 64 * 1024, maxRecordBytes: 1024 * 1024 });
  return [...splitter.push(sample).tasks, ...splitter.end().tasks];
}

const comparable = (results: ChunkResult[]) =>
  results.map(({ tweetsCopy, deletions, rejected, counts }) => ({ copy: Buffer.from(tweetsCopy).toString('utf8'), deletions, rejected, counts }));

const taskOf = (text: string): ChunkTask => ({
  bytes: new TextEncoder().encode(text),
  boundaries: Uint32Array.of(0, text.length),
  lineNumbers: Uint32Array.of(1),
});

describe('executors', () => {
  const executors: Executor[] = [];
  afterAll(async () => {
    await Promise.all(executors.map((executor) => executor.close()));
  });

  it('threads, processes and inline produce identical results', async () => {
    const results: Record<string, ReturnType<typeof comparable>> = {};
    for (const kind of ['inline', 'threads', 'processes'] as const) {
      const executor = await createExecutor(kind, 2);
      executors.push(executor);
      results[kind] = comparable(await Promise.all(tasksOfSample().map((task) => executor.run(task))));
      expect(executor.stats()).toMatchObject({ kind, busy: 0, queued: 0, failed: 0 });
    }
    expect(results.inline!.length).toBeGreaterThan(1);
    expect(results.inline!.reduce((sum, result) => sum + result.counts.records, 0)).toBe(72);
    expect(results.threads).toEqual(results.inline);
    expect(results.processes).toEqual(results.inline);
  });

  it('a thread that dies or throws fails only its task; the pool replaces it', async () => {
    const executor = new ThreadPoolExecutor(1, path.join(PROJECT_ROOT, 'test/fixtures/crashing-thread.worker.mjs'));
    executors.push(executor);
    await expect(executor.run(taskOf('!'))).rejects.toBeInstanceOf(WorkerFailedError);
    await expect(executor.run(taskOf('?'))).rejects.toThrowError(/worker failed: cannot parse this/);
    await expect(executor.run(taskOf('ok'))).resolves.toMatchObject({ counts: { records: 1 } });
    expect(executor.stats()).toMatchObject({ completed: 1, failed: 2 });
  });

  it('a child process that dies fails only its task; the pool replaces it', async () => {
    const executor = new ProcessPoolExecutor(1, path.join(PROJECT_ROOT, 'test/fixtures/crashing-process.worker.cjs'));
    executors.push(executor);
    await expect(executor.run(taskOf('!'))).rejects.toBeInstanceOf(WorkerFailedError);
    await expect(executor.run(taskOf('ok'))).resolves.toMatchObject({ counts: { records: 1 } });
  });
});
