import { isV2Tweet } from './classify.js';
import {
  isJsonObject,
  type JsonObject,
  readArray,
  readObject,
  readString,
  readStringsOf,
} from './json-fields.js';
import type { DeletionRow, TweetRow } from './pipeline.types.js';
import {
  isoFromSnowflakeId,
  isoFromTimestampMs,
  normaliseIsoDate,
  parseTwitterDate,
} from './tweet-dates.js';

export type CleanedTweets = { ok: true; rows: TweetRow[] } | { ok: false; reason: string };

export type CleanedDeletion = { ok: true; deletion: DeletionRow } | { ok: false; reason: string };

export interface CleanedV2Page {
  rows: TweetRow[];
  /** Elements in `data`. */
  elements: number;
  /** How many elements of `data` could not become rows (the others still do). */
  rejectedCount: number;
  /** The first MAX_REPORTED_REJECTED_ELEMENTS of them, with why. */
  rejectedElements: { index: number; reason: string }[];
}

// A page is one line and gets one dead letter, however many of its elements are bad: a crafted
// line of millions of `{}` elements must not become millions of reasons in memory (it took a
// worker past its heap limit: RELIABILITY.md, case 4).
export const MAX_REPORTED_REJECTED_ELEMENTS = 3;

// A retweet of a quote of a quote is three levels; deeper nesting is not real data.
const MAX_EMBEDDING_DEPTH = 8;
// How much of an unusable value a rejection reason quotes.
const QUOTED_VALUE_CHARACTERS = 64;
// PostgreSQL bigint: ids are decimal strings at most this large.
const MAX_BIGINT_TEXT = '9223372036854775807';
const DECIMAL_ID = /^(?:0|[1-9]\d{0,18})$/;

const NO_V2_INCLUDES: V2Includes = { usernames: new Map(), tweets: new Map() };

/**
 * A v1.1 tweet → its row, then one row per embedded original (`retweeted_status`,
 * `quoted_status`, recursively), each id once. Rejected when the tweet itself has no usable id
 * or created_at; an embedded original that broken is left out and the tweet still stands.
 *
 * The v1.1 fast path (v1-copy.ts) writes the same rows straight from a record's bytes: a change
 * to these rules (v1Row, v1FullText, v1Entities, addEmbeddedV1Originals) must be made there too;
 * the differential tests (selective-parse.spec.ts, v1-copy.spec.ts) fail until it is.
 */
export function cleanV1Tweet(tweet: JsonObject): CleanedTweets {
  const row = v1Row(tweet);
  if (typeof row === 'string') {
    return { ok: false, reason: row };
  }
  const rows = [row];
  addEmbeddedV1Originals(tweet, rows, new Set([row.id]), 1);
  return { ok: true, rows };
}

/** A v2 tweet on its own (no `includes`): usernames are unknown, so screen names are null. */
export function cleanV2Tweet(tweet: JsonObject): CleanedTweets {
  const row = v2Row(tweet, NO_V2_INCLUDES);
  return typeof row === 'string' ? { ok: false, reason: row } : { ok: true, rows: [row] };
}

/**
 * A v2 response page (`data` as an array or, from the filtered stream, one object) → a row per
 * tweet in `data`, then a row per tweet in `includes.tweets` (the originals of retweets, quotes
 * and replies), each id once; screen names come from `includes.users`.
 */
export function cleanV2Page(page: JsonObject): CleanedV2Page {
  const includes = readV2Includes(readObject(page, 'includes'));
  const data = Array.isArray(page.data) ? page.data : [page.data];
  const rows: TweetRow[] = [];
  const rejectedElements: CleanedV2Page['rejectedElements'] = [];
  const seen = new Set<string>();
  let rejectedCount = 0;
  const rejectElement = (index: number, reason: () => string) => {
    rejectedCount++;
    if (rejectedElements.length < MAX_REPORTED_REJECTED_ELEMENTS) rejectedElements.push({ index, reason: reason() });
  };
  data.forEach((element: unknown, index) => {
    if (!isJsonObject(element) || !isV2Tweet(element)) {
      rejectElement(index, () => `data[${index}] is not a v2 tweet`);
      return;
    }
    const row = v2Row(element, includes);
    if (typeof row === 'string') {
      rejectElement(index, () => `data[${index}]: ${row}`);
    } else if (!seen.has(row.id)) {
      seen.add(row.id);
      rows.push(row);
    }
  });
  for (const included of includes.tweets.values()) {
    const row = v2Row(included, includes);
    if (typeof row !== 'string' && !seen.has(row.id)) {
      seen.add(row.id);
      rows.push(row);
    }
  }
  return { rows, elements: data.length, rejectedCount, rejectedElements };
}

/** `{"delete":{"status":{"id_str","user_id_str"},"timestamp_ms"}}` → a deletion row. */
export function cleanDeletion(notice: JsonObject): CleanedDeletion {
  const deletion = readObject(notice, 'delete');
  const status = readObject(deletion, 'status');
  const id = readTweetId(status?.id_str);
  if (id === null) {
    return { ok: false, reason: 'delete notice without a valid status.id_str' };
  }
  return {
    ok: true,
    deletion: {
      id,
      userId: readTweetId(status?.user_id_str),
      deletedAt: isoFromTimestampMs(deletion?.timestamp_ms ?? notice.timestamp_ms),
    },
  };
}

/**
 * A tweet id as PostgreSQL bigint text, or null. Only strings: a JSON number above 2^53 has
 * already lost digits by the time JSON.parse returns it.
 */
export function readTweetId(value: unknown): string | null {
  if (typeof value !== 'string' || !DECIMAL_ID.test(value)) {
    return null;
  }
  return value.length < MAX_BIGINT_TEXT.length || value <= MAX_BIGINT_TEXT ? value : null;
}

function addEmbeddedV1Originals(
  tweet: JsonObject,
  rows: TweetRow[],
  seen: Set<string>,
  depth: number,
): void {
  if (depth > MAX_EMBEDDING_DEPTH) {
    return;
  }
  for (const embedded of [readObject(tweet, 'retweeted_status'), readObject(tweet, 'quoted_status')]) {
    if (embedded === undefined) {
      continue;
    }
    const row = v1Row(embedded);
    if (typeof row === 'string' || seen.has(row.id)) {
      continue;
    }
    seen.add(row.id);
    rows.push(row);
    addEmbeddedV1Originals(embedded, rows, seen, depth + 1);
  }
}

function v1Row(tweet: JsonObject): TweetRow | string {
  const id = readTweetId(tweet.id_str);
  if (id === null) {
    return `missing or invalid id_str${describeValue(tweet.id_str)}`;
  }
  const createdAtText = readString(tweet, 'created_at');
  const createdAt =
    (createdAtText === undefined ? null : parseTwitterDate(createdAtText)) ??
    isoFromTimestampMs(tweet.timestamp_ms);
  if (createdAt === null) {
    return `unusable created_at${describeValue(tweet.created_at)}`;
  }
  const user = readObject(tweet, 'user');
  const retweeted = readObject(tweet, 'retweeted_status');
  const retweetedAuthor = readString(readObject(retweeted, 'user'), 'screen_name');

  // A retweet's own text is truncated to 140 characters: rebuild it from the original.
  let text: string;
  let entities: JsonObject | undefined;
  let mentions: string[];
  if (retweeted !== undefined && retweetedAuthor !== undefined) {
    entities = v1Entities(retweeted);
    text = `RT @${retweetedAuthor}: ${v1FullText(retweeted)}`;
    mentions = [retweetedAuthor, ...readStringsOf(readArray(entities, 'user_mentions'), 'screen_name')];
  } else {
    entities = v1Entities(tweet);
    text = v1FullText(tweet);
    mentions = readStringsOf(readArray(entities, 'user_mentions'), 'screen_name');
  }

  return {
    id,
    createdAt,
    userId: readTweetId(user?.id_str),
    userScreenName: readString(user, 'screen_name') ?? null,
    text,
    lang: readString(tweet, 'lang') ?? null,
    retweetedId: retweeted === undefined ? null : readTweetId(retweeted.id_str),
    quotedId:
      readTweetId(tweet.quoted_status_id_str) ??
      readTweetId(readObject(tweet, 'quoted_status')?.id_str),
    inReplyToId: readTweetId(tweet.in_reply_to_status_id_str),
    hashtags: readStringsOf(readArray(entities, 'hashtags'), 'text'),
    mentions: mentions,
    urls: expandedUrls(readArray(entities, 'urls')),
  };
}

/** extended_tweet.full_text, else full_text, else text. */
function v1FullText(tweet: JsonObject): string {
  return (
    readString(readObject(tweet, 'extended_tweet'), 'full_text') ??
    readString(tweet, 'full_text') ??
    readString(tweet, 'text') ??
    ''
  );
}

/** The entities that go with the full text. */
function v1Entities(tweet: JsonObject): JsonObject | undefined {
  return readObject(readObject(tweet, 'extended_tweet'), 'entities') ?? readObject(tweet, 'entities');
}

interface V2Includes {
  usernames: Map<string, string>; // user id → username
  tweets: Map<string, JsonObject>; // tweet id → tweet
}

function readV2Includes(includes: JsonObject | undefined): V2Includes {
  if (includes === undefined) {
    return NO_V2_INCLUDES;
  }
  const usernames = new Map<string, string>();
  for (const user of readArray(includes, 'users')) {
    const id = isJsonObject(user) ? readString(user, 'id') : undefined;
    const username = isJsonObject(user) ? readString(user, 'username') : undefined;
    if (id !== undefined && username !== undefined) {
      usernames.set(id, username);
    }
  }
  const tweets = new Map<string, JsonObject>();
  for (const tweet of readArray(includes, 'tweets')) {
    const id = isJsonObject(tweet) ? readString(tweet, 'id') : undefined;
    if (isJsonObject(tweet) && id !== undefined) {
      tweets.set(id, tweet);
    }
  }
  return { usernames, tweets };
}

function v2Row(tweet: JsonObject, includes: V2Includes): TweetRow | string {
  const id = readTweetId(tweet.id);
  if (id === null) {
    return `missing or invalid id${describeValue(tweet.id)}`;
  }
  // v2 sends created_at only when asked for; the snowflake id carries the time anyway.
  const createdAt =
    tweet.created_at === undefined
      ? isoFromSnowflakeId(id)
      : normaliseIsoDate(readString(tweet, 'created_at') ?? '');
  if (createdAt === null) {
    return `unusable created_at${describeValue(tweet.created_at)}`;
  }
  const authorId = readTweetId(tweet.author_id);
  const retweetedId = referencedTweetId(tweet, 'retweeted');

  let text = v2FullText(tweet);
  let entities = v2Entities(tweet);
  let mentions = readStringsOf(readArray(entities, 'mentions'), 'username');
  const original = retweetedId === null ? undefined : includes.tweets.get(retweetedId);
  const originalAuthorId = readString(original, 'author_id');
  const originalAuthor =
    originalAuthorId === undefined ? undefined : includes.usernames.get(originalAuthorId);
  if (original !== undefined && originalAuthor !== undefined) {
    // As for v1.1: the retweet's own text is truncated; rebuild it from the original.
    entities = v2Entities(original);
    text = `RT @${originalAuthor}: ${v2FullText(original)}`;
    mentions = [originalAuthor, ...readStringsOf(readArray(entities, 'mentions'), 'username')];
  }

  return {
    id,
    createdAt,
    userId: authorId,
    userScreenName: authorId === null ? null : (includes.usernames.get(authorId) ?? null),
    text,
    lang: readString(tweet, 'lang') ?? null,
    retweetedId,
    quotedId: referencedTweetId(tweet, 'quoted'),
    inReplyToId: referencedTweetId(tweet, 'replied_to'),
    hashtags: readStringsOf(readArray(entities, 'hashtags'), 'tag'),
    mentions: mentions,
    urls: expandedUrls(readArray(entities, 'urls')),
  };
}

/** note_tweet.text (posts longer than 280 characters), else text. */
function v2FullText(tweet: JsonObject): string {
  return readString(readObject(tweet, 'note_tweet'), 'text') ?? readString(tweet, 'text') ?? '';
}

function v2Entities(tweet: JsonObject): JsonObject | undefined {
  return readObject(readObject(tweet, 'note_tweet'), 'entities') ?? readObject(tweet, 'entities');
}

function referencedTweetId(tweet: JsonObject, type: 'retweeted' | 'quoted' | 'replied_to'): string | null {
  for (const reference of readArray(tweet, 'referenced_tweets')) {
    if (isJsonObject(reference) && reference.type === type) {
      return readTweetId(reference.id);
    }
  }
  return null;
}

/** expanded_url, else the t.co url. */
function expandedUrls(urls: readonly unknown[]): string[] {
  const expanded: string[] = [];
  for (const url of urls) {
    if (!isJsonObject(url)) {
      continue;
    }
    const value = readString(url, 'expanded_url') ?? readString(url, 'url');
    if (value !== undefined) {
      expanded.push(value);
    }
  }
  return expanded;
}

/** ` (got "…")` for a rejection reason, or ` (absent)`. */
function describeValue(value: unknown): string {
  if (value === undefined) {
    return ' (absent)';
  }
  const text = JSON.stringify(value) ?? String(value);
  const shown =
    text.length > QUOTED_VALUE_CHARACTERS ? `${text.slice(0, QUOTED_VALUE_CHARACTERS)}…` : text;
  return ` (got ${shown})`;
}
