import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { generateCorpus } from '../test/support/corpus-generator.js';

// Writes a synthetic corpus of Twitter v1.1 streaming archives and prints what ingesting it
// must yield.
//   npx tsx bench/generate-corpus.ts --out DIR --files N --tweets-per-file M
//       [--quirks] [--seed S] [--no-gzip] [--average-tweet-bytes B] [--manifest FILE]

const USAGE =
  'usage: generate-corpus --out DIR --files N --tweets-per-file M [--quirks] [--seed S] ' +
  '[--no-gzip] [--average-tweet-bytes B] [--manifest FILE]';

function positiveInteger(name: string, value: string | undefined, fallback?: number): number {
  if (value === undefined && fallback !== undefined) {
    return fallback;
  }
  const parsed = Number(value);
  if (value === undefined || !Number.isInteger(parsed) || parsed < 1) {
    throw new Error(`--${name} must be a positive integer${value === undefined ? '' : `, got ${value}`}`);
  }
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      files: { type: 'string' },
      'tweets-per-file': { type: 'string' },
      quirks: { type: 'boolean', default: false },
      seed: { type: 'string' },
      'no-gzip': { type: 'boolean', default: false },
      'average-tweet-bytes': { type: 'string' },
      manifest: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.out === undefined) {
    throw new Error('--out is required');
  }
  const started = performance.now();
  const manifest = await generateCorpus({
    outDir: values.out,
    files: positiveInteger('files', values.files),
    tweetsPerFile: positiveInteger('tweets-per-file', values['tweets-per-file']),
    seed: positiveInteger('seed', values.seed, 1),
    quirks: values.quirks,
    gzip: !values['no-gzip'],
    averageTweetBytes: positiveInteger('average-tweet-bytes', values['average-tweet-bytes'], 4000),
  });
  const seconds = (performance.now() - started) / 1000;
  if (values.manifest !== undefined) {
    await writeFile(values.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  }

  const megabytes = (bytes: number) => (bytes / 1e6).toFixed(1);
  console.table(
    manifest.files.map((file) => ({
      file: file.name,
      'MB on disk': megabytes(file.bytesOnDisk),
      'MB decompressed': megabytes(file.bytesDecompressed),
      records: file.records,
      'tweet rows': file.tweets,
      deletes: file.deletes,
      notices: file.notices,
      rejected: file.rejected,
      quirks: file.quirks.join(' '),
    })),
  );
  const { expected } = manifest;
  const decompressedBytes = manifest.files.reduce((total, file) => total + file.bytesDecompressed, 0);
  const diskBytes = manifest.files.reduce((total, file) => total + file.bytesOnDisk, 0);
  console.log(
    [
      `corpus:            ${manifest.files.length} files in ${values.out}, seed ${manifest.seed}`,
      `size:              ${megabytes(diskBytes)} MB on disk, ${megabytes(decompressedBytes)} MB decompressed, ` +
        `${expected.averageTweetLineBytes} bytes per tweet line`,
      `records:           ${expected.totalRecords} (${expected.totalTweetRecords} tweets, ${expected.totalDeletes} deletes, ` +
        `${expected.totalNotices} notices, ${expected.totalRejected} rejected) on ${expected.totalLines} lines`,
      `tweet rows:        ${expected.totalTweetRows} produced, embedded originals and duplicates included`,
      `expected tweets:   ${expected.distinctTweetIds} rows (sha256 of sorted ids ${expected.tweetIdsSha256})`,
      `expected deletes:  ${expected.deletedIds.length} rows in tweet_deletions ` +
        `(${expected.deletedIdsOfCorpusTweets} of them tweets of this corpus)`,
      `generated in:      ${seconds.toFixed(1)} s (${megabytes(decompressedBytes / seconds)} MB/s decompressed)`,
      values.manifest === undefined ? '' : `manifest:          ${values.manifest}`,
    ]
      .filter((line) => line !== '')
      .join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  console.error(USAGE);
  process.exitCode = 2;
});
