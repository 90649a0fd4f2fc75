import { isUtf8 } from 'node:buffer';
import type { TweetCopyWriter } from './encode.js';
import {
  BACKSLASH,
  CLOSE_BRACE,
  CLOSE_BRACKET,
  COMMA,
  HEX_VALUE,
  LOWER_U,
  OPEN_BRACE,
  OPEN_BRACKET,
  QUOTE,
  SelectiveReader,
  STRING_STOP,
  SYNTAX_ERROR,
} from './selective-parse.js';
import { isoFromTimestampMs, parseTwitterDate } from './tweet-dates.js';

// The fast path for the common record, a v1.1 tweet: its rows go from the record's bytes
// straight into COPY text, with no object, string or row built for the text fields. Measured on
// the generated corpus (Node 20, one core): reading into objects, cleaning and encoding was ~45%
// of processChunk's time; this path does the same work for the rows it writes in about half of
// that (BENCHMARKS.md).
//
// It is a shortcut, never a second opinion: it writes rows only for records it fully
// understands, and gives up (writing nothing) on anything else — a syntax error, a delete
// notice, an escaped key, invalid UTF-8 in a string it would copy, a tweet the cleaner would
// reject, nesting deeper than the cleaner reads — so that the general path (selective reader,
// classify, clean, encode) decides. What it writes must be byte for byte what the general path
// writes: the differential tests in selective-parse.spec.ts and v1-copy.spec.ts compare the two
// on real, generated and thousands of mutated records.
//
// The semantics copied from clean.ts (v1Row, v1FullText, v1Entities, addEmbeddedV1Originals):
// a field of another JSON type than the one the cleaner reads counts as absent; the last of
// duplicate keys wins; a retweet's text is rebuilt as `RT @author: <original's full text>`;
// embedded originals follow depth first, each id once, up to MAX_EMBEDDING_DEPTH.

const NONE = -1;
// firstKey/nextKey: the object is closed.
const END = -2;
// Same bound as clean.ts: embedded originals deeper than this are not read.
const MAX_EMBEDDING_DEPTH = 8;

/** Thrown (one instance) when this path gives the record to the general path. */
const GIVE_UP = Object.freeze({ giveUp: true });

const TAB = 0x09;
const LINE_FEED = 0x0a;
const LOWER_N = 0x6e;
const LOWER_T = 0x74;
const LOWER_R = 0x72;
const LOWER_B = 0x62;
const LOWER_F = 0x66;
const SLASH = 0x2f;
const CARRIAGE_RETURN = 0x0d;

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
// PostgreSQL bigint's largest value: a 19-digit id above it is not an id (clean.ts).
const MAX_BIGINT_DIGITS = Buffer.from('9223372036854775807', 'latin1');

const NULL_FIELD = [BACKSLASH, 0x4e]; // \N
const RETWEET_PREFIX = Buffer.from('RT @', 'latin1');
const RETWEET_SEPARATOR = Buffer.from(': ', 'latin1');

/** The entity lists of one `entities` object: span ids of the strings the cleaner reads. */
interface EntitySpans {
  hashtags: number[];
  mentions: number[];
  urls: number[];
}

/** The fields of one tweet object (the record, or an embedded original), as span ids. */
class TweetSpans {
  idStr = NONE;
  createdAt = NONE;
  timestampMs = NONE;
  timestampIsNumber = false;
  text = NONE;
  fullText = NONE;
  lang = NONE;
  quotedIdStr = NONE;
  replyIdStr = NONE;
  hasUser = false;
  userIdStr = NONE;
  userScreenName = NONE;
  extendedFullText = NONE;
  extendedEntities: EntitySpans | null = null;
  entities: EntitySpans | null = null;
  retweeted: TweetSpans | null = null;
  quoted: TweetSpans | null = null;
}

/** Wanted keys of one kind of object, matched on their bytes (no string is made for a key). */
class KeyTable {
  private readonly byLength: { bytes: Buffer; code: number }[][] = [];

  constructor(keys: readonly string[]) {
    keys.forEach((key, code) => {
      const bytes = Buffer.from(key, 'latin1');
      (this.byLength[bytes.length] ??= []).push({ bytes, code });
    });
  }

  /** The code of the key in bytes[start, end), or NONE. */
  match(bytes: Buffer, start: number, end: number): number {
    const candidates = this.byLength[end - start];
    if (candidates === undefined) return NONE;
    for (const candidate of candidates) {
      const wanted = candidate.bytes;
      let offset = 0;
      while (offset < wanted.length && bytes[start + offset] === wanted[offset]) offset++;
      if (offset === wanted.length) return candidate.code;
    }
    return NONE;
  }
}

const TWEET_KEYS = new KeyTable([
  'id_str', // 0
  'created_at', // 1
  'timestamp_ms', // 2
  'text', // 3
  'full_text', // 4
  'lang', // 5
  'quoted_status_id_str', // 6
  'in_reply_to_status_id_str', // 7
  'user', // 8
  'extended_tweet', // 9
  'entities', // 10
  'retweeted_status', // 11
  'quoted_status', // 12
  'delete', // 13: a delete notice (or something odd): the general path decides
]);
const USER_KEYS = new KeyTable(['id_str', 'screen_name']);
const EXTENDED_KEYS = new KeyTable(['full_text', 'entities']);
const ENTITIES_KEYS = new KeyTable(['hashtags', 'user_mentions', 'urls']);
const HASHTAG_KEYS = new KeyTable(['text']);
const MENTION_KEYS = new KeyTable(['screen_name']);
const URL_KEYS = new KeyTable(['expanded_url', 'url']);

class V1CopyReader extends SelectiveReader {
  // Spans of JSON strings (their bodies, without the quotes) and numbers in the record.
  private spanStart = new Int32Array(256);
  private spanEnd = new Int32Array(256);
  // Bit 1: the string holds escapes; bit 2: it holds bytes >= 0x80.
  private spanFlags = new Uint8Array(256);
  private spans = 0;
  private writer!: TweetCopyWriter;

  /** Writes the record's rows; returns how many, or 0 when the general path must take it. */
  write(bytes: Buffer, start: number, end: number, writer: TweetCopyWriter): number {
    this.setBytes(bytes);
    this.position = start;
    this.end = end;
    this.spans = 0;
    this.writer = writer;
    const mark = writer.length;
    try {
      this.skipWhitespace();
      if (this.position >= end || bytes[this.position] !== OPEN_BRACE) return 0;
      const tweet = this.readTweet(0);
      this.skipWhitespace();
      if (this.position !== end || !isV1Tweet(tweet)) return 0;
      return this.writeRows(tweet);
    } catch (error) {
      if (error === SYNTAX_ERROR || error === GIVE_UP) {
        writer.length = mark;
        return 0;
      }
      throw error;
    }
  }

  // ---- reading -------------------------------------------------------------------------

  /** A tweet object; the position is on its `{`. */
  private readTweet(depth: number): TweetSpans {
    const tweet = new TweetSpans();
    for (let code = this.firstKey(TWEET_KEYS); code !== END; code = this.nextKey(TWEET_KEYS)) {
      switch (code) {
        case 0:
          tweet.idStr = this.readStringOrNone();
          break;
        case 1:
          tweet.createdAt = this.readStringOrNone();
          break;
        case 2:
          tweet.timestampIsNumber = this.isNumberAhead();
          tweet.timestampMs = tweet.timestampIsNumber ? this.readNumberSpan() : this.readStringOrNone();
          break;
        case 3:
          tweet.text = this.readStringOrNone();
          break;
        case 4:
          tweet.fullText = this.readStringOrNone();
          break;
        case 5:
          tweet.lang = this.readStringOrNone();
          break;
        case 6:
          tweet.quotedIdStr = this.readStringOrNone();
          break;
        case 7:
          tweet.replyIdStr = this.readStringOrNone();
          break;
        case 8:
          this.readUser(tweet);
          break;
        case 9:
          this.readExtendedTweet(tweet);
          break;
        case 10:
          tweet.entities = this.readEntitiesOrNull();
          break;
        case 11:
          tweet.retweeted = this.readEmbeddedOrNull(depth);
          break;
        case 12:
          tweet.quoted = this.readEmbeddedOrNull(depth);
          break;
        default:
          throw GIVE_UP; // `delete`
      }
    }
    return tweet;
  }

  /** `user` (the last one wins whole: a later `"user":null` leaves none). */
  private readUser(tweet: TweetSpans): void {
    tweet.hasUser = false;
    tweet.userIdStr = tweet.userScreenName = NONE;
    if (!this.isObjectAhead()) {
      this.skipValue();
      return;
    }
    tweet.hasUser = true;
    for (let code = this.firstKey(USER_KEYS); code !== END; code = this.nextKey(USER_KEYS)) {
      if (code === 0) tweet.userIdStr = this.readStringOrNone();
      else tweet.userScreenName = this.readStringOrNone();
    }
  }

  private readExtendedTweet(tweet: TweetSpans): void {
    tweet.extendedFullText = NONE;
    tweet.extendedEntities = null;
    if (!this.isObjectAhead()) {
      this.skipValue();
      return;
    }
    for (let code = this.firstKey(EXTENDED_KEYS); code !== END; code = this.nextKey(EXTENDED_KEYS)) {
      if (code === 0) tweet.extendedFullText = this.readStringOrNone();
      else tweet.extendedEntities = this.readEntitiesOrNull();
    }
  }

  private readEmbeddedOrNull(depth: number): TweetSpans | null {
    if (!this.isObjectAhead()) {
      this.skipValue();
      return null;
    }
    // Deeper than the cleaner reads: the general path knows what to leave out.
    if (depth >= MAX_EMBEDDING_DEPTH) throw GIVE_UP;
    return this.readTweet(depth + 1);
  }

  private readEntitiesOrNull(): EntitySpans | null {
    if (!this.isObjectAhead()) {
      this.skipValue();
      return null;
    }
    const entities: EntitySpans = { hashtags: [], mentions: [], urls: [] };
    for (let code = this.firstKey(ENTITIES_KEYS); code !== END; code = this.nextKey(ENTITIES_KEYS)) {
      if (code === 0) entities.hashtags = this.readStringsOf(HASHTAG_KEYS);
      else if (code === 1) entities.mentions = this.readStringsOf(MENTION_KEYS);
      else entities.urls = this.readStringsOf(URL_KEYS);
    }
    return entities;
  }

  /**
   * An array of objects → per object the string of its first key in `keys` that holds one
   * (readStringsOf, and expanded_url ?? url, in clean.ts). Not an array → no strings.
   */
  private readStringsOf(keys: KeyTable): number[] {
    const found: number[] = [];
    if (this.bytes[this.position] !== OPEN_BRACKET) {
      this.skipValue();
      return found;
    }
    this.position++;
    this.skipWhitespace();
    if (this.position < this.end && this.bytes[this.position] === CLOSE_BRACKET) {
      this.position++;
      return found;
    }
    for (;;) {
      if (this.isObjectAhead()) {
        let first = NONE;
        let second = NONE;
        for (let code = this.firstKey(keys); code !== END; code = this.nextKey(keys)) {
          if (code === 0) first = this.readStringOrNone();
          else second = this.readStringOrNone();
        }
        const chosen = first !== NONE ? first : second;
        if (chosen !== NONE) found.push(chosen);
      } else {
        this.skipValue();
      }
      if (!this.nextElement()) return found;
    }
  }

  /**
   * Enters the object at the position (on its `{`) and reads up to its first wanted key: returns
   * the key's code with the position on its value, or END when the object holds none. Values of
   * other keys are validated and skipped.
   */
  private firstKey(keys: KeyTable): number {
    this.position++; // {
    this.skipWhitespace();
    if (this.position < this.end && this.bytes[this.position] === CLOSE_BRACE) {
      this.position++;
      return END;
    }
    return this.wantedKey(keys);
  }

  /** After a value: the next wanted key of the object (as firstKey), or END past its `}`. */
  private nextKey(keys: KeyTable): number {
    return this.nextMember() ? this.wantedKey(keys) : END;
  }

  /** From a key: skips members until a wanted key, whose code it returns (position on the value). */
  private wantedKey(keys: KeyTable): number {
    const bytes = this.bytes;
    for (;;) {
      if (this.position >= this.end || bytes[this.position] !== QUOTE) throw SYNTAX_ERROR;
      const keyStart = this.position + 1;
      const keyEnd = this.scanPlainString(keyStart);
      if (bytes[keyEnd] !== QUOTE) throw GIVE_UP; // an escaped key
      this.position = keyEnd + 1;
      this.skipColon();
      if (this.position >= this.end) throw SYNTAX_ERROR;
      const code = keys.match(bytes, keyStart, keyEnd);
      if (code !== NONE) return code;
      this.skipValue();
      if (!this.nextMember()) return END;
    }
  }

  private isObjectAhead(): boolean {
    return this.bytes[this.position] === OPEN_BRACE;
  }

  private isNumberAhead(): boolean {
    const byte = this.bytes[this.position];
    return byte === 0x2d || (byte >= 0x30 && byte <= 0x39);
  }

  /** A string value as a span, or NONE (after validating and skipping) when the value is not a string. */
  private readStringOrNone(): number {
    const bytes = this.bytes;
    if (bytes[this.position] !== QUOTE) {
      this.skipValue();
      return NONE;
    }
    const start = this.position + 1;
    const end = this.end;
    let position = start;
    let flags = 0;
    for (;;) {
      if (position >= end) throw SYNTAX_ERROR;
      const byte = bytes[position];
      const stop = STRING_STOP[byte];
      if (stop === 0) {
        position++;
      } else if (stop === 2) {
        flags |= 2;
        position++;
      } else if (byte === QUOTE) {
        break;
      } else if (byte === BACKSLASH) {
        flags |= 1;
        position = this.skipEscape(position + 1);
      } else {
        throw SYNTAX_ERROR; // a raw control character
      }
    }
    this.position = position + 1;
    return this.addSpan(start, position, flags);
  }

  private readNumberSpan(): number {
    const start = this.position;
    this.position = this.skipNumber(start);
    return this.addSpan(start, this.position, 0);
  }

  private addSpan(start: number, end: number, flags: number): number {
    if (this.spans === this.spanStart.length) {
      const grow = <T extends Int32Array | Uint8Array>(array: T, make: (length: number) => T): T => {
        const grown = make(array.length * 2);
        grown.set(array);
        return grown;
      };
      this.spanStart = grow(this.spanStart, (length) => new Int32Array(length));
      this.spanEnd = grow(this.spanEnd, (length) => new Int32Array(length));
      this.spanFlags = grow(this.spanFlags, (length) => new Uint8Array(length));
    }
    this.spanStart[this.spans] = start;
    this.spanEnd[this.spans] = end;
    this.spanFlags[this.spans] = flags;
    return this.spans++;
  }

  // ---- writing -------------------------------------------------------------------------

  /** The tweet's row and its embedded originals' (clean.ts: cleanV1Tweet). */
  private writeRows(tweet: TweetSpans): number {
    // Rejected (no usable id or date): the general path words the dead letter.
    if (!this.isTweetIdSpan(tweet.idStr) || !this.writeRow(tweet)) throw GIVE_UP;
    if (tweet.retweeted === null && tweet.quoted === null) return 1;
    const seen = new Set([this.asciiOrNull(tweet.idStr)!]);
    return 1 + this.writeEmbedded(tweet, seen, 1);
  }

  private writeEmbedded(tweet: TweetSpans, seen: Set<string>, depth: number): number {
    if (depth > MAX_EMBEDDING_DEPTH) return 0;
    let rows = 0;
    for (const embedded of [tweet.retweeted, tweet.quoted]) {
      if (embedded === null || !this.isTweetIdSpan(embedded.idStr)) continue;
      const id = this.asciiOrNull(embedded.idStr)!;
      if (seen.has(id)) continue;
      if (!this.writeRow(embedded)) continue; // unusable created_at: left out, as clean.ts does
      seen.add(id);
      rows += 1 + this.writeEmbedded(embedded, seen, depth + 1);
    }
    return rows;
  }

  // Tweets of one stream share their created_at second often: the last one parsed is kept.
  private lastCreatedAtText = '';
  private lastCreatedAt: string | null = null;

  /** One COPY line in TWEET_COPY_COLUMNS order; false (nothing written) when created_at is unusable. */
  private writeRow(tweet: TweetSpans): boolean {
    const createdAtText = this.asciiOrNull(tweet.createdAt);
    let parsed: string | null = null;
    if (createdAtText !== null) {
      if (createdAtText !== this.lastCreatedAtText) {
        this.lastCreatedAtText = createdAtText;
        this.lastCreatedAt = parseTwitterDate(createdAtText);
      }
      parsed = this.lastCreatedAt;
    }
    const createdAt = parsed ?? isoFromTimestampMs(this.timestampValue(tweet));
    if (createdAt === null) return false;

    const retweeted = tweet.retweeted;
    const retweetedAuthor = retweeted === null ? NONE : retweeted.userScreenName;
    const rebuilt = retweeted !== null && retweetedAuthor !== NONE;
    const source = rebuilt ? retweeted : tweet;
    const entities = source.extendedEntities ?? source.entities;

    this.spanBytes(tweet.idStr);
    this.tab();
    this.ascii(createdAt);
    this.tab();
    this.idField(tweet.hasUser ? tweet.userIdStr : NONE);
    this.tab();
    this.textField(tweet.hasUser ? tweet.userScreenName : NONE);
    this.tab();
    if (rebuilt) {
      this.bytesOf(RETWEET_PREFIX);
      this.text(retweetedAuthor, false);
      this.bytesOf(RETWEET_SEPARATOR);
    }
    const fullText = fullTextOf(source);
    if (fullText !== NONE) this.text(fullText, false);
    this.tab();
    this.textField(tweet.lang);
    this.tab();
    this.idField(retweeted === null ? NONE : retweeted.idStr);
    this.tab();
    // quoted_status_id_str, else the embedded quote's id_str.
    this.idField(this.isTweetIdSpan(tweet.quotedIdStr) || tweet.quoted === null ? tweet.quotedIdStr : tweet.quoted.idStr);
    this.tab();
    this.idField(tweet.replyIdStr);
    this.tab();
    this.arrayField(entities === null ? EMPTY : entities.hashtags, NONE);
    this.tab();
    this.arrayField(entities === null ? EMPTY : entities.mentions, rebuilt ? retweetedAuthor : NONE);
    this.tab();
    this.arrayField(entities === null ? EMPTY : entities.urls, NONE);
    this.byte(LINE_FEED);
    return true;
  }

  /**
   * Whether a string span holds an id readTweetId (clean.ts) accepts: decimal digits without a
   * leading zero, within bigint. Checked on the bytes; an escaped or non-ASCII id gives up (rare).
   */
  private isTweetIdSpan(span: number): boolean {
    if (span === NONE) return false;
    if (this.spanFlags[span] !== 0) throw GIVE_UP;
    const bytes = this.bytes;
    const start = this.spanStart[span];
    const length = this.spanEnd[span] - start;
    if (length === 0 || length > MAX_BIGINT_DIGITS.length) return false;
    if (bytes[start] === DIGIT_0) return length === 1;
    for (let index = 0; index < length; index++) {
      const byte = bytes[start + index];
      if (byte < DIGIT_0 || byte > DIGIT_9) return false;
    }
    if (length < MAX_BIGINT_DIGITS.length) return true;
    for (let index = 0; index < length; index++) {
      const difference = bytes[start + index] - MAX_BIGINT_DIGITS[index];
      if (difference !== 0) return difference < 0;
    }
    return true;
  }

  /** A span's bytes as they are (ids: checked digits). */
  private spanBytes(span: number): void {
    const writer = this.writer;
    const start = this.spanStart[span];
    const end = this.spanEnd[span];
    writer.reserve(end - start);
    writer.output.set(this.bytes.subarray(start, end), writer.length);
    writer.length += end - start;
  }

  /** A short span as a string when it has neither escapes nor non-ASCII bytes (ids, dates), else null. */
  private asciiOrNull(span: number): string | null {
    if (span === NONE) return null;
    if (this.spanFlags[span] !== 0) throw GIVE_UP; // an escaped or non-ASCII id or date: rare
    return this.bytes.toString('latin1', this.spanStart[span], this.spanEnd[span]);
  }

  private timestampValue(tweet: TweetSpans): unknown {
    const text = this.asciiOrNull(tweet.timestampMs);
    if (text === null) return undefined;
    return tweet.timestampIsNumber ? Number(text) : text;
  }

  private idField(span: number): void {
    if (this.isTweetIdSpan(span)) this.spanBytes(span);
    else this.bytesOf(NULL_FIELD);
  }

  private textField(span: number): void {
    if (span === NONE) this.bytesOf(NULL_FIELD);
    else this.text(span, false);
  }

  /** `{"a","b"}`, the first element (when given) before the list's. */
  private arrayField(spans: readonly number[], first: number): void {
    if (spans.length === 0 && first === NONE) {
      this.byte(OPEN_BRACE);
      this.byte(CLOSE_BRACE);
      return;
    }
    this.byte(OPEN_BRACE);
    let separator = false;
    if (first !== NONE) {
      this.quoted(first);
      separator = true;
    }
    for (const span of spans) {
      if (separator) this.byte(COMMA);
      this.quoted(span);
      separator = true;
    }
    this.byte(CLOSE_BRACE);
  }

  private quoted(span: number): void {
    this.byte(QUOTE);
    this.text(span, true);
    this.byte(QUOTE);
  }

  /**
   * A string span's characters as COPY text: JSON escapes decoded, then what COPY escapes
   * escaped (and, inside an array literal, `"` and `\` escaped first), U+0000 dropped, lone
   * surrogates as U+FFFD — exactly what encode.ts writes for the decoded string.
   */
  private text(span: number, inArray: boolean): void {
    const bytes = this.bytes;
    const start = this.spanStart[span];
    const end = this.spanEnd[span];
    const flags = this.spanFlags[span];
    const writer = this.writer;
    // An escape of 2 bytes becomes at most 4 (\\ in an array), one of 6 at most 4 (a character
    // above U+FFFF written as a surrogate pair of escapes takes 12): twice the span's length.
    writer.reserve(2 * (end - start) + 8);
    // Escapes are ASCII and never inside a multi-byte sequence, so the raw bytes between them
    // are valid UTF-8 exactly when the whole span is.
    if ((flags & 2) !== 0 && !isUtf8(bytes.subarray(start, end))) {
      throw GIVE_UP; // invalid UTF-8: the general path writes U+FFFD as Buffer#toString does
    }
    const output = writer.output;
    let length = writer.length;
    if ((flags & 1) === 0) {
      output.set(bytes.subarray(start, end), length);
      writer.length = length + (end - start);
      return;
    }
    let position = start;
    while (position < end) {
      const byte = bytes[position];
      if (byte !== BACKSLASH) {
        output[length++] = byte;
        position++;
        continue;
      }
      const escape = bytes[position + 1];
      if (escape !== LOWER_U) {
        position += 2;
        length = writeCharacter(output, length, SIMPLE_ESCAPE[escape], inArray);
        continue;
      }
      let code = hex4(bytes, position + 2);
      position += 6;
      if (code >= 0xd800 && code <= 0xdbff) {
        const low = position + 6 <= end && bytes[position] === BACKSLASH && bytes[position + 1] === LOWER_U ? hex4(bytes, position + 2) : -1;
        if (low >= 0xdc00 && low <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          position += 6;
        } else {
          code = 0xfffd;
        }
      } else if (code >= 0xdc00 && code <= 0xdfff) {
        code = 0xfffd;
      }
      length = writeCharacter(output, length, code, inArray);
    }
    writer.length = length;
  }

  private tab(): void {
    this.byte(TAB);
  }

  private byte(value: number): void {
    const writer = this.writer;
    writer.reserve(1);
    writer.output[writer.length++] = value;
  }

  private bytesOf(values: ArrayLike<number>): void {
    const writer = this.writer;
    writer.reserve(values.length);
    for (let index = 0; index < values.length; index++) writer.output[writer.length++] = values[index];
  }

  /** An ASCII string (ids, dates). */
  private ascii(text: string): void {
    const writer = this.writer;
    writer.reserve(text.length);
    for (let index = 0; index < text.length; index++) writer.output[writer.length++] = text.charCodeAt(index);
  }
}

const EMPTY: readonly number[] = [];

// The character each one-letter escape stands for; -1 for letters that are not escapes.
const SIMPLE_ESCAPE = new Int32Array(256).fill(-1);
SIMPLE_ESCAPE[QUOTE] = 0x22;
SIMPLE_ESCAPE[BACKSLASH] = 0x5c;
SIMPLE_ESCAPE[SLASH] = 0x2f;
SIMPLE_ESCAPE[LOWER_B] = 0x08;
SIMPLE_ESCAPE[LOWER_F] = 0x0c;
SIMPLE_ESCAPE[LOWER_N] = LINE_FEED;
SIMPLE_ESCAPE[LOWER_R] = CARRIAGE_RETURN;
SIMPLE_ESCAPE[LOWER_T] = TAB;

function hex4(bytes: Buffer, position: number): number {
  return (
    (HEX_VALUE[bytes[position]] << 12) |
    (HEX_VALUE[bytes[position + 1]] << 8) |
    (HEX_VALUE[bytes[position + 2]] << 4) |
    HEX_VALUE[bytes[position + 3]]
  );
}

/** One decoded character (a code point) as COPY text bytes; returns the new length. */
function writeCharacter(output: Uint8Array, length: number, code: number, inArray: boolean): number {
  if (code < 0x80) {
    switch (code) {
      case 0:
        return length; // PostgreSQL text cannot hold U+0000
      case BACKSLASH:
        output[length++] = BACKSLASH;
        output[length++] = BACKSLASH;
        if (inArray) {
          output[length++] = BACKSLASH;
          output[length++] = BACKSLASH;
        }
        return length;
      case QUOTE:
        if (inArray) {
          output[length++] = BACKSLASH;
          output[length++] = BACKSLASH;
        }
        output[length++] = QUOTE;
        return length;
      case TAB:
        output[length++] = BACKSLASH;
        output[length++] = LOWER_T;
        return length;
      case LINE_FEED:
        output[length++] = BACKSLASH;
        output[length++] = LOWER_N;
        return length;
      case CARRIAGE_RETURN:
        output[length++] = BACKSLASH;
        output[length++] = LOWER_R;
        return length;
      default:
        output[length++] = code;
        return length;
    }
  }
  if (code < 0x800) {
    output[length++] = 0xc0 | (code >> 6);
    output[length++] = 0x80 | (code & 0x3f);
  } else if (code < 0x10000) {
    output[length++] = 0xe0 | (code >> 12);
    output[length++] = 0x80 | ((code >> 6) & 0x3f);
    output[length++] = 0x80 | (code & 0x3f);
  } else {
    output[length++] = 0xf0 | (code >> 18);
    output[length++] = 0x80 | ((code >> 12) & 0x3f);
    output[length++] = 0x80 | ((code >> 6) & 0x3f);
    output[length++] = 0x80 | (code & 0x3f);
  }
  return length;
}

/** extended_tweet.full_text, else full_text, else text (clean.ts: v1FullText). */
function fullTextOf(tweet: TweetSpans): number {
  if (tweet.extendedFullText !== NONE) return tweet.extendedFullText;
  if (tweet.fullText !== NONE) return tweet.fullText;
  return tweet.text;
}

/** classify.ts isV1Tweet: a string id_str, a user object and some text. */
function isV1Tweet(tweet: TweetSpans): boolean {
  return tweet.idStr !== NONE && tweet.hasUser && (tweet.text !== NONE || tweet.fullText !== NONE || tweet.extendedFullText !== NONE);
}

const reader = new V1CopyReader();

/**
 * Appends the COPY lines of the v1.1 tweet in bytes[start, end) (and of its embedded
 * originals) to `writer`; returns how many rows, or 0 — having written nothing — when the
 * record is anything else or anything unusual, for the general path to handle.
 */
export function writeV1TweetCopy(bytes: Buffer, start: number, end: number, writer: TweetCopyWriter): number {
  return reader.write(bytes, start, end, writer);
}
