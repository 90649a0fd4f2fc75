import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { ChunkTask } from '../src/pipeline/pipeline.types.js';
import { processChunk } from '../src/pipeline/process-chunk.js';
import { RecordSplitter } from '../src/pipeline/split.js';

// The CPU time of the parse/clean/encode half alone (processChunk), for A/B comparisons of parser
// changes ("processChunk over 12 files" in BENCHMARKS.md). The files are decompressed and split
// into the service's tasks first; then every task is processed in rounds, and the fastest of the
// rounds after two warm-up rounds is printed. Compare two versions by alternating runs.
//   node --import tsx bench/parse-cost.ts [--files 12] [--rounds 6] [FOLDER]
// FOLDER defaults to the benchmark corpus (run `npm run bench` once to generate it).

const CHUNK_BYTES = 256 * 1024; // the service's CHUNK_BYTES default
const MAX_RECORD_BYTES = 32 * 1024 * 1024; // the service's MAX_LINE_BYTES default
const FEED_BYTES = 1024 * 1024; // what gunzip hands the splitter at a time (src/pipeline/decode.ts)

const { values, positionals } = parseArgs({
  options: { files: { type: 'string', default: '12' }, rounds: { type: 'string', default: '6' } },
  allowPositionals: true,
});
const folder = positionals[0] ?? path.join(import.meta.dirname, '.corpus', 'v1-files40-tweets2500-seed1', 'files');
const rounds = Math.max(3, Number(values.rounds));

const tasks: ChunkTask[] = [];
const keep = (output: { tasks: ChunkTask[] }) => {
  // Own copies: the splitter may reuse its buffers.
  for (const task of output.tasks) tasks.push({ ...task, bytes: Uint8Array.from(task.bytes) });
};
const names = readdirSync(folder)
  .filter((name) => name.endsWith('.gz'))
  .sort()
  .slice(0, Number(values.files));
for (const name of names) {
  const data = gunzipSync(readFileSync(path.join(folder, name)));
  const splitter = new RecordSplitter({ chunkBytes: CHUNK_BYTES, maxRecordBytes: MAX_RECORD_BYTES });
  for (let offset = 0; offset < data.length; offset += FEED_BYTES) keep(splitter.push(data.subarray(offset, offset + FEED_BYTES)));
  keep(splitter.end());
}

const times: number[] = [];
let tweets = 0;
for (let round = 0; round < rounds; round++) {
  const started = performance.now();
  tweets = 0;
  for (const task of tasks) tweets += processChunk(task).counts.tweets;
  times.push(performance.now() - started);
}
process.stdout.write(
  `${names.length} files, ${tasks.length} tasks, ${tweets} tweets: rounds ${times.map((ms) => ms.toFixed(0)).join(' ')} ms; ` +
    `fastest after warm-up ${Math.min(...times.slice(2)).toFixed(0)} ms\n`,
);
