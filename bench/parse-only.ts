// The service's heap setting (src/heap-tuning.ts), so that the ceiling runs the pipeline as the service does.
import '../src/heap-tuning.js';
import { fork } from 'node:child_process';
import { createReadStream, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CHUNK_BYTES, DEFAULT_MAX_LINE_BYTES } from '../src/config/pipeline-defaults.js';
import { createDecodedStream } from '../src/pipeline/decode.js';
import { processChunk } from '../src/pipeline/process-chunk.js';
import { RecordSplitter } from '../src/pipeline/split.js';

// The parse-only ceiling: decode (gunzip) + split + parse + clean + encode of every file, on
// every core, with no database. One process per core, each taking every Nth file, running the
// same pipeline functions as the service (src/), inline: nothing is written anywhere.
//   node --import tsx bench/parse-only.ts FOLDER [--workers N]      (prints one JSON line of counts)
// The benchmark runner compiles it first (esbuild, into bench/.build/parse-only.mjs) and runs that,
// so the ceiling, like the service, starts without loading TypeScript.

interface Counts {
  records: number;
  tweets: number;
  deletes: number;
  rejected: number;
  copyBytes: number;
}

async function parseFiles(files: string[]): Promise<Counts> {
  const counts: Counts = { records: 0, tweets: 0, deletes: 0, rejected: 0, copyBytes: 0 };
  for (const file of files) {
    const splitter = new RecordSplitter({ chunkBytes: DEFAULT_CHUNK_BYTES, maxRecordBytes: DEFAULT_MAX_LINE_BYTES });
    const consume = (tasks: ReturnType<RecordSplitter['push']>) => {
      counts.rejected += tasks.rejected.length;
      for (const task of tasks.tasks) {
        const result = processChunk(task);
        counts.records += result.counts.records;
        counts.tweets += result.counts.tweets;
        counts.deletes += result.counts.deletes;
        counts.rejected += result.counts.rejected;
        counts.copyBytes += result.tweetsCopy.byteLength;
      }
    };
    for await (const chunk of createDecodedStream(createReadStream(file)) as AsyncIterable<Buffer>) {
      consume(splitter.push(chunk));
    }
    consume(splitter.end());
  }
  return counts;
}

async function main(): Promise<void> {
  if (process.env.PARSE_ONLY_FILES !== undefined) {
    // A child: parse its share and report to the parent.
    const counts = await parseFiles(JSON.parse(process.env.PARSE_ONLY_FILES) as string[]);
    process.send!(counts);
    return;
  }
  const { values, positionals } = parseArgs({
    options: { workers: { type: 'string', default: String(availableParallelism()) } },
    allowPositionals: true,
  });
  const folder = positionals[0];
  const workers = Number(values.workers);
  if (folder === undefined || !Number.isInteger(workers) || workers < 1) {
    throw new Error('usage: parse-only FOLDER [--workers N]');
  }
  const files = readdirSync(folder)
    .filter((name) => /\.(jsonl?|json)(\.gz)?$/.test(name))
    .sort()
    .map((name) => path.join(folder, name));
  const shares = Array.from({ length: workers }, (_, worker) => files.filter((_, index) => index % workers === worker));
  const results = await Promise.all(
    shares.map(
      (share) =>
        new Promise<Counts>((resolve, reject) => {
          const child = fork(process.argv[1]!, [], { env: { ...process.env, PARSE_ONLY_FILES: JSON.stringify(share) } });
          let counts: Counts | undefined;
          child.on('message', (message) => (counts = message as Counts));
          child.on('error', reject);
          child.on('exit', (code) => (code === 0 && counts ? resolve(counts) : reject(new Error(`parse-only worker exited with ${code}`))));
        }),
    ),
  );
  const total = results.reduce((sum, counts) => ({
    records: sum.records + counts.records,
    tweets: sum.tweets + counts.tweets,
    deletes: sum.deletes + counts.deletes,
    rejected: sum.rejected + counts.rejected,
    copyBytes: sum.copyBytes + counts.copyBytes,
  }));
  process.stdout.write(`${JSON.stringify({ files: files.length, ...total })}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
