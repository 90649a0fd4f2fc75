import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DEFAULT_CHUNK_BYTES, DEFAULT_MAX_LINE_BYTES } from '../src/config/pipeline-defaults.js';
import { GUNZIP_CHUNK_BYTES } from '../src/pipeline/decode.js';
import type { ChunkTask } from '../src/pipeline/pipeline.types.js';
import { RecordSplitter } from '../src/pipeline/split.js';

// What the A/B scripts (parse-cost.ts, write-cost.ts) feed the service's code: a corpus file
// decompressed and split into the service's chunk tasks, as FileProcessor's pipeline would.

/** The benchmark corpus (`npm run bench` generates it once). */
export const DEFAULT_CORPUS_FOLDER = path.join(import.meta.dirname, '.corpus', 'v1-files40-tweets2500-seed1', 'files');

/** The first `count` gzipped files of a folder, sorted by name. */
export function corpusFiles(folder: string, count: number): string[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith('.gz'))
    .sort()
    .slice(0, count)
    .map((name) => path.join(folder, name));
}

/** One file's chunk tasks (own copies of the bytes: the splitter may reuse its buffers). */
export function tasksOfFile(file: string): ChunkTask[] {
  const tasks: ChunkTask[] = [];
  const keep = (output: { tasks: ChunkTask[] }) => {
    for (const task of output.tasks) tasks.push({ ...task, bytes: Uint8Array.from(task.bytes) });
  };
  const data = gunzipSync(readFileSync(file));
  const splitter = new RecordSplitter({ chunkBytes: DEFAULT_CHUNK_BYTES, maxRecordBytes: DEFAULT_MAX_LINE_BYTES });
  // Fed as gunzip feeds the service's splitter: GUNZIP_CHUNK_BYTES at a time.
  for (let offset = 0; offset < data.length; offset += GUNZIP_CHUNK_BYTES) {
    keep(splitter.push(data.subarray(offset, offset + GUNZIP_CHUNK_BYTES)));
  }
  keep(splitter.end());
  return tasks;
}
