import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus, sortTweetIds, type CorpusManifest } from '../support/corpus-generator.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { runCli, type CliResult } from '../support/service.js';
import { auditDatabase, corpusExpectation, type AuditReport } from './support/audit.js';
import { badFiles, HUGE_LINE_BYTES, writeBadFiles } from './support/bad-files.js';
import { reportFigure } from './support/fault-service.js';

// Fault case 5 (issue 7): hostile files next to good ones, through the built `ingest` command.
// Each must end with a clear status — failed naming the file and the cause, or done with its
// bad records in rejected_records — never a crash or a hang, and the good files all land.

const files = badFiles();

describe('fault 5: bad files (built ingest command, real PostgreSQL)', () => {
  let database: TestDatabase;
  let bucket: string;
  let manifest: CorpusManifest;
  let result: CliResult;
  let report: AuditReport;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    bucket = await mkdtemp(path.join(tmpdir(), 'faults-bad-files-'));
    manifest = await generateCorpus({ outDir: path.join(bucket, 'good'), files: 3, tweetsPerFile: 60, seed: 7005 });
    await mkdir(path.join(bucket, 'bad'));
    await writeBadFiles(bucket, files);
    const started = Date.now();
    // MAX_ATTEMPTS 2 and a short backoff: were any of these wrongly treated as transient, the
    // run would still end quickly, and the attempts check below would catch it.
    result = await runCli(['ingest', bucket], { DATABASE_URL: database.url, EXECUTOR: 'threads', EXECUTOR_SIZE: '2', LOG_LEVEL: 'warn', MAX_ATTEMPTS: '2', RETRY_BASE_MS: '100' });
    const elapsedMs = Date.now() - started;
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const expectation = corpusExpectation(manifest, 'good/');
    report = await auditDatabase(database.url, {
      tweetIds: sortTweetIds([...manifest.expected.tweetIds, '800000000000000001', '800000000000000002', '800000000000000003', '800000000000000005', '800000000000000006']),
      files: {
        ...expectation.files,
        [files.corruptGzip!.name]: { status: 'failed', error: /^corrupt file bad\/corrupt\.jsonl\.gz: corrupt gzip: / },
        [files.truncatedGzip!.name]: { status: 'failed', error: /^corrupt file bad\/truncated\.jsonl\.gz: corrupt gzip: unexpected end of file$/ },
        [files.emptyFile!.name]: { status: 'done', rejected: 0 },
        [files.binaryFile!.name]: { status: 'done' },
        [files.notATweet!.name]: { status: 'done', rejected: 1 },
        [files.hugeLine!.name]: { status: 'done', rejected: 1 },
        [files.invalidUtf8!.name]: { status: 'done', rejected: 0 },
      },
    });
    reportFigure('5-bad-files', { files: report.files.length, elapsedMs, exitCode: result.code });
  }, 180_000);
  afterAll(async () => {
    await client?.end();
    await database?.drop();
    await rm(bucket, { recursive: true, force: true });
  });

  const ledger = async (name: string) =>
    (await client.query('SELECT status, attempts, lines::int, tweets::int, rejected::int, error FROM ingest_files WHERE name = $1', [name])).rows[0];
  const deadLetters = async (name: string) =>
    (
      await client.query<{ line_no: number; reason: string; raw_bytes: number }>(
        `SELECT r.line_no::int, r.reason, octet_length(r.raw) AS raw_bytes FROM rejected_records r JOIN ingest_files f ON f.id = r.file_id WHERE f.name = $1 ORDER BY r.line_no`,
        [name],
      )
    ).rows;

  it('exits 1 naming the two failed files, without crashing or hanging', () => {
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain(`summary: ${manifest.files.length + 5} done, 2 failed`);
    expect(result.stdout).toContain('corrupt file bad/corrupt.jsonl.gz: corrupt gzip');
    expect(result.stdout).toContain('corrupt file bad/truncated.jsonl.gz: corrupt gzip: unexpected end of file');
    expect(result.stderr).not.toMatch(/FATAL|Unhandled|TypeError|RangeError/);
  });

  it('fails corrupt and truncated gzip at once: the cause is permanent, never retried', async () => {
    for (const file of [files.corruptGzip!, files.truncatedGzip!]) {
      expect(await ledger(file.name), file.name).toMatchObject({ status: 'failed', attempts: 1, tweets: 0 });
    }
  });

  it('takes an empty file as done with nothing in it', async () => {
    expect(await ledger(files.emptyFile!.name)).toMatchObject({ status: 'done', attempts: 1, lines: 0, tweets: 0, rejected: 0, error: null });
  });

  it('keeps every fragment of a binary file as a dead letter, and no tweet from it', async () => {
    const row = await ledger(files.binaryFile!.name);
    expect(row).toMatchObject({ status: 'done', attempts: 1, tweets: 0 });
    expect(row.rejected).toBeGreaterThan(0);
    expect(row.lines).toBe(row.rejected);
    const letters = await deadLetters(files.binaryFile!.name);
    expect(letters).toHaveLength(row.rejected);
    for (const letter of letters) {
      expect(letter.reason).toMatch(/^invalid JSON: /);
      expect(letter.raw_bytes).toBeLessThanOrEqual(1024 * 3); // the first KiB of the line, UTF-8 encoded
    }
  });

  it('rejects a JSON object that is not a tweet, naming its keys, and keeps the tweet beside it', async () => {
    expect(await ledger(files.notATweet!.name)).toMatchObject({ status: 'done', lines: 2, tweets: 1, rejected: 1 });
    expect((await deadLetters(files.notATweet!.name)).map((letter) => [letter.line_no, letter.reason])).toEqual([[1, 'not a tweet or known notice (keys: hello, id_str)']]);
  });

  it('rejects a 50 MB single line at MAX_LINE_BYTES without holding it, and keeps the next line', async () => {
    expect(HUGE_LINE_BYTES).toBeGreaterThan(32 * 1024 * 1024);
    expect(await ledger(files.hugeLine!.name)).toMatchObject({ status: 'done', lines: 2, tweets: 1, rejected: 1 });
    const [letter] = await deadLetters(files.hugeLine!.name);
    expect(letter).toMatchObject({ line_no: 1, reason: 'record longer than 33554432 bytes' });
    expect(letter!.raw_bytes).toBe(1024);
  });

  it('keeps tweets with invalid UTF-8, the bad bytes replaced by U+FFFD', async () => {
    expect(await ledger(files.invalidUtf8!.name)).toMatchObject({ status: 'done', lines: 3, tweets: 3, rejected: 0 });
    const { rows } = await client.query(`SELECT text FROM tweets WHERE id = 800000000000000002`);
    expect(rows[0].text).toMatch(/^bad:\uFFFD+$/);
  });

  it('lands every good file exactly, beside the bad ones', () => {
    expect(report.files.filter((file) => file.name.startsWith('good/')).every((file) => file.status === 'done' && file.attempts === 1)).toBe(true);
  });
});
