import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cleanDeletion, cleanV1Tweet, cleanV2Page, cleanV2Tweet, readTweetId } from './clean.js';
import type { JsonObject } from './json-fields.js';
import type { TweetRow } from './pipeline.types.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REAL_SAMPLE = path.resolve(REPO_ROOT, '../shared/data/real-tweets/streaming-sample-2018.jsonl.gz');

function v1Tweet(fields: Record<string, unknown> = {}): JsonObject {
  return {
    created_at: 'Sat Mar 10 12:00:00 +0000 2018',
    id: 972472958596866048,
    id_str: '972472958596866048',
    text: 'hello #world @bob https://t.co/x',
    user: { id: 1001, id_str: '1001', screen_name: 'alice' },
    entities: {
      hashtags: [{ text: 'world', indices: [6, 12] }],
      user_mentions: [{ screen_name: 'bob', id_str: '2002' }],
      urls: [{ url: 'https://t.co/x', expanded_url: 'https://example.com/x' }],
    },
    in_reply_to_status_id_str: null,
    lang: 'en',
    timestamp_ms: '1520683200000',
    ...fields,
  };
}

function rowsOf(tweet: JsonObject): TweetRow[] {
  const cleaned = cleanV1Tweet(tweet);
  if (!cleaned.ok) {
    throw new Error(`unexpected rejection: ${cleaned.reason}`);
  }
  return cleaned.rows;
}

function reasonOf(tweet: JsonObject): string {
  const cleaned = cleanV1Tweet(tweet);
  if (cleaned.ok) {
    throw new Error('expected a rejection');
  }
  return cleaned.reason;
}

describe('cleanV1Tweet', () => {
  it('maps a plain tweet to a row', () => {
    expect(rowsOf(v1Tweet())).toEqual([
      {
        id: '972472958596866048',
        createdAt: '2018-03-10T12:00:00.000Z',
        userId: '1001',
        userScreenName: 'alice',
        text: 'hello #world @bob https://t.co/x',
        lang: 'en',
        retweetedId: null,
        quotedId: null,
        inReplyToId: null,
        hashtags: ['world'],
        mentions: ['bob'],
        urls: ['https://example.com/x'],
      },
    ]);
  });

  it('takes ids from id_str, never from the imprecise JSON number', () => {
    const parsed = JSON.parse(
      '{"id":972472958596866049,"id_str":"972472958596866049","text":"t","created_at":"Sat Mar 10 12:00:00 +0000 2018","user":{"id":9007199254740993,"id_str":"9007199254740993"}}',
    ) as JsonObject;
    // The trap: JSON.parse has already rounded the numbers.
    expect(String(parsed.id)).not.toBe('972472958596866049');
    const [row] = rowsOf(parsed);
    expect(row.id).toBe('972472958596866049');
    expect(row.userId).toBe('9007199254740993');
  });

  it('rejects a tweet without a usable id_str', () => {
    expect(reasonOf(v1Tweet({ id_str: undefined }))).toBe('missing or invalid id_str (absent)');
    expect(reasonOf(v1Tweet({ id_str: 'abc' }))).toBe('missing or invalid id_str (got "abc")');
    expect(reasonOf(v1Tweet({ id_str: 12 }))).toBe('missing or invalid id_str (got 12)');
  });

  it('falls back to timestamp_ms when created_at is unusable, and rejects when both are', () => {
    expect(rowsOf(v1Tweet({ created_at: 'yesterday' }))[0].createdAt).toBe('2018-03-10T12:00:00.000Z');
    expect(rowsOf(v1Tweet({ created_at: undefined }))[0].createdAt).toBe('2018-03-10T12:00:00.000Z');
    expect(reasonOf(v1Tweet({ created_at: 'yesterday', timestamp_ms: undefined }))).toBe(
      'unusable created_at (got "yesterday")',
    );
    expect(reasonOf(v1Tweet({ created_at: undefined, timestamp_ms: 'soon' }))).toBe(
      'unusable created_at (absent)',
    );
  });

  it('uses the extended text and its entities for a truncated tweet', () => {
    const [row] = rowsOf(
      v1Tweet({
        truncated: true,
        text: 'a long story… https://t.co/i',
        entities: { hashtags: [], user_mentions: [], urls: [{ url: 'https://t.co/i', expanded_url: 'https://twitter.com/i/web/status/1' }] },
        extended_tweet: {
          full_text: 'a long story with an end #fin @carol https://t.co/e',
          entities: {
            hashtags: [{ text: 'fin' }],
            user_mentions: [{ screen_name: 'carol' }],
            urls: [{ url: 'https://t.co/e', expanded_url: 'https://example.com/end' }],
          },
        },
      }),
    );
    expect(row.text).toBe('a long story with an end #fin @carol https://t.co/e');
    expect(row.hashtags).toEqual(['fin']);
    expect(row.mentions).toEqual(['carol']);
    expect(row.urls).toEqual(['https://example.com/end']);
  });

  it('uses full_text when there is no extended_tweet', () => {
    expect(rowsOf(v1Tweet({ full_text: 'the full text', text: undefined }))[0].text).toBe('the full text');
  });

  it('falls back to the t.co url when expanded_url is missing', () => {
    const [row] = rowsOf(
      v1Tweet({ entities: { urls: [{ url: 'https://t.co/a', expanded_url: null }, { url: 'https://t.co/b' }] } }),
    );
    expect(row.urls).toEqual(['https://t.co/a', 'https://t.co/b']);
  });

  it('rebuilds a retweet from its original, and makes the original a row', () => {
    const original = v1Tweet({
      id: 1,
      id_str: '900000000000000001',
      created_at: 'Fri Mar 09 08:00:00 +0000 2018',
      user: { id_str: '3003', screen_name: 'orig_author' },
      text: 'original truncated… https://t.co/i',
      truncated: true,
      extended_tweet: {
        full_text: 'original full text #tag @dave https://t.co/o',
        entities: {
          hashtags: [{ text: 'tag' }],
          user_mentions: [{ screen_name: 'dave' }],
          urls: [{ url: 'https://t.co/o', expanded_url: 'https://example.com/o' }],
        },
      },
    });
    const rows = rowsOf(
      v1Tweet({
        text: 'RT @orig_author: original truncated…',
        entities: { hashtags: [], user_mentions: [{ screen_name: 'orig_author' }], urls: [] },
        retweeted_status: original,
      }),
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      id: '972472958596866048',
      userScreenName: 'alice',
      text: 'RT @orig_author: original full text #tag @dave https://t.co/o',
      retweetedId: '900000000000000001',
      hashtags: ['tag'],
      mentions: ['orig_author', 'dave'],
      urls: ['https://example.com/o'],
    });
    expect(rows[1]).toMatchObject({
      id: '900000000000000001',
      createdAt: '2018-03-09T08:00:00.000Z',
      userScreenName: 'orig_author',
      text: 'original full text #tag @dave https://t.co/o',
      retweetedId: null,
    });
  });

  it('makes a quoted tweet a row and sets quoted_id', () => {
    const quoted = v1Tweet({ id_str: '800000000000000001', text: 'quoted words' });
    const withStr = rowsOf(v1Tweet({ quoted_status_id_str: '800000000000000001', quoted_status: quoted }));
    expect(withStr.map((row) => row.id)).toEqual(['972472958596866048', '800000000000000001']);
    expect(withStr[0].quotedId).toBe('800000000000000001');
    expect(withStr[1].text).toBe('quoted words');
    // Without quoted_status_id_str the embedded tweet's id serves.
    expect(rowsOf(v1Tweet({ quoted_status: quoted }))[0].quotedId).toBe('800000000000000001');
  });

  it('walks nested originals once each: a retweet of a quote', () => {
    const quoted = v1Tweet({ id_str: '700000000000000001', text: 'innermost' });
    const quote = v1Tweet({
      id_str: '800000000000000001',
      user: { id_str: '5', screen_name: 'quoter' },
      text: 'quoting',
      quoted_status_id_str: '700000000000000001',
      quoted_status: quoted,
    });
    const rows = rowsOf(
      v1Tweet({
        retweeted_status: quote,
        // The stream repeats the quoted tweet at the top level of such a retweet.
        quoted_status_id_str: '700000000000000001',
        quoted_status: quoted,
      }),
    );
    expect(rows.map((row) => row.id)).toEqual([
      '972472958596866048',
      '800000000000000001',
      '700000000000000001',
    ]);
    expect(rows[0].text).toBe('RT @quoter: quoting');
  });

  it('leaves out an embedded original too broken to store, keeping the tweet', () => {
    const rows = rowsOf(
      v1Tweet({
        retweeted_status: v1Tweet({ id_str: '5', created_at: 'never', timestamp_ms: undefined }),
      }),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].retweetedId).toBe('5');
  });

  it('reads replies', () => {
    expect(rowsOf(v1Tweet({ in_reply_to_status_id_str: '600000000000000001' }))[0].inReplyToId).toBe(
      '600000000000000001',
    );
  });

  it('degrades malformed fields to nulls and empty lists instead of throwing', () => {
    const [row] = rowsOf(
      v1Tweet({ user: 'not an object', entities: [], lang: 5, in_reply_to_status_id_str: 12 }),
    );
    expect(row).toMatchObject({
      userId: null,
      userScreenName: null,
      lang: null,
      inReplyToId: null,
      hashtags: [],
      mentions: [],
      urls: [],
    });
  });
});

describe('readTweetId', () => {
  it('accepts decimal strings within PostgreSQL bigint', () => {
    expect(readTweetId('0')).toBe('0');
    expect(readTweetId('9223372036854775807')).toBe('9223372036854775807');
  });

  it('refuses anything else', () => {
    for (const value of ['9223372036854775808', '99999999999999999999', '01', '-1', '1.0', ' 1', '', 1]) {
      expect(readTweetId(value), String(value)).toBeNull();
    }
  });
});

describe('cleanV2Page', () => {
  const page: JsonObject = {
    data: [
      {
        id: '1500000000000000001',
        text: 'RT @orig: truncated…',
        author_id: '11',
        created_at: '2022-03-05T10:00:00.000Z',
        lang: 'en',
        referenced_tweets: [{ type: 'retweeted', id: '1400000000000000001' }],
        entities: { mentions: [{ username: 'orig' }] },
      },
      {
        id: '1500000000000000002',
        text: 'short version',
        note_tweet: {
          text: 'the long post #long @erin https://t.co/n',
          entities: {
            hashtags: [{ tag: 'long' }],
            mentions: [{ username: 'erin' }],
            urls: [{ url: 'https://t.co/n', expanded_url: 'https://example.com/n' }],
          },
        },
        author_id: '12',
        created_at: '2022-03-05T10:01:00.000Z',
        referenced_tweets: [
          { type: 'quoted', id: '1400000000000000002' },
          { type: 'replied_to', id: '1400000000000000003' },
        ],
      },
    ],
    includes: {
      users: [
        { id: '11', username: 'retweeter' },
        { id: '12', username: 'poster' },
        { id: '21', username: 'orig' },
      ],
      tweets: [
        {
          id: '1400000000000000001',
          text: 'the original #o https://t.co/o',
          author_id: '21',
          created_at: '2022-03-04T09:00:00.000Z',
          entities: {
            hashtags: [{ tag: 'o' }],
            mentions: [{ username: 'frank' }],
            urls: [{ url: 'https://t.co/o', expanded_url: 'https://example.com/o' }],
          },
        },
        { id: '1400000000000000002', text: 'quoted one', author_id: '99' },
        // Repeated in data: stays one row.
        { id: '1500000000000000002', text: 'short version', author_id: '12' },
      ],
    },
    meta: { result_count: 2 },
  };

  it('maps data tweets and included originals to rows, each id once', () => {
    const { rows, rejectedElements } = cleanV2Page(page);
    expect(rejectedElements).toEqual([]);
    expect(rows.map((row) => row.id)).toEqual([
      '1500000000000000001',
      '1500000000000000002',
      '1400000000000000001',
      '1400000000000000002',
    ]);
    expect(rows[0]).toEqual({
      id: '1500000000000000001',
      createdAt: '2022-03-05T10:00:00.000Z',
      userId: '11',
      userScreenName: 'retweeter',
      text: 'RT @orig: the original #o https://t.co/o',
      lang: 'en',
      retweetedId: '1400000000000000001',
      quotedId: null,
      inReplyToId: null,
      hashtags: ['o'],
      mentions: ['orig', 'frank'],
      urls: ['https://example.com/o'],
    });
    expect(rows[1]).toMatchObject({
      userScreenName: 'poster',
      text: 'the long post #long @erin https://t.co/n',
      quotedId: '1400000000000000002',
      inReplyToId: '1400000000000000003',
      hashtags: ['long'],
      mentions: ['erin'],
      urls: ['https://example.com/n'],
      lang: null,
    });
    // No created_at asked for: the snowflake id gives it. Unknown author: no screen name.
    expect(rows[3]).toMatchObject({ userId: '99', userScreenName: null });
    expect(rows[3].createdAt).toMatch(/^2021-\d\d-\d\dT/);
  });

  it('reads a filtered-stream message (data is one object)', () => {
    const { rows } = cleanV2Page({
      data: { id: '1500000000000000009', text: 'hi', author_id: '12', created_at: '2022-03-05T10:00:00Z' },
      includes: { users: [{ id: '12', username: 'poster' }] },
      matching_rules: [{ id: '1', tag: 'x' }],
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ userScreenName: 'poster', createdAt: '2022-03-05T10:00:00.000Z' });
  });

  it('rejects unusable data elements one by one and keeps the rest', () => {
    const { rows, rejectedElements } = cleanV2Page({
      data: [
        { id: '1500000000000000001', text: 'fine', created_at: '2022-03-05T10:00:00Z' },
        { id: '1500000000000000002', text: 'bad date', created_at: 'tuesday' },
        'not even an object',
      ],
    });
    expect(rows.map((row) => row.id)).toEqual(['1500000000000000001']);
    expect(rejectedElements).toEqual([
      { index: 1, reason: 'data[1]: unusable created_at (got "tuesday")' },
      { index: 2, reason: 'data[2] is not a v2 tweet' },
    ]);
  });

  it('counts every bad element but keeps the reasons of the first few only', () => {
    const page = cleanV2Page({ data: [...Array.from({ length: 10_000 }, () => ({})), { id: '1500000000000000001', text: 'fine', created_at: '2022-03-05T10:00:00Z' }] });
    expect(page.rows.map((row) => row.id)).toEqual(['1500000000000000001']);
    expect(page).toMatchObject({ elements: 10_001, rejectedCount: 10_000 });
    expect(page.rejectedElements).toEqual([
      { index: 0, reason: 'data[0] is not a v2 tweet' },
      { index: 1, reason: 'data[1] is not a v2 tweet' },
      { index: 2, reason: 'data[2] is not a v2 tweet' },
    ]);
  });
});

describe('cleanV2Tweet', () => {
  it('maps a bare v2 tweet without screen names', () => {
    const cleaned = cleanV2Tweet({
      id: '1500000000000000001',
      text: 'RT @someone: kept as is',
      author_id: '11',
      created_at: '2022-03-05T10:00:00+01:00',
      referenced_tweets: [{ type: 'retweeted', id: '1400000000000000001' }],
    });
    expect(cleaned).toEqual({
      ok: true,
      rows: [
        {
          id: '1500000000000000001',
          createdAt: '2022-03-05T09:00:00.000Z',
          userId: '11',
          userScreenName: null,
          text: 'RT @someone: kept as is',
          lang: null,
          retweetedId: '1400000000000000001',
          quotedId: null,
          inReplyToId: null,
          hashtags: [],
          mentions: [],
          urls: [],
        },
      ],
    });
  });

  it('rejects a v2 tweet whose created_at is present but unusable, or whose id is not an id', () => {
    expect(cleanV2Tweet({ id: '15', text: 'x', created_at: null })).toEqual({
      ok: false,
      reason: 'unusable created_at (got null)',
    });
    expect(cleanV2Tweet({ id: 'x1', text: 'x' })).toEqual({
      ok: false,
      reason: 'missing or invalid id (got "x1")',
    });
    // Absent created_at and a pre-snowflake id: no way to date it.
    expect(cleanV2Tweet({ id: '15', text: 'x' })).toEqual({ ok: false, reason: 'unusable created_at (absent)' });
  });
});

describe('cleanDeletion', () => {
  it('maps a delete notice to a deletion row', () => {
    expect(
      cleanDeletion({
        delete: {
          status: { id: 1, id_str: '972472958596866048', user_id: 2, user_id_str: '395453797' },
          timestamp_ms: '1520690595660',
        },
      }),
    ).toEqual({
      ok: true,
      deletion: { id: '972472958596866048', userId: '395453797', deletedAt: '2018-03-10T14:03:15.660Z' },
    });
  });

  it('leaves deleted_at and user_id null when absent', () => {
    expect(cleanDeletion({ delete: { status: { id_str: '5' } } })).toEqual({
      ok: true,
      deletion: { id: '5', userId: null, deletedAt: null },
    });
  });

  it('rejects a notice without a status id', () => {
    expect(cleanDeletion({ delete: { status: { id: 5 } } })).toEqual({
      ok: false,
      reason: 'delete notice without a valid status.id_str',
    });
  });
});

describe('cleanV1Tweet on the real 2018 streaming sample', () => {
  const lines = gunzipSync(readFileSync(REAL_SAMPLE))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');

  /** A JSON string value read straight from the raw text, not through the parsed object. */
  function rawStringField(line: string, key: string): string[] {
    const pattern = new RegExp(`"${key}":\\s*("(?:[^"\\\\]|\\\\.)*")`, 'g');
    return [...line.matchAll(pattern)].map((match) => JSON.parse(match[1]) as string);
  }

  it('reads all 72 tweets', () => {
    expect(lines).toHaveLength(72);
  });

  it('keeps every id exactly as its raw digits', () => {
    let roundedByJsonNumbers = 0;
    for (const line of lines) {
      const tweet = JSON.parse(line) as JsonObject;
      const [row] = rowsOf(tweet);
      // The raw JSON holds the id twice: as id_str and as a bare number with the same digits.
      expect(line).toContain(`"id_str": "${row.id}"`);
      expect(line).toContain(`"id": ${row.id},`);
      if (String(tweet.id) !== row.id) {
        roundedByJsonNumbers++;
      }
    }
    // The trap is real for this sample: the numbers lose digits.
    expect(roundedByJsonNumbers).toBeGreaterThan(60);
  });

  it('gives every tweet its extended full text, never the truncated one', () => {
    for (const line of lines) {
      const [row] = rowsOf(JSON.parse(line) as JsonObject);
      // Checked twice: against the full_text strings read from the raw line, and against the
      // parsed object's own extended_tweet.
      const parsed = JSON.parse(line) as { extended_tweet: { full_text: string }; text: string };
      expect(rawStringField(line, 'full_text')).toContain(row.text);
      expect(row.text).toBe(parsed.extended_tweet.full_text);
      expect(row.text).not.toBe(parsed.text);
    }
  });

  it('makes the 8 quoted originals rows of their own', () => {
    let quotes = 0;
    for (const line of lines) {
      const tweet = JSON.parse(line) as JsonObject & {
        quoted_status?: { id_str: string; text: string; extended_tweet?: { full_text: string } };
      };
      if (tweet.quoted_status === undefined) {
        continue;
      }
      quotes++;
      const rows = rowsOf(tweet);
      expect(rows).toHaveLength(2);
      expect(rows[0].quotedId).toBe(tweet.quoted_status.id_str);
      expect(rows[1].id).toBe(tweet.quoted_status.id_str);
      expect(rows[1].text).toBe(tweet.quoted_status.extended_tweet?.full_text ?? tweet.quoted_status.text);
    }
    expect(quotes).toBe(8);
  });
});
