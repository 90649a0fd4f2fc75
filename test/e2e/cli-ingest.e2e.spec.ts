import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus, type CorpusManifest } from '../support/corpus-generator.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { runCli, type CliResult } from '../support/service.js';

const CORRUPT_FILE = 'zz-corrupt.jsonl.gz';

async function query<Row>(url: string, sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Row[];
  } finally {
    await client.end();
  }
}

// Everything but ingested_at, in id order: the tables two runs must agree on byte for byte.
const TWEETS_DUMP = `SELECT id::text, created_at, user_id::text, user_screen_name, text, lang, retweeted_id::text,
  quoted_id::text, in_reply_to_id::text, hashtags, mentions, urls, source_file_id::text FROM tweets ORDER BY id`;

const digest = (rows: unknown[]) => createHash('sha256').update(JSON.stringify(rows)).digest('hex');

describe('tweet-ingest ingest <folder> (built CLI, real PostgreSQL)', () => {
  let folder: string;
  let manifest: CorpusManifest;
  const databases: TestDatabase[] = [];
  const runs: Record<string, { database: TestDatabase; result: CliResult }> = {};

  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'cli-e2e-'));
    manifest = await generateCorpus({ outDir: folder, files: 8, tweetsPerFile: 120, seed: 20180310, quirks: true });
    // gzip magic bytes, then garbage: must fail alone, naming itself.
    await writeFile(path.join(folder, CORRUPT_FILE), Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(64, 0x5a)]));
    for (const executor of ['inline', 'threads', 'processes']) {
      const database = await createTestDatabase();
      databases.push(database);
      const result = await runCli(['ingest', folder], { DATABASE_URL: database.url, EXECUTOR: executor, EXECUTOR_SIZE: '2', LOG_LEVEL: 'warn' });
      runs[executor] = { database, result };
    }
  }, 240_000);
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
    await rm(folder, { recursive: true, force: true });
  });

  it('exits 1 because one file failed, and the summary names it with its cause', () => {
    const { result } = runs.inline!;
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/summary: 8 done, 1 failed/);
    expect(result.stdout).toContain(`corrupt file ${CORRUPT_FILE}: corrupt gzip`);
  });

  it('fails only the corrupt file, with a message naming it', async () => {
    const files = await query<{ name: string; status: string; error: string | null }>(
      runs.inline!.database.url,
      'SELECT name, status, error FROM ingest_files ORDER BY name',
    );
    expect(files.filter((file) => file.status === 'failed')).toEqual([
      { name: CORRUPT_FILE, status: 'failed', error: expect.stringMatching(new RegExp(`^corrupt file ${CORRUPT_FILE}: corrupt gzip`)) },
    ]);
    expect(files.filter((file) => file.status === 'done')).toHaveLength(manifest.files.length);
  });

  it('lands exactly the expected tweets, deletions and dead letters', async () => {
    const url = runs.inline!.database.url;
    const ids = (await query<{ id: string }>(url, 'SELECT id::text FROM tweets ORDER BY id')).map((row) => row.id);
    expect(ids.length).toBe(manifest.expected.distinctTweetIds);
    expect(ids).toEqual(manifest.expected.tweetIds);
    const deleted = (await query<{ id: string }>(url, 'SELECT id::text FROM tweet_deletions ORDER BY id')).map((row) => row.id);
    expect(deleted).toEqual(manifest.expected.deletedIds);
    const [{ count }] = await query<{ count: number }>(url, 'SELECT count(*)::int AS count FROM rejected_records');
    expect(count).toBe(manifest.expected.totalRejected);
  });

  it('records per-file counts and stage timings on the ledger', async () => {
    const rows = await query<{ name: string; lines: string; tweets: string; deletes: string; rejected: string; parse_ms: number; total_ms: number }>(
      runs.inline!.database.url,
      `SELECT name, lines, tweets, deletes, rejected, parse_ms, total_ms FROM ingest_files WHERE status = 'done' ORDER BY name`,
    );
    for (const file of manifest.files) {
      const row = rows.find((candidate) => candidate.name === file.name);
      expect(row, file.name).toMatchObject({
        lines: String(file.records),
        tweets: String(file.tweets),
        deletes: String(file.deletes),
        rejected: String(file.rejected),
      });
      expect(row!.total_ms).toBeGreaterThan(0);
    }
    const rejectedLines = await query<{ name: string; line_no: number; reason: string }>(
      runs.inline!.database.url,
      'SELECT f.name, r.line_no::int, r.reason FROM rejected_records r JOIN ingest_files f ON f.id = r.file_id ORDER BY f.name, r.line_no',
    );
    for (const file of manifest.files) {
      expect(rejectedLines.filter((row) => row.name === file.name).map((row) => row.line_no), file.name).toEqual(file.rejectedLineNumbers);
    }
  });

  it('stores the contract columns exactly for every kind of tweet', async () => {
    const rows = await query<Record<string, unknown>>(runs.inline!.database.url, TWEETS_DUMP);
    for (const expected of manifest.expected.sampleRows) {
      const row = rows.find((candidate) => candidate.id === expected.id);
      expect(row, expected.id).toMatchObject({
        created_at: new Date(expected.createdAt),
        user_id: expected.userId,
        user_screen_name: expected.userScreenName,
        text: expected.text,
        lang: expected.lang,
        retweeted_id: expected.retweetedId,
        quoted_id: expected.quotedId,
        in_reply_to_id: expected.inReplyToId,
        hashtags: expected.hashtags,
        mentions: expected.mentions,
        urls: expected.urls,
      });
    }
  });

  it('threads, processes and inline produce identical tables', async () => {
    const dumps: Record<string, string> = {};
    for (const [executor, { database, result }] of Object.entries(runs)) {
      expect(result.code, `${executor}: ${result.stderr}`).toBe(1);
      // Which file inserts a tweet seen in two files depends on which finishes first (two files
      // run at once), so source_file_id and per-file inserted/duplicates are left out here.
      dumps[executor] = digest([
        await query(database.url, TWEETS_DUMP.replace(', source_file_id::text', '')),
        await query(database.url, 'SELECT id::text, user_id::text, deleted_at FROM tweet_deletions ORDER BY id'),
        await query(database.url, 'SELECT file_id::text, line_no, reason, raw FROM rejected_records ORDER BY file_id, line_no'),
        await query(database.url, 'SELECT id::text, name, status, lines, tweets, deletes, notices, rejected FROM ingest_files ORDER BY id'),
      ]);
    }
    expect(dumps.threads).toBe(dumps.inline);
    expect(dumps.processes).toBe(dumps.inline);
  });

  it('re-ingesting the same folder adds no rows', async () => {
    const { database } = runs.threads!;
    const before = digest(await query(database.url, TWEETS_DUMP));
    const again = await runCli(['ingest', folder], { DATABASE_URL: database.url, EXECUTOR: 'threads', LOG_LEVEL: 'warn' });
    expect(again.stdout).toContain(`${manifest.files.length + 1} files (0 new, ${manifest.files.length + 1} already in the ledger)`);
    expect(digest(await query(database.url, TWEETS_DUMP))).toBe(before);
  });
});
