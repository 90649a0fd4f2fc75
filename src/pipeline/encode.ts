import { TWEET_COPY_COLUMNS, type TweetRow } from './pipeline.types.js';

// PostgreSQL COPY text format (the default of COPY … FROM STDIN): one line per row, fields
// separated by tabs, `\N` for NULL, and backslash, tab, line feed and carriage return written
// as `\\`, `\t`, `\n`, `\r`. Every other character stands for itself.

type TweetCopyColumn = (typeof TWEET_COPY_COLUMNS)[number];

const NULL_FIELD = '\\N';
const COPY_SPECIAL_CHARACTER = /[\\\t\n\r]/;
const COPY_SPECIAL_CHARACTERS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};
const ARRAY_ELEMENT_SPECIAL_CHARACTERS = /["\\]/g;

// One entry per column: the encoder walks TWEET_COPY_COLUMNS, so the field order is the
// column order by construction, and a column without a value does not type-check.
const COLUMN_VALUES: Readonly<Record<TweetCopyColumn, (row: TweetRow) => string | null>> = {
  id: (row) => row.id,
  created_at: (row) => row.createdAt,
  user_id: (row) => row.userId,
  user_screen_name: (row) => row.userScreenName,
  text: (row) => row.text,
  lang: (row) => row.lang,
  retweeted_id: (row) => row.retweetedId,
  quoted_id: (row) => row.quotedId,
  in_reply_to_id: (row) => row.inReplyToId,
  hashtags: (row) => postgresArrayLiteral(row.hashtags),
  mentions: (row) => postgresArrayLiteral(row.mentions),
  urls: (row) => postgresArrayLiteral(row.urls),
};
const COLUMN_VALUE_LIST = TWEET_COPY_COLUMNS.map((column) => COLUMN_VALUES[column]);

const utf8Encoder = new TextEncoder();

/**
 * Tweet rows as COPY text, columns in TWEET_COPY_COLUMNS order, UTF-8. The result owns its
 * ArrayBuffer (TextEncoder never hands out a slice of a shared pool, unlike Buffer.from), so it
 * can be transferred from a worker. Lone surrogates become U+FFFD, never invalid UTF-8.
 */
export function encodeTweetsCopy(rows: readonly TweetRow[]): Uint8Array {
  let text = '';
  for (const row of rows) {
    for (let column = 0; column < COLUMN_VALUE_LIST.length; column++) {
      if (column > 0) {
        text += '\t';
      }
      text += copyField(COLUMN_VALUE_LIST[column](row));
    }
    text += '\n';
  }
  return utf8Encoder.encode(text);
}

/** One field of a COPY text row. */
export function copyField(value: string | null): string {
  if (value === null) {
    return NULL_FIELD;
  }
  return COPY_SPECIAL_CHARACTER.test(value)
    ? value.replace(COPY_SPECIAL_CHARACTERS, (character) => COPY_ESCAPES[character])
    : value;
}

/** A PostgreSQL array literal of text: `{"a","b"}`, every element quoted, `"` and `\` escaped. */
export function postgresArrayLiteral(values: readonly string[]): string {
  if (values.length === 0) {
    return '{}';
  }
  let literal = '{';
  for (let index = 0; index < values.length; index++) {
    if (index > 0) {
      literal += ',';
    }
    literal += `"${values[index].replace(ARRAY_ELEMENT_SPECIAL_CHARACTERS, '\\$&')}"`;
  }
  return `${literal}}`;
}

/**
 * The inverse of encodeTweetsCopy, for tests and debugging: reads back exactly what PostgreSQL
 * would read (only the escapes and array literals the encoder writes).
 */
export function decodeTweetsCopy(bytes: Uint8Array): TweetRow[] {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split('\n');
  if (lines.at(-1) === '') {
    lines.pop();
  }
  return lines.map((line, lineIndex) => {
    const fields = line.split('\t').map(readCopyField);
    if (fields.length !== TWEET_COPY_COLUMNS.length) {
      throw new Error(`COPY line ${lineIndex + 1} has ${fields.length} fields`);
    }
    const value = (column: TweetCopyColumn): string | null =>
      fields[TWEET_COPY_COLUMNS.indexOf(column)];
    const required = (column: TweetCopyColumn): string => {
      const field = value(column);
      if (field === null) {
        throw new Error(`COPY line ${lineIndex + 1}: ${column} is NULL`);
      }
      return field;
    };
    return {
      id: required('id'),
      createdAt: required('created_at'),
      userId: value('user_id'),
      userScreenName: value('user_screen_name'),
      text: required('text'),
      lang: value('lang'),
      retweetedId: value('retweeted_id'),
      quotedId: value('quoted_id'),
      inReplyToId: value('in_reply_to_id'),
      hashtags: readArrayLiteral(required('hashtags')),
      mentions: readArrayLiteral(required('mentions')),
      urls: readArrayLiteral(required('urls')),
    };
  });
}

function readCopyField(field: string): string | null {
  if (field === NULL_FIELD) {
    return null;
  }
  return field.replace(/\\(.)/g, (_, escaped: string) =>
    escaped === 't' ? '\t' : escaped === 'n' ? '\n' : escaped === 'r' ? '\r' : escaped,
  );
}

function readArrayLiteral(literal: string): string[] {
  if (!literal.startsWith('{') || !literal.endsWith('}')) {
    throw new Error(`not an array literal: ${literal}`);
  }
  const elements: string[] = [];
  const body = literal.slice(1, -1);
  let position = 0;
  while (position < body.length) {
    if (body[position] !== '"') {
      throw new Error(`unquoted array element in ${literal}`);
    }
    let element = '';
    position++;
    while (body[position] !== '"') {
      if (position >= body.length) {
        throw new Error(`unterminated array element in ${literal}`);
      }
      if (body[position] === '\\') {
        position++;
      }
      element += body[position];
      position++;
    }
    elements.push(element);
    position++; // closing quote
    if (position < body.length) {
      if (body[position] !== ',') {
        throw new Error(`expected , in ${literal}`);
      }
      position++;
    }
  }
  return elements;
}
