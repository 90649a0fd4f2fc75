import type { JsonObject } from './json-fields.js';

// A selective JSON reader for the common record: a v1.1 tweet or a delete notice. It reads the
// record's UTF-8 bytes directly (no decode of the whole line into a string first), builds only
// the fields the cleaner reads (TWEET_FIELDS below), and validates everything else without
// building it. Measured on the generated 40-file corpus (Node 20, one core): JSON.parse of the
// decoded line plus its garbage collection was ~55% of the main thread's CPU time in an inline
// ingest; see BENCHMARKS.md for what this reader saves end to end.
//
// Strictness: the reader accepts exactly the JSON grammar (RFC 8259, as JSON.parse does): every
// string escape, number, literal, bracket and comma is checked, also inside skipped values, and
// nothing but JSON whitespace may follow the value. Whenever it cannot answer — a syntax error,
// a record that is not an object — it returns undefined and the caller falls back to
// JSON.parse, which then decides (and words the rejection). Being stricter than JSON.parse is
// therefore only slower, never wrong; being more lenient would be a bug, which the fuzz test in
// selective-parse.spec.ts hunts for.
//
// Semantics kept identical to JSON.parse for the fields it builds: the last of duplicate keys
// wins; escaped keys match their unescaped names ("id\u005fstr" is id_str); strings decode
// invalid UTF-8 to U+FFFD exactly as Buffer#toString of the whole line does (the quote and
// backslash bytes are ASCII, so they never fall inside a multi-byte sequence); \u escapes may
// produce lone surrogates, as JSON.parse's do; numbers are Number() of their text. A wanted key
// whose value has an unexpected type keeps a value of the same JSON type (strings, numbers,
// booleans and null exactly; an object or array as an empty one), which is all the cleaner's
// type checks look at.

interface ObjectShape {
  readonly kind: 'object';
  readonly fields: Map<string, Shape>;
  // Wanted keys by byte length, for matching unescaped keys without making a string.
  readonly keysByLength: (readonly KeyEntry[] | undefined)[];
}
interface ArrayShape {
  readonly kind: 'array';
  readonly element: Shape;
}
type Shape = ObjectShape | ArrayShape | 'scalar';

interface KeyEntry {
  readonly name: string;
  readonly bytes: Uint8Array;
  shape: Shape;
}

function objectShape(fields: Record<string, Shape>): ObjectShape {
  const shape: ObjectShape = { kind: 'object', fields: new Map(), keysByLength: [] };
  for (const [name, field] of Object.entries(fields)) addField(shape, name, field);
  return shape;
}

function addField(shape: ObjectShape, name: string, field: Shape): void {
  shape.fields.set(name, field);
  const bytes = Buffer.from(name, 'latin1');
  (shape.keysByLength[bytes.length] as KeyEntry[] | undefined) ??= [];
  (shape.keysByLength[bytes.length] as KeyEntry[]).push({ name, bytes, shape: field });
}

const ENTITIES = objectShape({
  hashtags: { kind: 'array', element: objectShape({ text: 'scalar' }) },
  user_mentions: { kind: 'array', element: objectShape({ screen_name: 'scalar' }) },
  urls: { kind: 'array', element: objectShape({ expanded_url: 'scalar', url: 'scalar' }) },
});

/** Every field classify.ts and clean.ts read of a v1.1 tweet (and, recursively, of its embedded originals). */
const TWEET_FIELDS = objectShape({
  id_str: 'scalar',
  created_at: 'scalar',
  timestamp_ms: 'scalar',
  text: 'scalar',
  full_text: 'scalar',
  lang: 'scalar',
  quoted_status_id_str: 'scalar',
  in_reply_to_status_id_str: 'scalar',
  user: objectShape({ id_str: 'scalar', screen_name: 'scalar' }),
  extended_tweet: objectShape({ full_text: 'scalar', entities: ENTITIES }),
  entities: ENTITIES,
});
addField(TWEET_FIELDS, 'retweeted_status', TWEET_FIELDS);
addField(TWEET_FIELDS, 'quoted_status', TWEET_FIELDS);

/** A record's top level: a tweet, or a delete notice. */
const RECORD_FIELDS = objectShape({
  delete: objectShape({ status: objectShape({ id_str: 'scalar', user_id_str: 'scalar' }), timestamp_ms: 'scalar' }),
});
for (const [name, field] of TWEET_FIELDS.fields) addField(RECORD_FIELDS, name, field);

// The cleaner reads embedded originals 8 levels deep, plus one level of each; deeper wanted
// objects are validated and skipped, which also bounds this reader's recursion.
const MAX_BUILT_DEPTH = 24;

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const COLON = 0x3a;
export const COMMA = 0x2c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
export const LOWER_U = 0x75;
// The first four bytes of the literals as little-endian 32-bit words (DataView#getInt32).
const TRUE_WORD = 0x65757274; // "true"
const NULL_WORD = 0x6c6c756e; // "null"
const FALS_WORD = 0x736c6166; // "fals", then "e"

// Bytes that end the fast scan of a string's body: the quote, the backslash, control characters
// (JSON.parse refuses them raw) and, to know whether a slice needs UTF-8 decoding, bytes >= 0x80
// (2: only readString cares; the scans that skip a string stop at 1 only). One table lookup per
// byte instead of three comparisons: the selective reader over 12 corpus files 352 -> 316 ms
// together with the one-comparison whitespace test below.
export const STRING_STOP = new Uint8Array(256);
for (let byte = 0; byte < 0x20; byte++) STRING_STOP[byte] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;
for (let byte = 0x80; byte < 0x100; byte++) STRING_STOP[byte] = 2;

export const HEX_VALUE = new Int8Array(256).fill(-1);
for (let digit = 0; digit < 10; digit++) HEX_VALUE[DIGIT_0 + digit] = digit;
for (let letter = 0; letter < 6; letter++) {
  HEX_VALUE[0x41 + letter] = 10 + letter;
  HEX_VALUE[0x61 + letter] = 10 + letter;
}

const SIMPLE_ESCAPES: Readonly<Record<number, string>> = {
  [QUOTE]: '"',
  [BACKSLASH]: '\\',
  [SLASH]: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

/** Thrown (one instance, no stack) when the record is not valid JSON; caught in selectiveParseRecord. */
export const SYNTAX_ERROR = Object.freeze({ syntaxError: true });

export class SelectiveReader {
  protected bytes: Buffer = Buffer.alloc(0);
  // The same bytes, read four at a time (skipPlainWords).
  protected words: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  // The record's bytes as a one-byte string (one native copy per record): an ASCII string
  // without escapes is then a slice of it, built inside V8 instead of a native call per string
  // (Buffer#toString per string measured ~90 ns each, a quarter of this reader's time).
  private latin1 = '';
  private latin1Start = 0;
  protected position = 0;
  protected end = 0;
  // Open containers of a skipped value: 1 = object, 2 = array. Grows on demand (JSON.parse
  // has no depth limit, so neither may the validation).
  private stack = new Uint8Array(256);

  read(bytes: Buffer, start: number, end: number): JsonObject | undefined {
    this.setBytes(bytes);
    this.position = start;
    this.end = end;
    this.latin1 = bytes.toString('latin1', start, end);
    this.latin1Start = start;
    try {
      this.skipWhitespace();
      if (this.position >= end || bytes[this.position] !== OPEN_BRACE) return undefined;
      const value = this.readObject(RECORD_FIELDS, 0);
      this.skipWhitespace();
      return this.position === end ? value : undefined;
    } catch (error) {
      if (error === SYNTAX_ERROR) return undefined;
      throw error;
    }
  }

  /** The record's buffer (a chunk task's bytes: many records share one). */
  protected setBytes(bytes: Buffer): void {
    if (this.bytes === bytes) return;
    this.bytes = bytes;
    this.words = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * From `position` inside a string's body, skips whole 4-byte words that hold no quote, no
   * backslash and no control character; returns where the byte-by-byte scan must go on. The
   * scans below then look at each byte only near the end of a string or an escape. Measured
   * with bench/parse-cost.ts over 20 corpus files (bundled by esbuild; old and new run at the
   * same time, 6 pairs, medians), together with the word comparison of literals below: 829 ms
   * before, 776 ms after. Stopping at bytes >= 0x80 as well, for the strings the reader keeps
   * (readStringOrNone), was 2-3% slower: those strings are short.
   */
  protected skipPlainWords(position: number, end: number): number {
    const words = this.words;
    while (position + 4 <= end) {
      const word = words.getInt32(position, true);
      const quote = word ^ 0x22222222;
      const backslash = word ^ 0x5c5c5c5c;
      // Per byte: (x - 1) & ~x has the high bit set where x is 0, (x - 0x20) & ~x where x < 0x20
      // (exact for the question "is there any"; which byte it is, the byte loop finds out).
      const stops =
        ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash) | ((word - 0x20202020) & ~word);
      if ((stops & 0x80808080) !== 0) break;
      position += 4;
    }
    return position;
  }

  protected skipWhitespace(): void {
    const bytes = this.bytes;
    let position = this.position;
    while (position < this.end) {
      const byte = bytes[position];
      if (byte > 0x20 || (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09)) break;
      position++;
    }
    this.position = position;
  }

  protected expect(byte: number): void {
    if (this.position >= this.end || this.bytes[this.position] !== byte) throw SYNTAX_ERROR;
    this.position++;
  }

  /** A value of the given shape: built when wanted, validated and skipped otherwise. */
  private readValue(shape: Shape, depth: number): unknown {
    if (this.position >= this.end) throw SYNTAX_ERROR;
    const byte = this.bytes[this.position];
    if (byte === QUOTE) return this.readString();
    if (byte === OPEN_BRACE) {
      if (shape !== 'scalar' && shape.kind === 'object' && depth < MAX_BUILT_DEPTH) return this.readObject(shape, depth + 1);
      this.skipValue();
      return {};
    }
    if (byte === OPEN_BRACKET) {
      if (shape !== 'scalar' && shape.kind === 'array' && depth < MAX_BUILT_DEPTH) return this.readArray(shape, depth + 1);
      this.skipValue();
      return [];
    }
    return this.readScalar();
  }

  private readObject(shape: ObjectShape, depth: number): JsonObject {
    const bytes = this.bytes;
    const object: Record<string, unknown> = {};
    this.position++; // {
    this.skipWhitespace();
    if (this.position < this.end && bytes[this.position] === CLOSE_BRACE) {
      this.position++;
      return object;
    }
    do {
      const entry = this.readKey(shape);
      this.skipColon();
      if (entry === undefined) this.skipValue();
      // Assignment in order: the last of duplicate keys wins, as with JSON.parse.
      else object[entry.name] = this.readValue(entry.shape, depth);
    } while (this.nextMember());
    return object;
  }

  /** After a key: the colon and the whitespace around it. */
  protected skipColon(): void {
    this.skipWhitespace();
    this.expect(COLON);
    this.skipWhitespace();
  }

  /** After a member's value: true at a `,` (the position then on the next key), false past the closing `}`. */
  protected nextMember(): boolean {
    return this.nextItem(CLOSE_BRACE);
  }

  /** After an element: true at a `,` (the position then on the next element), false past the closing `]`. */
  protected nextElement(): boolean {
    return this.nextItem(CLOSE_BRACKET);
  }

  private nextItem(close: number): boolean {
    this.skipWhitespace();
    if (this.position >= this.end) throw SYNTAX_ERROR;
    const next = this.bytes[this.position++];
    if (next === close) return false;
    if (next !== COMMA) throw SYNTAX_ERROR;
    this.skipWhitespace();
    return true;
  }

  private readArray(shape: ArrayShape, depth: number): unknown[] {
    const bytes = this.bytes;
    const array: unknown[] = [];
    this.position++; // [
    this.skipWhitespace();
    if (this.position < this.end && bytes[this.position] === CLOSE_BRACKET) {
      this.position++;
      return array;
    }
    do {
      array.push(this.readValue(shape.element, depth));
    } while (this.nextElement());
    return array;
  }

  /** The wanted field this key names, or undefined; the position ends after the closing quote. */
  private readKey(shape: ObjectShape): { name: string; shape: Shape } | undefined {
    if (this.position >= this.end || this.bytes[this.position] !== QUOTE) throw SYNTAX_ERROR;
    const start = this.position + 1;
    const stop = this.scanPlainString(start);
    if (this.bytes[stop] === QUOTE) {
      // No escape: compare bytes with the wanted keys of this length.
      this.position = stop + 1;
      const candidates = shape.keysByLength[stop - start];
      if (candidates === undefined) return undefined;
      const bytes = this.bytes;
      const length = stop - start;
      for (let index = 0; index < candidates.length; index++) {
        const candidate = candidates[index];
        const wanted = candidate.bytes;
        let offset = 0;
        while (offset < length && bytes[start + offset] === wanted[offset]) offset++;
        if (offset === length) return candidate;
      }
      return undefined;
    }
    // Escapes in the key: decode it and look it up by name.
    this.position = start - 1;
    const name = this.readString();
    const field = shape.fields.get(name);
    return field === undefined ? undefined : { name, shape: field };
  }

  /** From `start`, the first byte that is a quote, a backslash or a control character (or end). */
  protected scanPlainString(start: number): number {
    const bytes = this.bytes;
    const end = this.end;
    let position = this.skipPlainWords(start, end);
    while (position < end) {
      const byte = bytes[position];
      if (STRING_STOP[byte] === 1) break;
      position++;
    }
    if (position >= end) throw SYNTAX_ERROR;
    return position;
  }

  private readString(): string {
    const bytes = this.bytes;
    const end = this.end;
    let position = this.position + 1;
    let segmentStart = position;
    let ascii = true;
    let text = '';
    for (;;) {
      if (position >= end) throw SYNTAX_ERROR;
      const byte = bytes[position];
      const stop = STRING_STOP[byte];
      if (stop === 0) {
        position++;
        continue;
      }
      if (stop === 2) {
        ascii = false;
        position++;
        continue;
      }
      if (byte === QUOTE) {
        this.position = position + 1;
        if (segmentStart === position) return text;
        const segment = ascii
          ? this.latin1.slice(segmentStart - this.latin1Start, position - this.latin1Start)
          : bytes.toString('utf8', segmentStart, position);
        return text === '' ? segment : text + segment;
      }
      if (byte !== BACKSLASH) throw SYNTAX_ERROR; // a raw control character
      if (segmentStart < position) {
        text += ascii
          ? this.latin1.slice(segmentStart - this.latin1Start, position - this.latin1Start)
          : bytes.toString('utf8', segmentStart, position);
      }
      ascii = true;
      position = this.readEscape(position + 1);
      text += this.escaped;
      segmentStart = position;
    }
  }

  private escaped = '';

  /** Reads the escape after a backslash into `escaped`; returns the position after it. */
  private readEscape(position: number): number {
    if (position >= this.end) throw SYNTAX_ERROR;
    const byte = this.bytes[position];
    if (byte === LOWER_U) {
      if (position + 4 >= this.end) throw SYNTAX_ERROR;
      let code = 0;
      for (let index = 1; index <= 4; index++) {
        const digit = HEX_VALUE[this.bytes[position + index]];
        if (digit < 0) throw SYNTAX_ERROR;
        code = code * 16 + digit;
      }
      this.escaped = String.fromCharCode(code);
      return position + 5;
    }
    const simple = SIMPLE_ESCAPES[byte];
    if (simple === undefined) throw SYNTAX_ERROR;
    this.escaped = simple;
    return position + 1;
  }

  /** Validates a string without building it; returns the position after its closing quote. */
  protected skipString(position: number): number {
    const bytes = this.bytes;
    const end = this.end;
    position++; // opening quote
    for (;;) {
      position = this.skipPlainWords(position, end);
      let byte = 0;
      while (position < end) {
        byte = bytes[position];
        if (STRING_STOP[byte] === 1) break;
        position++;
      }
      if (position >= end) throw SYNTAX_ERROR;
      if (byte === QUOTE) return position + 1;
      if (byte !== BACKSLASH) throw SYNTAX_ERROR;
      position = this.skipEscape(position + 1);
    }
  }

  /** Validates the escape after a backslash (at `position`); returns the position after it. */
  protected skipEscape(position: number): number {
    const bytes = this.bytes;
    if (position >= this.end) throw SYNTAX_ERROR;
    const escape = bytes[position];
    if (escape === LOWER_U) {
      if (position + 4 >= this.end) throw SYNTAX_ERROR;
      // HEX_VALUE is -1 for a non-digit: one test for the four.
      const digits = HEX_VALUE[bytes[position + 1]] | HEX_VALUE[bytes[position + 2]] | HEX_VALUE[bytes[position + 3]] | HEX_VALUE[bytes[position + 4]];
      if (digits < 0) throw SYNTAX_ERROR;
      return position + 5;
    }
    if (SIMPLE_ESCAPES[escape] === undefined) throw SYNTAX_ERROR;
    return position + 1;
  }

  /** A number, true, false or null. */
  private readScalar(): unknown {
    const bytes = this.bytes;
    const start = this.position;
    const byte = bytes[start];
    if (byte === 0x74 || byte === 0x66 || byte === 0x6e) {
      this.position = this.skipLiteral(start);
      return byte === 0x6e ? null : byte === 0x74;
    }
    this.position = this.skipNumber(start);
    return Number(this.latin1.slice(start - this.latin1Start, this.position - this.latin1Start));
  }

  /**
   * `true`, `false` or `null` at `position` (whose first byte is t, f or n); returns the
   * position after it. One comparison of the first four bytes as a word.
   */
  private skipLiteral(position: number): number {
    if (position + 4 > this.end) throw SYNTAX_ERROR;
    const word = this.words.getInt32(position, true);
    if (word === TRUE_WORD || word === NULL_WORD) return position + 4;
    if (word !== FALS_WORD || position + 5 > this.end || this.bytes[position + 4] !== LOWER_E) throw SYNTAX_ERROR;
    return position + 5;
  }

  /** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? ; returns the position after it. */
  protected skipNumber(position: number): number {
    const bytes = this.bytes;
    const end = this.end;
    if (position < end && bytes[position] === MINUS) position++;
    if (position >= end) throw SYNTAX_ERROR;
    if (bytes[position] === DIGIT_0) {
      position++;
    } else if (bytes[position] >= DIGIT_1 && bytes[position] <= DIGIT_9) {
      position++;
      while (position < end && bytes[position] >= DIGIT_0 && bytes[position] <= DIGIT_9) position++;
    } else {
      throw SYNTAX_ERROR;
    }
    if (position < end && bytes[position] === DOT) {
      position++;
      const digitsStart = position;
      while (position < end && bytes[position] >= DIGIT_0 && bytes[position] <= DIGIT_9) position++;
      if (position === digitsStart) throw SYNTAX_ERROR;
    }
    if (position < end && (bytes[position] === LOWER_E || bytes[position] === UPPER_E)) {
      position++;
      if (position < end && (bytes[position] === PLUS || bytes[position] === MINUS)) position++;
      const digitsStart = position;
      while (position < end && bytes[position] >= DIGIT_0 && bytes[position] <= DIGIT_9) position++;
      if (position === digitsStart) throw SYNTAX_ERROR;
    }
    return position;
  }

  /**
   * Validates one value of any depth without building it, iteratively (a stack of open
   * containers, not recursion: JSON.parse accepts any depth, so must this).
   */
  protected skipValue(): void {
    const bytes = this.bytes;
    const end = this.end;
    let depth = 0;
    let position = this.position;
    for (;;) {
      // Expecting a value.
      while (position < end && isWhitespace(bytes[position])) position++;
      if (position >= end) throw SYNTAX_ERROR;
      const byte = bytes[position];
      if (byte === QUOTE) {
        position = this.skipString(position);
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        position++;
        while (position < end && isWhitespace(bytes[position])) position++;
        if (position < end && bytes[position] === (byte === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET)) {
          position++;
        } else {
          if (depth === this.stack.length) {
            const grown = new Uint8Array(this.stack.length * 2);
            grown.set(this.stack);
            this.stack = grown;
          }
          this.stack[depth++] = byte === OPEN_BRACE ? 1 : 2;
          if (byte === OPEN_BRACE) position = this.skipKeyAndColon(position);
          continue;
        }
      } else if (byte === 0x74 || byte === 0x66 || byte === 0x6e) {
        position = this.skipLiteral(position);
      } else {
        position = this.skipNumber(position);
      }
      // After a value: close containers, or a comma and the next member.
      for (;;) {
        if (depth === 0) {
          this.position = position;
          return;
        }
        while (position < end && isWhitespace(bytes[position])) position++;
        if (position >= end) throw SYNTAX_ERROR;
        const next = bytes[position++];
        const container = this.stack[depth - 1];
        if (next === COMMA) {
          if (container === 1) position = this.skipKeyAndColon(position);
          break;
        }
        if (next !== (container === 1 ? CLOSE_BRACE : CLOSE_BRACKET)) throw SYNTAX_ERROR;
        depth--;
      }
    }
  }

  private skipKeyAndColon(position: number): number {
    const bytes = this.bytes;
    const end = this.end;
    while (position < end && isWhitespace(bytes[position])) position++;
    if (position >= end || bytes[position] !== QUOTE) throw SYNTAX_ERROR;
    position = this.skipString(position);
    while (position < end && isWhitespace(bytes[position])) position++;
    if (position >= end || bytes[position] !== COLON) throw SYNTAX_ERROR;
    return position + 1;
  }
}

function isWhitespace(byte: number): boolean {
  // Most bytes are above 0x20: one comparison decides.
  return byte <= 0x20 && (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09);
}

const reader = new SelectiveReader();

/**
 * The record in bytes[start, end) as an object holding only the fields a v1.1 tweet or a
 * delete notice is cleaned from, or undefined when this reader cannot answer (not valid JSON,
 * not an object): the caller then uses JSON.parse.
 */
export function selectiveParseRecord(bytes: Buffer, start: number, end: number): JsonObject | undefined {
  return reader.read(bytes, start, end);
}
