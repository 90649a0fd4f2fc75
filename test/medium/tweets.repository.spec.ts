import { beforeEach, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { CREATE_STAGING, INSERT_FROM_STAGING, TweetsRepository } from '../../src/ingest/tweets.repository.js';
import { encodeTweetsCopy } from '../../src/pipeline/encode.js';
import type { DeletionRow, TweetRow } from '../../src/pipeline/pipeline.types.js';
import { useTestDataSource } from '../support/medium-fixture.js';

const tweet = (id: string, overrides: Partial<TweetRow> = {}): TweetRow => ({
  id,
  createdAt: '2018-03-10T12:00:00.000Z',
  userId: '9007199254740993',
  userScreenName: 'someone',
  text: `tweet ${id}`,
  lang: 'en',
  retweetedId: null,
  quotedId: null,
  inReplyToId: null,
  hashtags: [],
  mentions: [],
  urls: [],
  ...overrides,
});

const deletion = (id: string): DeletionRow => ({ id, userId: '1', deletedAt: '2018-03-11T00:00:00.000Z' });

describe('TweetsRepository (real PostgreSQL)', () => {
  let dataSource: DataSource;
  let tweets: TweetsRepository;

  useTestDataSource({ poolSize: 20, truncate: ['tweets', 'tweet_deletions', 'rejected_records', 'ingest_files'] }, (connected) => {
    dataSource = connected;
    tweets = new TweetsRepository(connected);
  });
  beforeEach(async () => {
    // Every test writes its tweets against these two ledger rows (file ids 1 and 2).
    await dataSource.query(`INSERT INTO ingest_files (bucket, name, generation) VALUES ('b', 'one', '1'), ('b', 'two', '1')`);
  });

  const write = (fileId: string, rows: TweetRow[], deletions: DeletionRow[] = []) =>
    tweets.writeBatch({ fileId, tweetsCopy: [encodeTweetsCopy(rows)], deletions, rejected: [] });

  it('round-trips every column exactly through COPY, including awkward text', async () => {
    const awkward = tweet('1234567890123456789', {
      text: 'tab\there, newline\nthere, back\\slash, "quotes", {braces}, émoji 🎉, RT @x: y',
      userScreenName: null,
      lang: null,
      retweetedId: '9223372036854775807',
      quotedId: '18014398509481985',
      inReplyToId: '1',
      hashtags: ['a b', 'c,d', 'e"f', 'g\\h', 'NULL', ''],
      mentions: ['someone'],
      urls: ['https://example.com/?q=1&r={2}'],
    });
    await write('1', [awkward]);
    const [row] = await dataSource.query(
      `SELECT id::text, created_at, user_id::text, user_screen_name, text, lang, retweeted_id::text, quoted_id::text,
              in_reply_to_id::text, hashtags, mentions, urls, source_file_id::text FROM tweets`,
    );
    expect(row).toEqual({
      id: awkward.id,
      created_at: new Date(awkward.createdAt),
      user_id: awkward.userId,
      user_screen_name: null,
      text: awkward.text,
      lang: null,
      retweeted_id: awkward.retweetedId,
      quoted_id: awkward.quotedId,
      in_reply_to_id: '1',
      hashtags: awkward.hashtags,
      mentions: awkward.mentions,
      urls: awkward.urls,
      source_file_id: '1',
    });
  });

  it('is idempotent: writing the same batch again adds no rows', async () => {
    const rows = [tweet('1'), tweet('2'), tweet('2'), tweet('3')];
    expect((await write('1', rows)).inserted).toBe(3);
    expect((await write('1', rows)).inserted).toBe(0);
    const [{ count }] = await dataSource.query('SELECT count(*)::int AS count FROM tweets');
    expect(count).toBe(3);
  });

  it('removes a tweet deleted after it was stored, and never stores one deleted before', async () => {
    await write('1', [tweet('10'), tweet('11')]);
    const after = await write('2', [], [deletion('10')]);
    expect(after.removedByDeletions).toBe(1);
    await write('2', [], [deletion('20')]);
    expect((await write('1', [tweet('20'), tweet('21')])).inserted).toBe(1);
    const ids = (await dataSource.query('SELECT id::text FROM tweets ORDER BY id')).map((row: { id: string }) => row.id);
    expect(ids).toEqual(['11', '21']);
    const deleted = await dataSource.query('SELECT id::text, source_file_id::text FROM tweet_deletions ORDER BY id');
    expect(deleted).toEqual([
      { id: '10', source_file_id: '2' },
      { id: '20', source_file_id: '2' },
    ]);
  });

  it('leaves no deleted tweet when deletions and inserts of the same ids race', async () => {
    const ids = Array.from({ length: 200 }, (_, index) => String(1000 + index));
    // Many concurrent transactions: half insert tweets, half delete the same ids, in small slices.
    const work = [];
    for (let slice = 0; slice < 20; slice += 1) {
      const sliceIds = ids.slice(slice * 10, slice * 10 + 10);
      work.push(write('1', sliceIds.map((id) => tweet(id))));
      work.push(write('2', [], sliceIds.map(deletion)));
    }
    await Promise.all(work);
    const [{ count }] = await dataSource.query('SELECT count(*)::int AS count FROM tweets');
    const [{ deletions }] = await dataSource.query('SELECT count(*)::int AS deletions FROM tweet_deletions');
    expect(deletions).toBe(200);
    expect(count).toBe(0);
  });

  it('checks each staged id against tweet_deletions by its index, however many deletions are stored', async () => {
    // The (node type, table) pairs of the plan PostgreSQL picks for a statement on a staged batch
    // of 3,000 tweets, in a transaction that is rolled back.
    const scans = async (statement: string): Promise<[string, string | undefined][]> => {
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      try {
        await runner.query('BEGIN');
        await runner.query(CREATE_STAGING);
        await runner.query(
          `INSERT INTO tweets_staging (id, created_at, text, hashtags, mentions, urls)
           SELECT g, now(), repeat('x', 200), '{}', '{}', '{}' FROM generate_series(1, 3000) g`,
        );
        const [{ 'QUERY PLAN': plan }] = await runner.query(`EXPLAIN (FORMAT JSON) ${statement}`, ['1']);
        const found: [string, string | undefined][] = [];
        const walk = (node: { 'Node Type': string; 'Relation Name'?: string; Plans?: unknown[] }) => {
          found.push([node['Node Type'], node['Relation Name']]);
          for (const child of node.Plans ?? []) walk(child as typeof node);
        };
        walk(plan[0].Plan);
        return found;
      } finally {
        await runner.query('ROLLBACK');
        await runner.release();
      }
    };
    // 60,000 stored deletions, counted by ANALYZE as autovacuum would.
    await dataSource.query(
      `INSERT INTO tweet_deletions (id, user_id, deleted_at, source_file_id)
       SELECT 9000000000000000000 + g, 1, now(), 1 FROM generate_series(1, 60000) g`,
    );
    await dataSource.query('ANALYZE tweet_deletions');

    // The same check without OFFSET 0: PostgreSQL reads the whole table for every batch.
    expect(await scans(INSERT_FROM_STAGING.replace(' OFFSET 0', ''))).toContainEqual(['Seq Scan', 'tweet_deletions']);
    const used = await scans(INSERT_FROM_STAGING);
    expect(used).toContainEqual(['Index Only Scan', 'tweet_deletions']);
    expect(used).not.toContainEqual(['Seq Scan', 'tweet_deletions']);
  });

  it('records rejected lines once per file and line, NUL characters removed', async () => {
    const rejected = [{ lineNo: 7, reason: 'invalid JSON: Unexpected end', raw: '{"id_str":"1\u0000' }];
    await tweets.writeBatch({ fileId: '1', tweetsCopy: [], deletions: [], rejected });
    await tweets.writeBatch({ fileId: '1', tweetsCopy: [], deletions: [], rejected });
    const rows = await dataSource.query('SELECT file_id::text, line_no::int, reason, raw FROM rejected_records');
    expect(rows).toEqual([{ file_id: '1', line_no: 7, reason: 'invalid JSON: Unexpected end', raw: '{"id_str":"1' }]);
  });

  it('counts tweets exactly while the table is small', async () => {
    await write('1', [tweet('1'), tweet('2')]);
    expect(await tweets.countTweets()).toEqual({ total: 2, estimated: false });
  });
});
