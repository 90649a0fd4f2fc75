import { describe, expect, it } from 'vitest';
import { copyField, decodeTweetsCopy, encodeTweetsCopy, postgresArrayLiteral } from './encode.js';
import { TWEET_COPY_COLUMNS, type TweetRow } from './pipeline.types.js';

function row(fields: Partial<TweetRow> = {}): TweetRow {
  return {
    id: '972472958596866048',
    createdAt: '2018-03-10T12:00:00.000Z',
    userId: '1001',
    userScreenName: 'alice',
    text: 'hello',
    lang: 'en',
    retweetedId: null,
    quotedId: null,
    inReplyToId: null,
    hashtags: [],
    mentions: [],
    urls: [],
    ...fields,
  };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

describe('copyField', () => {
  it('writes NULL as \\N and escapes backslash, tab, newline and carriage return', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('plain')).toBe('plain');
    expect(copyField('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
    // The two characters backslash-N are data, not NULL.
    expect(copyField('\\N')).toBe('\\\\N');
  });
});

describe('postgresArrayLiteral', () => {
  it('quotes every element and escapes quotes and backslashes inside', () => {
    expect(postgresArrayLiteral([])).toBe('{}');
    expect(postgresArrayLiteral(['a', 'b'])).toBe('{"a","b"}');
    expect(postgresArrayLiteral(['say "hi"', 'back\\slash', 'comma,{brace}', '', 'NULL', ' spaced '])).toBe(
      '{"say \\"hi\\"","back\\\\slash","comma,{brace}","","NULL"," spaced "}',
    );
  });
});

describe('encodeTweetsCopy', () => {
  it('writes one tab-separated line per row, columns in TWEET_COPY_COLUMNS order', () => {
    const bytes = encodeTweetsCopy([
      row({
        retweetedId: '1',
        quotedId: '2',
        inReplyToId: '3',
        hashtags: ['h'],
        mentions: ['m1', 'm2'],
        urls: ['https://u'],
      }),
    ]);
    expect(decoder.decode(bytes)).toBe(
      [
        '972472958596866048',
        '2018-03-10T12:00:00.000Z',
        '1001',
        'alice',
        'hello',
        'en',
        '1',
        '2',
        '3',
        '{"h"}',
        '{"m1","m2"}',
        '{"https://u"}',
      ].join('\t') + '\n',
    );
    expect(TWEET_COPY_COLUMNS).toEqual([
      'id',
      'created_at',
      'user_id',
      'user_screen_name',
      'text',
      'lang',
      'retweeted_id',
      'quoted_id',
      'in_reply_to_id',
      'hashtags',
      'mentions',
      'urls',
    ]);
  });

  it('writes nulls as \\N', () => {
    const text = decoder.decode(encodeTweetsCopy([row({ userId: null, userScreenName: null, lang: null })]));
    expect(text.split('\t').slice(2, 9)).toEqual(['\\N', '\\N', 'hello', '\\N', '\\N', '\\N', '\\N']);
  });

  it('escapes array literals for COPY after quoting their elements', () => {
    const text = decoder.decode(encodeTweetsCopy([row({ hashtags: ['a\\b', 'c"d', 'e\tf'] })]));
    // Element a\b → "a\\b" in the literal → "a\\\\b" once COPY-escaped.
    expect(text.split('\t')[9]).toBe('{"a\\\\\\\\b","c\\\\"d","e\\tf"}');
  });

  it('round-trips awkward text exactly', () => {
    const rows = [
      row({
        text: 'tab\there\nnew line\r\ncrlf \\ backslash \\N \\t literal, "quotes", {braces}, emoji 😀, 日本語, RTL مرحبا',
        userScreenName: '\\',
        hashtags: ['"', '\\', '', ',', '{}', 'NULL', '\n'],
        mentions: ['a b'],
        urls: ['https://example.com/?q="x"&y=\\z'],
      }),
      row({ id: '1', text: '' }),
    ];
    expect(decodeTweetsCopy(encodeTweetsCopy(rows))).toEqual(rows);
  });

  it('never writes invalid UTF-8: a lone surrogate becomes U+FFFD', () => {
    const bytes = encodeTweetsCopy([row({ text: 'a\uD800b\uDFFFc' })]);
    const text = decoder.decode(bytes); // fatal: throws on invalid UTF-8
    expect(text.split('\t')[4]).toBe('a\uFFFDb\uFFFDc');
    expect(Buffer.from(bytes).includes(Buffer.from([0xef, 0xbf, 0xbd]))).toBe(true);
  });

  it('drops NUL characters from every text field and array element (PostgreSQL text cannot hold them)', () => {
    const text = decoder.decode(
      encodeTweetsCopy([
        row({
          text: 'nul\u0000 inside',
          lang: 'e\u0000n',
          userScreenName: 'al\u0000ice',
          // x" → x\" in the literal → x\\" once COPY-escaped.
          hashtags: ['ta\u0000g', 'x"\u0000'],
          mentions: ['b\u0000ob'],
          urls: ['https://x\u0000.com'],
        }),
      ]),
    );
    expect(text).not.toContain('\u0000');
    expect(text.split('\t').slice(3, 6)).toEqual(['alice', 'nul inside', 'en']);
    expect(text.split('\t').slice(9)).toEqual(['{"tag","x\\\\""}', '{"bob"}', '{"https://x.com"}\n']);
  });

  it('encodes many rows of multi-byte text exactly, growing its output as it goes', () => {
    const rows = Array.from({ length: 3000 }, (_, index) =>
      row({ id: String(index + 1), text: `${'日本語 😀 '.repeat(index % 40)}\t${index}`, hashtags: [`h${index}`] }),
    );
    const bytes = encodeTweetsCopy(rows);
    expect(bytes.byteLength).toBeGreaterThan(64 * 1024);
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
    expect(decodeTweetsCopy(bytes)).toEqual(rows);
  });

  it('returns bytes that own their whole ArrayBuffer (safe to transfer), empty for no rows', () => {
    const small = encodeTweetsCopy([row()]);
    expect(small.buffer.byteLength).toBe(small.byteLength);
    expect(small.byteOffset).toBe(0);
    expect(encodeTweetsCopy([]).byteLength).toBe(0);
  });
});
