import { describe, expect, it } from 'vitest';
import { taskOfRecords as taskOf } from '../../test/support/chunk-tasks.js';
import { decodeTweetsCopy, TweetCopyWriter } from './encode.js';
import { processChunk } from './process-chunk.js';
import { writeV1TweetCopy } from './v1-copy.js';

// The fast path must write exactly what the general path (JSON.parse, classify, clean, encode)
// writes, or nothing. Each case is checked both ways: whether the fast path took the record, and
// that processChunk's output equals the JSON.parse path's byte for byte.

/** Rows the fast path writes for one record (0: it gave the record to the general path). */
function fastRows(record: Buffer): number {
  const writer = new TweetCopyWriter();
  const rows = writeV1TweetCopy(record, 0, record.length, writer);
  if (rows === 0) expect(writer.length, 'a record given up must leave nothing written').toBe(0);
  return rows;
}

function expectSameAsGeneralPath(records: readonly Buffer[]): void {
  const fast = processChunk(taskOf(records), 'selective');
  const general = processChunk(taskOf(records), 'json-parse');
  expect(Buffer.from(fast.tweetsCopy).toString('utf8')).toBe(Buffer.from(general.tweetsCopy).toString('utf8'));
  expect(fast.counts).toEqual(general.counts);
  expect(fast.rejected).toEqual(general.rejected);
  expect(fast.deletions).toEqual(general.deletions);
}

const base = {
  created_at: 'Sat Mar 10 12:00:00 +0000 2018',
  id_str: '100',
  text: 'hello',
  lang: 'en',
  user: { id_str: '7', screen_name: 'alice' },
  entities: { hashtags: [{ text: 'h1' }], user_mentions: [{ screen_name: 'bob' }], urls: [{ url: 'https://t.co/x', expanded_url: 'https://x.com' }] },
};
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
/** A record from raw JSON text (for escapes JSON.stringify would not write). */
const raw = (text: string) => Buffer.from(text);

describe('writeV1TweetCopy (fast path)', () => {
  it.each([
    ['a plain tweet', json(base)],
    ['escapes of every kind in the text', raw(String.raw`{"id_str":"1","created_at":"Sat Mar 10 12:00:00 +0000 2018","text":"q\" b\\ s\/ \b\f\n\r\t \u00e9\u4e2d \u0000nul \u005c \u0022 \u0009","user":{"id_str":"2"}}`)],
    ['surrogate pairs and lone surrogates', raw(String.raw`{"id_str":"1","created_at":"Sat Mar 10 12:00:00 +0000 2018","text":"\ud83d\ude00 \ud83d lone-high \ude00 lone-low \ud83d\ud83d\ude00 end\ud83d","user":{"id_str":"2","screen_name":"x\ud83d"}}`)],
    ['raw UTF-8 next to escapes', raw('{"id_str":"1","created_at":"Sat Mar 10 12:00:00 +0000 2018","text":"é😀\\n中\\ud83d😀","user":{"id_str":"2"}}')],
    ['quotes, backslashes, tabs and NUL in array elements', raw(String.raw`{"id_str":"1","created_at":"Sat Mar 10 12:00:00 +0000 2018","text":"t","user":{"id_str":"2"},"entities":{"hashtags":[{"text":"a\"b"},{"text":"c\\d"},{"text":"e\tf\u0000"},{"text":""}],"user_mentions":[{"screen_name":"m\"\\"}],"urls":[{"url":"u\\"}]}}`)],
    ['a retweet, rebuilt from its original, with both rows', json({ ...base, text: 'RT @orig: trunc…', retweeted_status: { ...base, id_str: '50', text: 'short', extended_tweet: { full_text: 'the full text', entities: { hashtags: [{ text: 'ext' }], user_mentions: [{ screen_name: 'carol' }], urls: [] } }, user: { id_str: '8', screen_name: 'orig' } } })],
    ['a retweet whose original has no author: not rebuilt', json({ ...base, retweeted_status: { ...base, id_str: '50', user: { id_str: '8' } } })],
    ['a quote, by quoted_status_id_str and by quoted_status', json({ ...base, quoted_status: { ...base, id_str: '60' } })],
    ['a quote id from quoted_status_id_str first', json({ ...base, quoted_status_id_str: '61', quoted_status: { ...base, id_str: '60' } })],
    ['embedded originals repeating ids, written once', json({ ...base, retweeted_status: { ...base, id_str: '50', quoted_status: { ...base, id_str: '100' } }, quoted_status: { ...base, id_str: '50' } })],
    ['an embedded original with an unusable id or date, left out with its own originals', json({ ...base, retweeted_status: { ...base, id_str: 'x', quoted_status: { ...base, id_str: '70' } }, quoted_status: { ...base, id_str: '71', created_at: 'nope', timestamp_ms: 'nope' } })],
    ['created_at replaced by timestamp_ms, as a string and as a number', json({ ...base, created_at: 'garbage', timestamp_ms: '1520683200000', quoted_status: { ...base, id_str: '72', created_at: null, timestamp_ms: 1520683200123 } })],
    ['full_text, then extended_tweet.full_text, win over text', json({ ...base, full_text: 'full', extended_tweet: { full_text: 'extended' } })],
    ['extended_tweet entities replace entities', json({ ...base, extended_tweet: { full_text: 'x', entities: { hashtags: [{ text: 'only' }] } } })],
    ['nulls and other types read as absent', json({ ...base, lang: null, text: 5, full_text: 'f', in_reply_to_status_id_str: null, quoted_status_id_str: 12, user: { id_str: 7, screen_name: null }, entities: { hashtags: [null, 3, { text: 4 }, { text: 'ok' }], user_mentions: 'no', urls: [{ expanded_url: null, url: 'fallback' }] } })],
    ['duplicate keys: the last wins, whatever its type', raw('{"id_str":"1","created_at":"Sat Mar 10 12:00:00 +0000 2018","text":"a","text":"b","lang":"en","lang":null,"user":{"id_str":"2","screen_name":"s"},"user":{"id_str":"3"},"entities":{"hashtags":[{"text":"x","text":"y"}]},"entities":null}')],
    ['a reply, with whitespace around every token', raw(' { "id_str" : "1" , "created_at" : "Sat Mar 10 12:00:00 +0000 2018" , "text" : "a" , "in_reply_to_status_id_str" : "9" , "user" : { "id_str" : "2" } , "entities" : { "hashtags" : [ { "text" : "h" } , { } ] } } ')],
    ['an id beyond bigint, as null', json({ ...base, in_reply_to_status_id_str: '9223372036854775808', user: { id_str: '9223372036854775807' } })],
    ['ids with a leading zero, zero itself, and just below the bigint limit', json({ ...base, in_reply_to_status_id_str: '0', quoted_status_id_str: '012', user: { id_str: '9223372036854775806' }, quoted_status: { ...base, id_str: '9123372036854775899' } })],
    ['tweets sharing a created_at, then another one', json({ ...base, retweeted_status: { ...base, id_str: '50', quoted_status: { ...base, id_str: '51', created_at: 'Sun Mar 11 12:00:00 +0000 2018' } } })],
  ])('takes %s, writing what the general path writes', (_, record) => {
    expect(fastRows(record)).toBeGreaterThan(0);
    expectSameAsGeneralPath([record]);
  });

  it.each([
    ['a delete notice', json({ delete: { status: { id_str: '1', user_id_str: '2' }, timestamp_ms: '1520683200000' } })],
    ['a tweet without a user object', json({ ...base, user: null })],
    ['a tweet without any text', json({ ...base, text: undefined })],
    ['a tweet with an unusable id', json({ ...base, id_str: '12a' })],
    ['a tweet with an unusable date', json({ ...base, created_at: 'never' })],
    ['an escaped key', raw(String.raw`{"id\u005fstr":"1","created_at":"Sat Mar 10 12:00:00 +0000 2018","text":"a","user":{"id_str":"2"}}`)],
    ['invalid UTF-8 in the text', Buffer.concat([raw('{"id_str":"1","created_at":"Sat Mar 10 12:00:00 +0000 2018","text":"a'), Buffer.of(0xc3, 0x28), raw('","user":{"id_str":"2"}}')])],
    ['invalid JSON', raw('{"id_str":"1","text":"a",}')],
    ['a v2 tweet', json({ id: '1', text: 'a' })],
    ['a limit notice', json({ limit: { track: 5 } })],
    ['embedded originals nested deeper than the cleaner reads', json(Array.from({ length: 10 }).reduce<Record<string, unknown>>((inner, _, index) => ({ ...base, id_str: String(200 + index), retweeted_status: inner }), { ...base, id_str: '300' }))],
  ])('gives %s to the general path, which decides', (_, record) => {
    expect(fastRows(record)).toBe(0);
    expectSameAsGeneralPath([record]);
  });

  it('writes rows that read back as the cleaner’s, after a record given up mid-row', () => {
    const good = json({ ...base, retweeted_status: { ...base, id_str: '50', user: { id_str: '8', screen_name: 'orig' } } });
    // The embedded original's text is invalid UTF-8: found while writing its row, after the first.
    const bad = Buffer.concat([raw('{"id_str":"1","created_at":"Sat Mar 10 12:00:00 +0000 2018","text":"a","user":{"id_str":"2"},"quoted_status":{"id_str":"3","created_at":"Sat Mar 10 12:00:00 +0000 2018","text":"'), Buffer.of(0xff), raw('","user":{"id_str":"4"}}}')]);
    const writer = new TweetCopyWriter();
    expect(writeV1TweetCopy(good, 0, good.length, writer)).toBe(2);
    const before = writer.length;
    expect(writeV1TweetCopy(bad, 0, bad.length, writer)).toBe(0);
    expect(writer.length).toBe(before);
    expect(decodeTweetsCopy(writer.finish()).map((row) => row.id)).toEqual(['100', '50']);
    expectSameAsGeneralPath([good, bad, good]);
  });
});
