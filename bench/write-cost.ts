import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { processChunk } from '../src/pipeline/process-chunk.js';
import { TweetsRepository, type WriteBatch } from '../src/ingest/tweets.repository.js';
import { connectTestDataSource, createTestDatabase } from '../test/support/database.js';
import { corpusFiles, DEFAULT_CORPUS_FOLDER, tasksOfFile } from './corpus-tasks.js';
import { median } from './measure.js';

// The database half alone, for A/B comparisons of the write path's SQL ("write-cost" in
// BENCHMARKS.md): what PostgreSQL spends on the service's own TweetsRepository.writeBatch.
//
// Every file is parsed once, before any timing, into the batch the service would write for it
// (its COPY text, deletions and dead letters; a 2,500-tweet file is one batch, under
// WRITE_BATCH_ROWS). Each round then writes every batch in file order, one at a time, on one
// connection, into a fresh migrated database, and prints:
//   - the CPU time of that connection's PostgreSQL backend, read from /proc/<pid>/schedstat
//     (nanoseconds on a CPU): the database's own cost, whatever else the machine is doing.
//     Only when PostgreSQL runs on this machine (its pid is visible here); otherwise "n/a";
//   - the wall time of the writes, as the service waits for them;
//   - the rows in `tweets` and `tweet_deletions` after the round (equal in every round).
//
//   npm run build && node --import tsx bench/write-cost.ts [--files 40] [--rounds 5] [FOLDER]
// FOLDER defaults to the benchmark corpus (run `npm run bench` once to generate it). The
// databases are the tests' (test/support/database.ts: clones of a template migrated from dist/,
// on TEST_DATABASE_URL's server, by default the local PostgreSQL).

const { values, positionals } = parseArgs({
  options: { files: { type: 'string', default: '40' }, rounds: { type: 'string', default: '5' } },
  allowPositionals: true,
});
const files = corpusFiles(positionals[0] ?? DEFAULT_CORPUS_FOLDER, Number(values.files));
const rounds = Math.max(1, Number(values.rounds));

/** A file's WriteBatch before its ledger row exists, with its tweet count. */
type FileBatch = Omit<WriteBatch, 'fileId'> & { tweets: number };

/** One file's batch, gathered as FileProcessor's BatchWriter gathers it. */
function batchOf(file: string): FileBatch {
  const batch: FileBatch = { tweetsCopy: [], deletions: [], rejected: [], tweets: 0 };
  for (const task of tasksOfFile(file)) {
    const result = processChunk(task);
    batch.tweetsCopy.push(result.tweetsCopy);
    batch.deletions.push(...result.deletions);
    batch.rejected.push(...result.rejected);
    batch.tweets += result.counts.tweets;
  }
  return batch;
}

/** Nanoseconds the process has spent on a CPU, or undefined when it is not on this machine. */
function cpuNanoseconds(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

interface RoundResult {
  backendCpuMs: number | undefined;
  wallMs: number;
  tweetRows: number;
  deletionRows: number;
}

async function writeRound(batches: FileBatch[]): Promise<RoundResult> {
  const database = await createTestDatabase();
  // One connection: every batch runs on the backend whose CPU time is read.
  const dataSource = await connectTestDataSource(database, 1);
  try {
    const fileIds: string[] = [];
    for (let index = 0; index < batches.length; index++) {
      const [row]: { id: string }[] = await dataSource.query(
        `INSERT INTO ingest_files (bucket, name, generation) VALUES ('write-cost', $1, '1') RETURNING id`,
        [`file-${index}`],
      );
      fileIds.push(row!.id);
    }
    const [{ pid }]: { pid: number }[] = await dataSource.query('SELECT pg_backend_pid() AS pid');
    const repository = new TweetsRepository(dataSource);
    const cpuBefore = cpuNanoseconds(pid);
    const started = performance.now();
    for (const [index, batch] of batches.entries()) {
      await repository.writeBatch({ fileId: fileIds[index]!, tweetsCopy: batch.tweetsCopy, deletions: batch.deletions, rejected: batch.rejected });
    }
    const wallMs = performance.now() - started;
    const cpuAfter = cpuNanoseconds(pid);
    const [counts]: { tweets: string; deletions: string }[] = await dataSource.query(
      'SELECT (SELECT count(*) FROM tweets) AS tweets, (SELECT count(*) FROM tweet_deletions) AS deletions',
    );
    return {
      backendCpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / 1e6,
      wallMs,
      tweetRows: Number(counts!.tweets),
      deletionRows: Number(counts!.deletions),
    };
  } finally {
    await dataSource.destroy();
    await database.drop();
  }
}

async function main(): Promise<void> {
  const batches = files.map(batchOf);
  const rows = batches.reduce((sum, batch) => sum + batch.tweets, 0);
  const deletions = batches.reduce((sum, batch) => sum + batch.deletions.length, 0);
  const copyMb = batches.reduce((sum, batch) => sum + batch.tweetsCopy.reduce((bytes, chunk) => bytes + chunk.byteLength, 0), 0) / 1e6;
  process.stdout.write(`${files.length} files: ${batches.length} batches, ${rows} tweet rows (${copyMb.toFixed(1)} MB of COPY text), ${deletions} deletions\n`);
  const results: RoundResult[] = [];
  for (let round = 1; round <= rounds; round++) {
    const result = await writeRound(batches);
    results.push(result);
    const cpu = result.backendCpuMs === undefined ? 'n/a' : `${result.backendCpuMs.toFixed(0)} ms`;
    process.stdout.write(
      `round ${round}/${rounds}: backend CPU ${cpu}, wall ${result.wallMs.toFixed(0)} ms; ${result.tweetRows} rows in tweets, ${result.deletionRows} in tweet_deletions\n`,
    );
  }
  const cpus = results.flatMap((result) => (result.backendCpuMs === undefined ? [] : [result.backendCpuMs]));
  const cpu = cpus.length === results.length ? `${median(cpus).toFixed(0)} ms (${(median(cpus) * 1000 / rows).toFixed(2)} µs per tweet row)` : 'n/a (PostgreSQL is not on this machine)';
  process.stdout.write(`median: backend CPU ${cpu}, wall ${median(results.map((result) => result.wallMs)).toFixed(0)} ms\n`);
  const differing = results.some((result) => result.tweetRows !== results[0]!.tweetRows || result.deletionRows !== results[0]!.deletionRows);
  if (differing) throw new Error('the rounds wrote different rows: the write path is not deterministic');
}

await main();
