import { TWEET_COPY_COLUMNS, type TweetRow } from './pipeline.types.js';

// PostgreSQL COPY text format (the default of COPY … FROM STDIN): one line per row, fields
// separated by tabs, `\N` for NULL, and backslash, tab, line feed and carriage return written
// as `\\`, `\t`, `\n`, `\r`. Every other character stands for itself, except U+0000, which
// PostgreSQL text cannot hold at all: it is dropped here (it carries no meaning in a tweet).

type TweetCopyColumn = (typeof TWEET_COPY_COLUMNS)[number];

const NULL_FIELD = '\\N';
const COPY_SPECIAL_CHARACTER = /[\\\t\n\r\u0000]/;
const COPY_SPECIAL_CHARACTERS = /[\\\t\n\r\u0000]/g;
const COPY_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\u0000': '',
};
const ARRAY_ELEMENT_SPECIAL_CHARACTERS = /["\\]/g;

// One entry per column, each returning the field as it goes into the line: the encoder walks
// TWEET_COPY_COLUMNS, so the field order is the column order by construction, and a column
// without a value does not type-check. Ids are decimal digits and dates ISO 8601 (the cleaner
// makes them so: clean.ts), so they are written without the escaping scan; free text is scanned.
const COLUMN_FIELDS: Readonly<Record<TweetCopyColumn, (row: TweetRow) => string>> = {
  id: (row) => row.id,
  created_at: (row) => row.createdAt,
  user_id: (row) => row.userId ?? NULL_FIELD,
  user_screen_name: (row) => copyField(row.userScreenName),
  text: (row) => copyField(row.text),
  lang: (row) => copyField(row.lang),
  retweeted_id: (row) => row.retweetedId ?? NULL_FIELD,
  quoted_id: (row) => row.quotedId ?? NULL_FIELD,
  in_reply_to_id: (row) => row.inReplyToId ?? NULL_FIELD,
  hashtags: (row) => copyArrayField(row.hashtags),
  mentions: (row) => copyArrayField(row.mentions),
  urls: (row) => copyArrayField(row.urls),
};
const COLUMN_FIELD_LIST = TWEET_COPY_COLUMNS.map((column) => COLUMN_FIELDS[column]);

// A line is written into the output as soon as it is built, so no string of the whole chunk is
// ever made. Building one string and encoding it with TextEncoder took ~5 µs per row on the
// generated corpus (12 MB of COPY text from 40,300 rows in ~200 ms, Node 20); this takes ~2 µs.
// (Most v1.1 tweets do not come here at all: v1-copy.ts writes their COPY text from the bytes.)
const INITIAL_OUTPUT_BYTES = 64 * 1024;

/**
 * Accumulates tweet rows as COPY text, columns in TWEET_COPY_COLUMNS order, UTF-8. `finish()`
 * returns bytes that own their ArrayBuffer (never a slice of Buffer's shared pool), so they can
 * be transferred from a worker. Lone surrogates become U+FFFD, never invalid UTF-8.
 */
export class TweetCopyWriter {
  // Written bytes are output[0, length). Public for writers that produce COPY text bytes
  // directly (v1-copy.ts), which call reserve() before writing.
  output: Uint8Array = takeScratch();
  length = 0;
  private view = Buffer.from(this.output.buffer);

  /** One row. */
  add(row: TweetRow): void {
    let line = COLUMN_FIELD_LIST[0](row);
    for (let column = 1; column < COLUMN_FIELD_LIST.length; column++) line += '\t' + COLUMN_FIELD_LIST[column](row);
    line += '\n';
    // At most three UTF-8 bytes per UTF-16 code unit.
    this.reserve(3 * line.length);
    this.length += this.view.write(line, this.length, 'utf8');
  }

  /** Makes room for `bytes` more bytes after `length`. */
  reserve(bytes: number): void {
    if (this.length + bytes <= this.output.length) return;
    const grown = new Uint8Array(Math.max(2 * this.output.length, this.length + bytes));
    grown.set(this.output.subarray(0, this.length));
    this.output = grown;
    this.view = Buffer.from(grown.buffer);
  }

  /** The COPY text of every row added, in an exactly sized buffer of its own. */
  finish(): Uint8Array {
    // allocUnsafeSlow: a buffer of its own (transferable), not zero-filled before the copy.
    const copy = Buffer.allocUnsafeSlow(this.length);
    copy.set(this.output.subarray(0, this.length));
    scratch = this.output;
    this.output = EMPTY_OUTPUT;
    this.length = 0;
    return copy;
  }
}

// The output buffer is reused from one chunk to the next (a writer takes it and gives it back at
// finish()): allocating a fresh, zero-filled one per chunk made ~0.5 GB of ArrayBuffers for the
// generated corpus, and V8 starts a full garbage collection for every 64 MB of those.
const EMPTY_OUTPUT = new Uint8Array(0);
let scratch: Uint8Array | null = null;

function takeScratch(): Uint8Array {
  const taken = scratch ?? new Uint8Array(INITIAL_OUTPUT_BYTES);
  scratch = null;
  return taken;
}

/** Tweet rows as COPY text (see TweetCopyWriter), every text scanned for characters to escape. */
export function encodeTweetsCopy(rows: readonly TweetRow[]): Uint8Array {
  const writer = new TweetCopyWriter();
  for (const row of rows) writer.add(row);
  return writer.finish();
}

/** One text field of a COPY line: `\N` for null, special characters escaped, NUL dropped. */
export function copyField(value: string | null): string {
  if (value === null) {
    return NULL_FIELD;
  }
  return COPY_SPECIAL_CHARACTER.test(value)
    ? value.replace(COPY_SPECIAL_CHARACTERS, (character) => COPY_ESCAPES[character])
    : value;
}

/** A text[] field of a COPY line: the array literal, escaped as a COPY field. */
function copyArrayField(values: readonly string[]): string {
  return copyField(postgresArrayLiteral(values));
}

/** `"` and `\` escaped for a double-quoted array element. */
function arrayElement(value: string): string {
  return value.replace(ARRAY_ELEMENT_SPECIAL_CHARACTERS, '\\$&');
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
    literal += `"${arrayElement(values[index])}"`;
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
