import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDecodedStream } from './decode.js';
import { decodeTweetsCopy } from './encode.js';
import type { ChunkResult, ChunkTask, TweetRow } from './pipeline.types.js';
import { processChunk } from './process-chunk.js';
import { RecordSplitter, splitRecordStream } from './split.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REAL_SAMPLE = path.resolve(REPO_ROOT, '../shared/data/real-tweets/streaming-sample-2018.jsonl.gz');

/** One task holding every record of `input` (split as the service would). */
function taskOf(input: string | Buffer): ChunkTask {
  const splitter = new RecordSplitter({ chunkBytes: 1 << 24, maxRecordBytes: 1 << 20 });
  const tasks = [...splitter.push(typeof input === 'string' ? Buffer.from(input) : input).tasks, ...splitter.end().tasks];
  expect(tasks).toHaveLength(1);
  return tasks[0];
}

function expectEveryRecordAccountedFor(result: ChunkResult, pageElementRejections = 0): void {
  const { counts } = result;
  expect(counts.tweetRecords + counts.deletes + counts.notices + counts.rejected).toBe(
    counts.records + pageElementRejections,
  );
  expect(counts.rejected).toBe(result.rejected.length);
  expect(counts.deletes).toBe(result.deletions.length);
  expect(counts.tweets).toBe(decodeTweetsCopy(result.tweetsCopy).length);
}

const tweet = (id: string, text: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    created_at: 'Sat Mar 10 12:00:00 +0000 2018',
    id_str: id,
    text,
    user: { id_str: '7', screen_name: 'u' },
    ...extra,
  });

describe('processChunk', () => {
  it('accounts for every record: rows, deletions, notices and rejections', () => {
    const lines = [
      tweet('101', 'one'),
      tweet('102', 'retweet', { retweeted_status: JSON.parse(tweet('90', 'original')) as unknown }),
      '{"delete":{"status":{"id":103,"id_str":"103","user_id":7,"user_id_str":"7"},"timestamp_ms":"1520690595660"}}',
      '{"limit":{"track":12,"timestamp_ms":"1520690595660"}}',
      '{"scrub_geo":{"user_id_str":"7","up_to_status_id_str":"101"}}',
      '{"hello":"world"}',
      '[1,2]',
      '{"id_str":"104","text":"cut off',
      '{"delete":{"status":{}}}',
      JSON.stringify({ id_str: '105', text: 'no date', user: {} }),
      '{"data":[],"meta":{"result_count":0}}',
    ];
    const result = processChunk(taskOf(`${lines.join('\n')}\n`));
    expect(result.counts).toEqual({
      records: 11,
      tweetRecords: 2,
      tweets: 3,
      deletes: 1,
      notices: 3,
      rejected: 5,
    });
    expectEveryRecordAccountedFor(result);
    expect(decodeTweetsCopy(result.tweetsCopy).map((row) => row.id)).toEqual(['101', '102', '90']);
    expect(result.deletions).toEqual([
      { id: '103', userId: '7', deletedAt: '2018-03-10T14:03:15.660Z' },
    ]);
    expect(result.rejected.map(({ lineNo, reason }) => ({ lineNo, reason }))).toEqual([
      { lineNo: 6, reason: 'not a tweet or known notice (keys: hello)' },
      { lineNo: 7, reason: 'not a tweet or known notice (an array)' },
      { lineNo: 8, reason: expect.stringMatching(/^invalid JSON: /) as unknown },
      { lineNo: 9, reason: 'delete notice without a valid status.id_str' },
      { lineNo: 10, reason: 'unusable created_at (absent)' },
    ]);
    expect(result.rejected[0].raw).toBe('{"hello":"world"}');
    expect(result.rejected[2].raw).toBe('{"id_str":"104","text":"cut off');
  });

  it('keeps line numbers of the file, blank lines included', () => {
    const result = processChunk(taskOf(`\n\n${tweet('1', 'a')}\r\n\r\nnot json\r\n`));
    expect(result.rejected).toEqual([
      { lineNo: 5, reason: expect.stringMatching(/^invalid JSON: /) as unknown, raw: 'not json' },
    ]);
  });

  it('replaces invalid UTF-8 with U+FFFD instead of rejecting the record', () => {
    const line = Buffer.from(tweet('1', 'bad XX bytes'));
    const at = line.indexOf('XX');
    line[at] = 0xff;
    line[at + 1] = 0xfe;
    const result = processChunk(taskOf(line));
    expect(result.counts.rejected).toBe(0);
    expect(decodeTweetsCopy(result.tweetsCopy)[0].text).toBe('bad \uFFFD\uFFFD bytes');
  });

  it('removes NUL characters and never emits invalid UTF-8 for lone surrogates', () => {
    const result = processChunk(taskOf(`${tweet('1', 'nul\u0000 and lone \ud800 surrogate')}\n`));
    // fatal: throws on invalid UTF-8
    const text = new TextDecoder('utf-8', { fatal: true }).decode(result.tweetsCopy);
    expect(text).not.toContain('\u0000');
    expect(decodeTweetsCopy(result.tweetsCopy)[0].text).toBe('nul and lone \uFFFD surrogate');
  });

  it('reads v2 tweets and pages, rejecting unusable page elements one by one', () => {
    const lines = [
      JSON.stringify({ id: '1500000000000000001', text: 'bare v2', created_at: '2022-03-05T10:00:00Z' }),
      JSON.stringify({
        data: [
          { id: '1500000000000000002', text: 'in a page', author_id: '5', created_at: '2022-03-05T10:00:00Z' },
          { id: '1500000000000000003', text: 'bad', created_at: 'soon' },
        ],
        includes: { users: [{ id: '5', username: 'five' }] },
      }),
      JSON.stringify({ data: [{ id: 'x', text: 'only a bad one' }] }),
    ];
    const result = processChunk(taskOf(lines.join('\n')));
    expect(result.counts).toMatchObject({ records: 3, tweetRecords: 2, tweets: 2, rejected: 2 });
    expectEveryRecordAccountedFor(result, 1);
    const rows = decodeTweetsCopy(result.tweetsCopy);
    expect(rows.map((row) => [row.id, row.userScreenName])).toEqual([
      ['1500000000000000001', null],
      ['1500000000000000002', 'five'],
    ]);
    expect(result.rejected.map(({ lineNo, reason }) => [lineNo, reason])).toEqual([
      [2, 'data[1]: unusable created_at (got "soon")'],
      [3, 'data[0]: missing or invalid id (got "x")'],
    ]);
  });

  it('gives a page line one dead letter, however many of its elements are bad', () => {
    const page = JSON.stringify({ data: [{}, { id: 'x', text: 'bad id' }, {}, {}, { id: '1500000000000000009', text: 'ok', created_at: '2022-03-05T10:00:00Z' }] });
    const result = processChunk(taskOf(`${page}\n`));
    expect(result.counts).toMatchObject({ records: 1, tweetRecords: 1, tweets: 1, rejected: 1 });
    expectEveryRecordAccountedFor(result, 1);
    expect(result.rejected.map(({ lineNo, reason }) => [lineNo, reason])).toEqual([
      [1, '4 of 5 data elements rejected, first: data[0] is not a v2 tweet; data[1]: missing or invalid id (got "x"); data[2] is not a v2 tweet'],
    ]);
  });

  it('reports non-negative stage timings', () => {
    const { timings } = processChunk(taskOf(`${tweet('1', 'a')}\n`));
    expect(timings.parseMs).toBeGreaterThanOrEqual(0);
    expect(timings.cleanMs).toBeGreaterThanOrEqual(0);
    expect(timings.encodeMs).toBeGreaterThanOrEqual(0);
  });

  it('accepts a task whose bytes are a plain Uint8Array view, as after a transfer', () => {
    const task = taskOf(`${tweet('1', 'a')}\n${tweet('2', 'b')}\n`);
    const padded = new Uint8Array(task.bytes.byteLength + 8);
    padded.set(task.bytes, 4);
    const result = processChunk({ ...task, bytes: padded.subarray(4, 4 + task.bytes.byteLength) });
    expect(decodeTweetsCopy(result.tweetsCopy).map((row) => row.text)).toEqual(['a', 'b']);
  });
});

describe('processChunk on the real 2018 streaming sample, through decode and split', () => {
  it('produces every distinct tweet id of the file, exactly', async () => {
    // Oracle, independent of the pipeline: every id_str of each top-level or embedded tweet.
    const expectedIds = new Set<string>();
    const visit = (value: { id_str: string; quoted_status?: never; retweeted_status?: never } | undefined) => {
      if (value === undefined) {
        return;
      }
      expectedIds.add(value.id_str);
      visit(value.quoted_status);
      visit(value.retweeted_status);
    };
    for (const line of gunzipSync(readFileSync(REAL_SAMPLE)).toString('utf8').split('\n')) {
      if (line.trim() !== '') {
        visit(JSON.parse(line) as { id_str: string });
      }
    }

    const rows: TweetRow[] = [];
    let records = 0;
    let tasks = 0;
    const decoded = createDecodedStream(createReadStream(REAL_SAMPLE, { highWaterMark: 4096 }));
    for await (const output of splitRecordStream(decoded, { chunkBytes: 32 * 1024, maxRecordBytes: 1 << 20 })) {
      expect(output.rejected).toEqual([]);
      for (const task of output.tasks) {
        tasks++;
        const result = processChunk(task);
        expectEveryRecordAccountedFor(result);
        expect(result.counts.rejected).toBe(0);
        records += result.counts.records;
        rows.push(...decodeTweetsCopy(result.tweetsCopy));
      }
    }
    expect(tasks).toBeGreaterThan(5);
    expect(records).toBe(72);
    expect(rows).toHaveLength(80); // 72 tweets + 8 quoted originals
    expect(new Set(rows.map((row) => row.id))).toEqual(expectedIds);
    for (const row of rows) {
      // created_at has whole seconds; the snowflake id holds the same instant to the millisecond.
      const snowflakeMs = Number(BigInt(row.id) >> 22n) + 1_288_834_974_657;
      expect(row.createdAt).toBe(new Date(Math.floor(snowflakeMs / 1000) * 1000).toISOString());
      expect(row.userScreenName).not.toBeNull();
    }
  });
});
