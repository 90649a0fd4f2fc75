import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecodedStream } from '../../src/pipeline/decode.js';
import { decodeTweetsCopy } from '../../src/pipeline/encode.js';
import type { TweetRow } from '../../src/pipeline/pipeline.types.js';
import { processChunk } from '../../src/pipeline/process-chunk.js';
import { splitRecordStream } from '../../src/pipeline/split.js';
import {
  type CorpusFileManifest,
  type CorpusManifest,
  digestTweetIds,
  generateCorpus,
  SeededRandom,
  sortTweetIds,
} from './corpus-generator.js';

const GZIP_MEMBER_HEADER = Buffer.from([0x1f, 0x8b, 0x08]);

interface IngestedFile {
  counts: Pick<CorpusFileManifest, 'records' | 'tweetRecords' | 'tweets' | 'deletes' | 'notices' | 'rejected'>;
  rejectedLineNumbers: number[];
  lines: number;
  rows: TweetRow[];
  deletedIds: string[];
}

/** Runs the pipeline over one file as the service does, with small tasks to cut often. */
async function ingest(filePath: string): Promise<IngestedFile> {
  const file: IngestedFile = {
    counts: { records: 0, tweetRecords: 0, tweets: 0, deletes: 0, notices: 0, rejected: 0 },
    rejectedLineNumbers: [],
    lines: 0,
    rows: [],
    deletedIds: [],
  };
  let lastByte = 0x0a;
  const decoded = createDecodedStream(createReadStream(filePath));
  async function* countingLines(): AsyncGenerator<Buffer> {
    for await (const chunk of decoded as AsyncIterable<Buffer>) {
      for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) {
        file.lines++;
      }
      lastByte = chunk[chunk.length - 1];
      yield chunk;
    }
  }
  for await (const output of splitRecordStream(countingLines(), { chunkBytes: 32 * 1024, maxRecordBytes: 1 << 20 })) {
    file.counts.rejected += output.rejected.length;
    file.rejectedLineNumbers.push(...output.rejected.map((record) => record.lineNo));
    for (const task of output.tasks) {
      const result = processChunk(task);
      file.counts.records += result.counts.records;
      file.counts.tweetRecords += result.counts.tweetRecords;
      file.counts.tweets += result.counts.tweets;
      file.counts.deletes += result.counts.deletes;
      file.counts.notices += result.counts.notices;
      file.counts.rejected += result.counts.rejected;
      file.rejectedLineNumbers.push(...result.rejected.map((record) => record.lineNo));
      file.rows.push(...decodeTweetsCopy(result.tweetsCopy));
      file.deletedIds.push(...result.deletions.map((deletion) => deletion.id));
    }
  }
  if (lastByte !== 0x0a) {
    file.lines++;
  }
  return file;
}

async function digestDirectory(directory: string): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const name of (await readdir(directory)).sort()) {
    digests[name] = createHash('sha256').update(await readFile(path.join(directory, name))).digest('hex');
  }
  return digests;
}

async function decompressed(directory: string, file: CorpusFileManifest): Promise<Buffer> {
  const bytes = await readFile(path.join(directory, file.name));
  return file.compression === 'none' ? bytes : gunzipSync(bytes);
}

function fileWithQuirk(manifest: CorpusManifest, quirk: CorpusFileManifest['quirks'][number]): CorpusFileManifest {
  const file = manifest.files.find((candidate) => candidate.quirks.includes(quirk));
  if (file === undefined) {
    throw new Error(`no file has ${quirk}`);
  }
  return file;
}

let workDirectory: string;

beforeAll(async () => {
  workDirectory = await mkdtemp(path.join(tmpdir(), 'corpus-generator-'));
});

afterAll(async () => {
  await rm(workDirectory, { recursive: true, force: true });
});

describe('generateCorpus with quirks', () => {
  let directory: string;
  let manifest: CorpusManifest;
  const ingested = new Map<string, IngestedFile>();

  beforeAll(async () => {
    directory = path.join(workDirectory, 'quirks');
    manifest = await generateCorpus({
      outDir: directory,
      files: 7,
      tweetsPerFile: 150,
      seed: 42,
      quirks: true,
      includeRows: true,
    });
    for (const file of manifest.files) {
      ingested.set(file.name, await ingest(path.join(directory, file.name)));
    }
  });

  it('writes the files the manifest lists, each quirk in a file of its own', async () => {
    expect((await readdir(directory)).sort()).toEqual(manifest.files.map((file) => file.name).sort());
    expect(manifest.files.map((file) => file.name)).toEqual([
      'part-00001.jsonl.gz',
      'part-00002.jsonl',
      'part-00003.jsonl.gz',
      'part-00004.json.gz',
      'part-00005.jsonl.gz',
      'part-00006.jsonl.gz',
      'part-00007.jsonl.gz',
    ]);
    for (const quirk of ['crlf-line-ends', 'plain-file', 'multi-member-gzip', 'json-array-file', 'invalid-utf8', 'nul-in-text', 'non-tweet-object'] as const) {
      expect(manifest.files.filter((file) => file.quirks.includes(quirk)), quirk).toHaveLength(1);
    }
  });

  it('matches, file by file, what the pipeline finds in it', () => {
    for (const file of manifest.files) {
      const found = ingested.get(file.name);
      expect(found?.counts, file.name).toEqual({
        records: file.records,
        tweetRecords: file.tweetRecords,
        tweets: file.tweets,
        deletes: file.deletes,
        notices: file.notices,
        rejected: file.rejected,
      });
      expect(found?.rejectedLineNumbers, file.name).toEqual(file.rejectedLineNumbers);
      expect(found?.lines, file.name).toBe(file.lines);
    }
  });

  it('predicts exactly the tweets and deletions the tables must hold', () => {
    const rows = new Map<string, TweetRow>();
    const deleted = new Set<string>();
    for (const file of ingested.values()) {
      for (const row of file.rows) {
        rows.set(row.id, row);
      }
      for (const id of file.deletedIds) {
        deleted.add(id);
      }
    }
    for (const id of deleted) {
      rows.delete(id);
    }
    const ids = sortTweetIds(rows.keys());
    expect(ids).toEqual(manifest.expected.tweetIds);
    expect(manifest.expected.distinctTweetIds).toBe(ids.length);
    expect(digestTweetIds(ids)).toBe(manifest.expected.tweetIdsSha256);
    expect(sortTweetIds(deleted)).toEqual(manifest.expected.deletedIds);
    // Every row, every column.
    expect(ids.map((id) => rows.get(id))).toEqual(manifest.expected.rows);
    for (const sample of manifest.expected.sampleRows) {
      expect(rows.get(sample.id)).toEqual(sample);
    }
  });

  it('adds up its totals', () => {
    const sum = (pick: (file: CorpusFileManifest) => number) =>
      manifest.files.reduce((total, file) => total + pick(file), 0);
    expect(manifest.expected.totalRecords).toBe(sum((file) => file.records));
    expect(manifest.expected.totalTweetRows).toBe(sum((file) => file.tweets));
    expect(manifest.expected.totalRejected).toBe(2); // the truncated line and the stray object
    expect(manifest.expected.totalRecords).toBe(
      manifest.expected.totalTweetRecords +
        manifest.expected.totalDeletes +
        manifest.expected.totalNotices +
        manifest.expected.totalRejected,
    );
  });

  it('holds the quirks it claims, checked on the raw bytes', async () => {
    const crlf = await decompressed(directory, fileWithQuirk(manifest, 'crlf-line-ends'));
    expect(crlf.includes('\r\n')).toBe(true);
    expect(crlf.toString('latin1').split('\n').some((line) => line.trim() === '')).toBe(true);

    const plain = await readFile(path.join(directory, fileWithQuirk(manifest, 'plain-file').name));
    expect([plain[0], plain[1]]).not.toEqual([0x1f, 0x8b]);
    expect(plain.some((byte) => byte >= 0x80)).toBe(true); // raw UTF-8, not \u escapes

    const multi = await readFile(path.join(directory, fileWithQuirk(manifest, 'multi-member-gzip').name));
    let members = 0;
    for (let at = multi.indexOf(GZIP_MEMBER_HEADER); at !== -1; at = multi.indexOf(GZIP_MEMBER_HEADER, at + 1)) {
      members++;
    }
    expect(members).toBeGreaterThanOrEqual(3);

    const array = await decompressed(directory, fileWithQuirk(manifest, 'json-array-file'));
    expect(array.toString('utf8', 0, 1)).toBe('[');
    expect(array.includes('\n  "id_str": ')).toBe(true); // some elements are pretty-printed

    const invalid = await decompressed(directory, fileWithQuirk(manifest, 'invalid-utf8'));
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(invalid)).toThrow();

    const nul = await decompressed(directory, fileWithQuirk(manifest, 'nul-in-text'));
    expect(nul.includes('\\u0000')).toBe(true);

    const truncated = await decompressed(directory, fileWithQuirk(manifest, 'truncated-last-line'));
    expect(truncated[truncated.length - 1]).not.toBe(0x0a);
  });

  it('repeats lines of each file in the next one', async () => {
    // Lines of the JSON array file carry the separating comma.
    const linesOf = async (file: CorpusFileManifest) =>
      (await decompressed(directory, file)).toString('utf8').split(/\r?\n/).map((line) => line.replace(/,$/, ''));
    for (let index = 1; index < manifest.files.length; index++) {
      const previous = new Set(await linesOf(manifest.files[index - 1]));
      const current = await linesOf(manifest.files[index]);
      const repeated = current.filter((line) => line.startsWith('{"created_at"') && previous.has(line));
      expect(repeated.length, manifest.files[index].name).toBeGreaterThan(0);
    }
  });

  it('deletes tweets of other files, including some before they arrive, and some never seen', () => {
    const firstSeen = new Map<string, number>(); // tweet id → file index
    manifest.files.forEach((file, index) => {
      for (const row of ingested.get(file.name)?.rows ?? []) {
        if (!firstSeen.has(row.id)) {
          firstSeen.set(row.id, index);
        }
      }
    });
    let beforeTheirTweet = 0;
    let ofAnotherFile = 0;
    let neverSeen = 0;
    manifest.files.forEach((file, index) => {
      for (const id of ingested.get(file.name)?.deletedIds ?? []) {
        const seenIn = firstSeen.get(id);
        if (seenIn === undefined) {
          neverSeen++;
        } else {
          ofAnotherFile += seenIn !== index ? 1 : 0;
          beforeTheirTweet += seenIn > index ? 1 : 0;
        }
      }
    });
    expect(beforeTheirTweet).toBeGreaterThan(0);
    expect(ofAnotherFile).toBeGreaterThan(0);
    expect(neverSeen).toBeGreaterThan(0);
    expect(manifest.expected.deletedIdsOfCorpusTweets).toBeGreaterThan(0);
  });

  it('writes the quirky rows as the cleaner must store them', () => {
    const rows = manifest.expected.rows ?? [];
    expect(rows.some((row) => row.text.includes('\uFFFD\uFFFD\uFFFD\uFFFD'))).toBe(true);
    expect(rows.some((row) => row.text.includes('nulhere'))).toBe(true);
    expect(rows.some((row) => row.text.includes('\u0000'))).toBe(false);
  });
});

describe('generateCorpus without quirks', () => {
  let directory: string;
  let manifest: CorpusManifest;

  beforeAll(async () => {
    directory = path.join(workDirectory, 'plain');
    manifest = await generateCorpus({ outDir: directory, files: 3, tweetsPerFile: 300, seed: 7 });
  });

  it('writes gzipped JSON lines only, with nothing to reject', async () => {
    for (const file of manifest.files) {
      expect(file.name).toMatch(/^part-0000\d\.jsonl\.gz$/);
      const bytes = await readFile(path.join(directory, file.name));
      expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
      expect(file.rejected).toBe(0);
      expect(file.records).toBe(file.lines);
    }
  });

  it('writes lines of realistic size: 3-5 KB on average', () => {
    expect(manifest.expected.averageTweetLineBytes).toBeGreaterThan(3000);
    expect(manifest.expected.averageTweetLineBytes).toBeLessThan(5000);
  });

  it('writes every kind of tweet, as the streaming API did', async () => {
    const lines = (await decompressed(directory, manifest.files[0])).toString('utf8').trimEnd().split('\n');
    const tweets = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((tweet) => 'id_str' in tweet);
    expect(tweets.some((tweet) => 'retweeted_status' in tweet)).toBe(true);
    expect(tweets.some((tweet) => 'quoted_status' in tweet)).toBe(true);
    expect(tweets.some((tweet) => tweet.in_reply_to_status_id_str !== null)).toBe(true);
    expect(tweets.some((tweet) => tweet.truncated === true && 'extended_tweet' in tweet)).toBe(true);
    expect(tweets.every((tweet) => typeof tweet.user === 'object' && 'entities' in tweet)).toBe(true);
    expect(lines.some((line) => line.startsWith('{"delete":'))).toBe(true);
    // Non-ASCII escaped as \uXXXX and slashes as \/, as Twitter wrote them.
    expect(lines.every((line) => /^[\x20-\x7e]*$/.test(line))).toBe(true);
    expect(lines[0]).toContain('https:\\/\\/');
  });

  it('writes ids beyond 2^53 as bare numbers that JSON.parse rounds, and id_str exact', async () => {
    const lines = (await decompressed(directory, manifest.files[0])).toString('utf8').trimEnd().split('\n');
    let rounded = 0;
    for (const line of lines.filter((candidate) => candidate.startsWith('{"created_at"'))) {
      const match = /^\{"created_at":"[^"]+","id":(\d+),"id_str":"(\d+)"/.exec(line);
      expect(match?.[1]).toBe(match?.[2]);
      const parsed = JSON.parse(line) as { id: number; id_str: string };
      if (String(parsed.id) !== parsed.id_str) {
        rounded++;
      }
    }
    expect(rounded).toBeGreaterThan(100);
  });
});

describe('generateCorpus determinism', () => {
  it('writes the same bytes and manifest for the same seed, other bytes for another', async () => {
    const options = { files: 3, tweetsPerFile: 40, quirks: true };
    const first = await generateCorpus({ ...options, outDir: path.join(workDirectory, 'a'), seed: 5 });
    const again = await generateCorpus({ ...options, outDir: path.join(workDirectory, 'b'), seed: 5 });
    const other = await generateCorpus({ ...options, outDir: path.join(workDirectory, 'c'), seed: 6 });
    const firstDigests = await digestDirectory(path.join(workDirectory, 'a'));
    expect(await digestDirectory(path.join(workDirectory, 'b'))).toEqual(firstDigests);
    expect(again).toEqual(first);
    const otherDigests = await digestDirectory(path.join(workDirectory, 'c'));
    for (const name of Object.keys(firstDigests)) {
      expect(otherDigests[name]).not.toBe(firstDigests[name]);
    }
    expect(other.expected.tweetIdsSha256).not.toBe(first.expected.tweetIdsSha256);
  });

  it('refuses impossible options', async () => {
    const outDir = path.join(workDirectory, 'x');
    await expect(generateCorpus({ outDir, files: 0, tweetsPerFile: 5 })).rejects.toThrow(RangeError);
    await expect(generateCorpus({ outDir, files: 1, tweetsPerFile: 0 })).rejects.toThrow(RangeError);
    await expect(generateCorpus({ outDir, files: 1, tweetsPerFile: 4, quirks: true })).rejects.toThrow(RangeError);
  });

  it('piles every quirk into the one file there is, and still predicts it exactly', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const outDir = path.join(workDirectory, `single-${seed}`);
      const manifest = await generateCorpus({ outDir, files: 1, tweetsPerFile: 5, seed, quirks: true });
      const [file] = manifest.files;
      expect(file.name).toBe('part-00001.json');
      const found = await ingest(path.join(outDir, file.name));
      expect(found.counts).toEqual({
        records: file.records,
        tweetRecords: file.tweetRecords,
        tweets: file.tweets,
        deletes: file.deletes,
        notices: file.notices,
        rejected: file.rejected,
      });
      expect(found.rejectedLineNumbers).toEqual(file.rejectedLineNumbers);
      expect(file.rejected).toBe(2);
      const ids = new Set(found.rows.map((row) => row.id));
      for (const id of found.deletedIds) {
        ids.delete(id);
      }
      expect(sortTweetIds(ids)).toEqual(manifest.expected.tweetIds);
    }
  });
});

describe('SeededRandom', () => {
  it('repeats its sequence for a seed and stays within bounds', () => {
    const first = new SeededRandom(99);
    const second = new SeededRandom(99);
    const values = Array.from({ length: 1000 }, () => first.next());
    expect(Array.from({ length: 1000 }, () => second.next())).toEqual(values);
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    expect(new Set(values).size).toBeGreaterThan(990);
    const dice = new SeededRandom(1);
    const rolls = Array.from({ length: 600 }, () => dice.integer(1, 6));
    expect(new Set(rolls)).toEqual(new Set([1, 2, 3, 4, 5, 6]));
  });
});
