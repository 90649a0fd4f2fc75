import { parseArgs } from 'node:util';
import type { ChunkTask } from '../src/pipeline/pipeline.types.js';
import { processChunk } from '../src/pipeline/process-chunk.js';
import { corpusFiles, DEFAULT_CORPUS_FOLDER, tasksOfFile } from './corpus-tasks.js';

// The CPU time of the parse/clean/encode half alone (processChunk), for A/B comparisons of parser
// changes ("processChunk over 12 files" in BENCHMARKS.md). The files are decompressed and split
// into the service's tasks first; then every task is processed in rounds, and the fastest of the
// rounds after two warm-up rounds is printed. Compare two versions by alternating runs.
//   node --import tsx bench/parse-cost.ts [--files 12] [--rounds 6] [FOLDER]
// FOLDER defaults to the benchmark corpus (run `npm run bench` once to generate it).

const { values, positionals } = parseArgs({
  options: { files: { type: 'string', default: '12' }, rounds: { type: 'string', default: '6' } },
  allowPositionals: true,
});
const folder = positionals[0] ?? DEFAULT_CORPUS_FOLDER;
const rounds = Math.max(3, Number(values.rounds));

const files = corpusFiles(folder, Number(values.files));
const tasks: ChunkTask[] = files.flatMap((file) => tasksOfFile(file));

const times: number[] = [];
let tweets = 0;
for (let round = 0; round < rounds; round++) {
  const started = performance.now();
  tweets = 0;
  for (const task of tasks) tweets += processChunk(task).counts.tweets;
  times.push(performance.now() - started);
}
process.stdout.write(
  `${files.length} files, ${tasks.length} tasks, ${tweets} tweets: rounds ${times.map((ms) => ms.toFixed(0)).join(' ')} ms; ` +
    `fastest after warm-up ${Math.min(...times.slice(2)).toFixed(0)} ms\n`,
);
