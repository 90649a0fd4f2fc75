import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';
import type { TweetRow } from '../../src/pipeline/pipeline.types.js';

// Writes realistic Twitter v1.1 streaming archives (`part-00001.jsonl.gz`, …) and returns the
// exact outcome an ingest of them must have. The expectations come from the generator's own
// model of each tweet, never from the pipeline: they are an independent oracle.

export interface GenerateCorpusOptions {
  outDir: string;
  files: number;
  /** Tweet lines per file (notices, duplicates and quirk lines come on top). */
  tweetsPerFile: number;
  /** Same seed, same bytes. */
  seed?: number;
  /** Add the awkward inputs real archives hold (see CORPUS_QUIRKS). */
  quirks?: boolean;
  /** Compress files (default true); with quirks one file stays plain regardless. */
  gzip?: boolean;
  /** Target size of a top-level tweet line (default 4000; real lines run 3-5 KB). */
  averageTweetBytes?: number;
  /** Also return every expected row (expected.rows): for small corpora. */
  includeRows?: boolean;
}

/**
 * The awkward inputs `quirks: true` adds, and the file each lands in (slot modulo the number of
 * files; with 7 files or more every quirk has a file of its own).
 */
export const CORPUS_QUIRKS = [
  { quirk: 'crlf-line-ends', slot: 0 },
  { quirk: 'blank-lines', slot: 0 },
  { quirk: 'plain-file', slot: 1 },
  { quirk: 'multi-member-gzip', slot: 2 },
  { quirk: 'json-array-file', slot: 3 },
  { quirk: 'invalid-utf8', slot: 4 },
  { quirk: 'nul-in-text', slot: 5 },
  { quirk: 'non-tweet-object', slot: 6 },
  { quirk: 'truncated-last-line', slot: -1 }, // the last file
  { quirk: 'duplicates-of-previous-file', slot: -2 }, // every file but the first
] as const;

export type CorpusQuirk = (typeof CORPUS_QUIRKS)[number]['quirk'];

export interface CorpusFileManifest {
  name: string;
  format: 'json-lines' | 'json-array';
  compression: 'gzip' | 'gzip-multi-member' | 'none';
  quirks: CorpusQuirk[];
  bytesOnDisk: number;
  bytesDecompressed: number;
  /** Physical lines of the decompressed text (blank ones included). */
  lines: number;
  /** What the splitter finds: non-blank lines, or elements of the JSON array. */
  records: number;
  /** Records that become tweet rows. */
  tweetRecords: number;
  /** Rows the file produces: tweets plus their embedded originals, per record each id once. */
  tweets: number;
  deletes: number;
  notices: number;
  rejected: number;
  /** Line numbers (element numbers in a JSON array file) of the rejected records. */
  rejectedLineNumbers: number[];
}

export interface CorpusManifest {
  seed: number;
  options: { files: number; tweetsPerFile: number; quirks: boolean; gzip: boolean; averageTweetBytes: number };
  files: CorpusFileManifest[];
  expected: {
    /** Exactly the ids the `tweets` table must hold once every file is in: sorted numerically. */
    tweetIds: string[];
    distinctTweetIds: number;
    /** sha256 of tweetIds joined by '\n': compare with `SELECT id FROM tweets ORDER BY id`. */
    tweetIdsSha256: string;
    /** Exactly the ids `tweet_deletions` must hold, sorted numerically. */
    deletedIds: string[];
    /** Deleted ids that do belong to some row of the corpus (the rest were never seen). */
    deletedIdsOfCorpusTweets: number;
    totalLines: number;
    totalRecords: number;
    totalTweetRecords: number;
    /** Rows produced over all files, duplicates included (ledger `tweets` summed). */
    totalTweetRows: number;
    totalDeletes: number;
    totalNotices: number;
    totalRejected: number;
    averageTweetLineBytes: number;
    /** Expected `tweets` rows (minus source_file_id and ingested_at) for tweets of every kind. */
    sampleRows: TweetRow[];
    /** With includeRows: every row of `tweets`, in tweetIds order. */
    rows?: TweetRow[];
  };
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: tiny, fast, and good enough for test data. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let value = this.state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }
}

/** A stateless hash of (seed, n): lets any tweet's id be computed without generating it. */
function mix(seed: number, value: number): number {
  let hash = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(value, 0xc2b2ae35)) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 16), 0x7feb352d) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 15), 0x846ca68b) >>> 0;
  return (hash ^ (hash >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Ids and times

const SNOWFLAKE_EPOCH_MS = 1_288_834_974_657;
const CORPUS_START_MS = Date.UTC(2018, 2, 10, 0, 0, 0); // 2018-03-10, like the real sample
const ORIGINALS_START_MS = CORPUS_START_MS - 3 * 24 * 3600 * 1000;
const UNSEEN_START_MS = CORPUS_START_MS - 30 * 24 * 3600 * 1000;
// Tweet n is created STEP ms after tweet n-1, plus a jitter below the step: times, hence
// snowflake ids, strictly increase.
const TWEET_STEP_MS = 45;
const TWEET_JITTER_MS = 40;
// Snowflake worker numbers keep the id spaces of stream tweets, embedded originals and
// deletions of never-seen tweets apart.
const STREAM_WORKER = 1n;
const ORIGINALS_WORKER = 2n;
const UNSEEN_WORKER = 3n;

function snowflakeId(timeMs: number, worker: bigint, sequence: number): string {
  return (
    (BigInt(timeMs - SNOWFLAKE_EPOCH_MS) << 22n) |
    (worker << 12n) |
    BigInt(sequence & 0xfff)
  ).toString();
}

function streamTweetTime(seed: number, index: number): number {
  return CORPUS_START_MS + index * TWEET_STEP_MS + (mix(seed, index) % TWEET_JITTER_MS);
}

function streamTweetId(seed: number, index: number): string {
  return snowflakeId(streamTweetTime(seed, index), STREAM_WORKER, mix(seed + 1, index));
}

/** Sorts decimal ids numerically (as PostgreSQL orders bigint). */
export function sortTweetIds(ids: Iterable<string>): string[] {
  return [...ids].sort((left, right) =>
    left.length !== right.length ? left.length - right.length : left < right ? -1 : left > right ? 1 : 0,
  );
}

export function digestTweetIds(sortedIds: readonly string[]): string {
  return createHash('sha256').update(sortedIds.join('\n')).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// The model: what each tweet is, independent of how it is written

interface UserModel {
  index: number; // in the factory's pool
  id: string;
  screenName: string;
  json: Record<string, unknown>; // the full v1.1 user object
}

interface HashtagEntity {
  text: string;
  indices: [number, number];
}
interface MentionEntity {
  user: UserModel;
  indices: [number, number];
}
interface UrlEntity {
  url: string;
  expandedUrl: string;
  displayUrl: string;
  indices: [number, number];
}

interface TweetModel {
  id: string;
  timeMs: number;
  user: UserModel;
  lang: string;
  fullText: string;
  displayStart: number; // a reply's leading @mention is outside the display range
  hashtags: HashtagEntity[];
  mentions: MentionEntity[];
  urls: UrlEntity[];
  inReplyTo: TweetModel | undefined;
  quoted: TweetModel | undefined;
  retweeted: TweetModel | undefined;
  mediaCount: number;
  withPlace: boolean;
}

const VOCABULARY: Readonly<Record<string, readonly string[]>> = {
  en: ['the', 'morning', 'coffee', 'game', 'tonight', 'really', 'love', 'new', 'music', 'city', 'weekend', 'vote',
    'news', 'great', 'team', 'watch', 'people', 'today', 'thanks', 'happy', 'finally', 'rain', 'build', 'ship',
    'code', 'friends', 'street', 'because', 'never', 'always', 'what', 'about', 'this', 'little', 'story'],
  es: ['hoy', 'mañana', 'fútbol', 'gracias', 'ciudad', 'música', 'noche', 'nuevo', 'equipo', 'años', 'señor',
    'corazón', 'qué', 'bonito', 'día'],
  ja: ['今日', 'ありがとう', '東京', 'ラーメン', '最高', '映画', '仕事', '天気', '週末', '音楽', 'です', 'ね'],
  ar: ['اليوم', 'شكرا', 'مدينة', 'الله', 'صباح', 'الخير', 'كرة', 'القدم', 'حب', 'جديد', 'يا', 'أيها'],
  ko: ['오늘', '감사합니다', '서울', '음악', '사랑', '친구', '주말', '날씨', '정말'],
  in: ['hari', 'ini', 'terima', 'kasih', 'kota', 'makan', 'siang', 'teman', 'baru', 'malam', 'sekali'],
  fr: ['aujourd’hui', 'merci', 'ville', 'musique', 'été', 'café', 'très', 'beau', 'soirée', 'déjà'],
  tr: ['bugün', 'teşekkürler', 'şehir', 'müzik', 'güzel', 'arkadaş', 'çok', 'için'],
};
const LANGUAGES = Object.keys(VOCABULARY);
const EMOJI = ['😀', '🔥', '🎉', '❤️', '👍', '🙏', '⚽', '🇯🇵', '😂', '✨'];
const HASHTAGS = ['news', 'music', 'WorldCup', 'tech', 'love', 'photo', 'travel', 'job', 'AI', 'Oscars', 'Quran',
  'KPOP', 'ThrowbackThursday', '日本', 'فلسطين', 'café', 'MarchMadness', 'IWD2018'];
const DOMAINS = ['example.com', 'news.example.org', 'blog.example.net', 'shop.example.co.jp', 'video.example.tv'];
const NAME_SYLLABLES = ['ka', 'ri', 'mo', 'an', 'el', 'to', 'sa', 'yu', 'ne', 'li', 'ro', 'mi', 'da', 'ko', 'zu'];
const TIME_ZONES = ['Riyadh', 'Tokyo', 'Seoul', 'Jakarta', 'Pacific Time (US & Canada)', 'London', 'Madrid', null];
const LOCATIONS = ['Tokyo, Japan', 'السعودية - أبها', 'Jakarta', 'London', 'Madrid, España', '서울', 'Istanbul', null];
const SOURCES = [
  '<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>',
  '<a href="http://twitter.com/download/android" rel="nofollow">Twitter for Android</a>',
  '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Lite</a>',
  '<a href="http://twitter.com" rel="nofollow">Twitter Web Client</a>',
];
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const USER_POOL_SIZE = 800;
// Only the invalid-UTF-8 quirk tweet carries this marker: its two characters (4 bytes of
// UTF-8) are overwritten with 0xFF bytes in the written file.
const INVALID_UTF8_MARKER = '¤¤';
const INVALID_UTF8_BYTES = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const INVALID_UTF8_DECODED = '\uFFFD'.repeat(4);

function twitterDate(timeMs: number): string {
  const date = new Date(timeMs);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${WEEKDAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${pad(date.getUTCDate())} ${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000 ${date.getUTCFullYear()}`;
}

function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) {
    length++;
  }
  return length;
}

function tcoUrl(random: SeededRandom): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let code = '';
  for (let index = 0; index < 10; index++) {
    code += alphabet[random.integer(0, alphabet.length - 1)];
  }
  return `https://t.co/${code}`;
}

function createUser(random: SeededRandom, index: number): UserModel {
  // Old accounts have small ids; accounts from 2016 on have snowflake ids beyond 2^53.
  const id = random.chance(0.6)
    ? String(random.integer(10_000_000, 4_000_000_000))
    : snowflakeId(Date.UTC(2016, 0, 1) + index * 3_600_000, 4n, index);
  let screenName = '';
  const syllables = random.integer(2, 5);
  for (let part = 0; part < syllables; part++) {
    screenName += random.pick(NAME_SYLLABLES);
  }
  screenName = `${random.chance(0.5) ? screenName[0].toUpperCase() + screenName.slice(1) : screenName}${
    random.chance(0.5) ? `_${index}` : String(index)
  }`.slice(0, 15);
  const language = random.pick(LANGUAGES);
  const description = composeWords(random, language, random.integer(40, 150));
  const createdMs = Date.UTC(2009, 0, 1) + random.integer(0, 2900) * 86_400_000;
  const imageId = random.integer(100_000_000, 999_999_999);
  const json: Record<string, unknown> = {
    id: bigintPlaceholder(id),
    id_str: id,
    name: composeWords(random, language, random.integer(5, 20)),
    screen_name: screenName,
    location: random.pick(LOCATIONS),
    url: random.chance(0.3) ? `https://${random.pick(DOMAINS)}/${screenName.toLowerCase()}` : null,
    description,
    translator_type: 'none',
    protected: false,
    verified: random.chance(0.02),
    followers_count: random.integer(0, 200_000),
    friends_count: random.integer(0, 5000),
    listed_count: random.integer(0, 300),
    favourites_count: random.integer(0, 90_000),
    statuses_count: random.integer(1, 300_000),
    created_at: twitterDate(createdMs),
    utc_offset: random.chance(0.6) ? random.pick([10800, 32400, -28800, 0, 3600, 25200]) : null,
    time_zone: random.pick(TIME_ZONES),
    geo_enabled: random.chance(0.3),
    lang: language,
    contributors_enabled: false,
    is_translator: false,
    profile_background_color: 'C0DEED',
    profile_background_image_url: 'http://abs.twimg.com/images/themes/theme1/bg.png',
    profile_background_image_url_https: 'https://abs.twimg.com/images/themes/theme1/bg.png',
    profile_background_tile: false,
    profile_link_color: '1DA1F2',
    profile_sidebar_border_color: 'C0DEED',
    profile_sidebar_fill_color: 'DDEEF6',
    profile_text_color: '333333',
    profile_use_background_image: true,
    profile_image_url: `http://pbs.twimg.com/profile_images/${imageId}/avatar_normal.jpg`,
    profile_image_url_https: `https://pbs.twimg.com/profile_images/${imageId}/avatar_normal.jpg`,
    profile_banner_url: `https://pbs.twimg.com/profile_banners/${id}/${Math.floor(createdMs / 1000)}`,
    default_profile: random.chance(0.5),
    default_profile_image: false,
    following: null,
    follow_request_sent: null,
    notifications: null,
  };
  return { index, id, screenName, json };
}

function composeWords(random: SeededRandom, language: string, targetCharacters: number): string {
  const words: string[] = [];
  let length = 0;
  while (length < targetCharacters) {
    const word = random.chance(0.06) ? random.pick(EMOJI) : random.pick(VOCABULARY[language]);
    words.push(word);
    length += word.length + 1;
  }
  return words.join(' ');
}

/** Builds a tweet's text and its entities together, so the indices are right. */
class TextComposer {
  private text = '';
  private length = 0; // in code points, as Twitter counts indices
  readonly hashtags: HashtagEntity[] = [];
  readonly mentions: MentionEntity[] = [];
  readonly urls: UrlEntity[] = [];

  get fullText(): string {
    return this.text;
  }

  get codePoints(): number {
    return this.length;
  }

  words(words: string): void {
    this.append(words);
  }

  hashtag(tag: string): void {
    const start = this.length;
    this.append(`#${tag}`);
    this.hashtags.push({ text: tag, indices: [start, this.length] });
  }

  mention(user: UserModel): void {
    const start = this.length;
    this.append(`@${user.screenName}`);
    this.mentions.push({ user, indices: [start, this.length] });
  }

  url(url: string, expandedUrl: string): void {
    const start = this.length;
    this.append(url);
    const display = expandedUrl.replace(/^https?:\/\//, '');
    this.urls.push({
      url,
      expandedUrl,
      displayUrl: display.length > 26 ? `${display.slice(0, 25)}…` : display,
      indices: [start, this.length],
    });
  }

  private append(piece: string): void {
    if (this.text !== '') {
      this.text += ' ';
      this.length += 1;
    }
    this.text += piece;
    this.length += codePointLength(piece);
  }
}

type TweetKind = 'short' | 'extended' | 'reply' | 'retweet' | 'quote' | 'retweet-of-quote';

const anyTweet = (): boolean => true;
// Twitter embeds one level of quote: a quote of a quote would not carry the innermost tweet.
const notAQuote = (tweet: TweetModel): boolean => tweet.quoted === undefined;

class TweetFactory {
  readonly users: UserModel[];
  private originalCount = 0;
  /** Recently written tweets that later ones may retweet, quote or answer. */
  private readonly recent: TweetModel[] = [];

  constructor(
    private readonly random: SeededRandom,
    private readonly seed: number,
  ) {
    this.users = Array.from({ length: USER_POOL_SIZE }, (_, index) => createUser(random, index));
  }

  remember(tweet: TweetModel): void {
    // Retweets are never retweeted, quoted or answered themselves: their original is.
    if (tweet.retweeted !== undefined) {
      return;
    }
    this.recent.push(tweet);
    if (this.recent.length > 300) {
      this.recent.shift();
    }
  }

  streamTweet(index: number, kind: TweetKind): TweetModel {
    const id = streamTweetId(this.seed, index);
    const timeMs = streamTweetTime(this.seed, index);
    switch (kind) {
      case 'short':
        return this.compose(id, timeMs, { long: false });
      case 'extended':
        return this.compose(id, timeMs, { long: true });
      case 'reply':
        return this.compose(id, timeMs, { long: this.random.chance(0.3), inReplyTo: this.someEarlierTweet(anyTweet) });
      case 'quote':
        return this.compose(id, timeMs, { long: this.random.chance(0.3), quoted: this.someEarlierTweet(notAQuote) });
      case 'retweet':
        return this.retweet(id, timeMs, this.someEarlierTweet(anyTweet));
      case 'retweet-of-quote':
        return this.retweet(id, timeMs, this.original({ quoted: this.someEarlierTweet(notAQuote) }));
    }
  }

  /** A short plain tweet with the given text inside (quirk lines). */
  tweetWithText(index: number, text: string): TweetModel {
    return this.compose(streamTweetId(this.seed, index), streamTweetTime(this.seed, index), {
      long: false,
      insertedText: text,
    });
  }

  private someEarlierTweet(acceptable: (tweet: TweetModel) => boolean): TweetModel {
    // Usually a tweet the stream never showed; sometimes one it did (then ids repeat in rows).
    if (this.recent.length > 0 && this.random.chance(0.3)) {
      const earlier = this.random.pick(this.recent);
      if (acceptable(earlier)) {
        return earlier;
      }
    }
    return this.original({});
  }

  private original(options: { quoted?: TweetModel }): TweetModel {
    const sequence = this.originalCount++;
    const timeMs = ORIGINALS_START_MS + sequence * TWEET_STEP_MS + this.random.integer(0, TWEET_JITTER_MS - 1);
    return this.compose(snowflakeId(timeMs, ORIGINALS_WORKER, sequence), timeMs, {
      long: this.random.chance(0.4),
      quoted: options.quoted,
    });
  }

  private retweet(id: string, timeMs: number, original: TweetModel): TweetModel {
    const composer = new TextComposer();
    composer.words(`RT @${original.user.screenName}: ${original.fullText}`);
    return {
      id,
      timeMs,
      user: this.random.pick(this.users),
      lang: original.lang,
      fullText: composer.fullText,
      displayStart: 0,
      hashtags: [],
      mentions: [],
      urls: [],
      inReplyTo: undefined,
      quoted: undefined,
      retweeted: original,
      mediaCount: 0,
      withPlace: false,
    };
  }

  private compose(
    id: string,
    timeMs: number,
    options: { long: boolean; inReplyTo?: TweetModel; quoted?: TweetModel; insertedText?: string },
  ): TweetModel {
    const random = this.random;
    const language = random.pick(LANGUAGES);
    const composer = new TextComposer();
    if (options.inReplyTo !== undefined) {
      composer.mention(options.inReplyTo.user);
    }
    const displayStart = composer.codePoints === 0 ? 0 : composer.codePoints + 1;
    // Short tweets stay within 140 code points; long ones pass it, so that the stream
    // truncates them and carries extended_tweet.
    const budget = options.long ? random.integer(150, 200) : random.integer(20, 70);
    composer.words(composeWords(random, language, budget));
    if (options.insertedText !== undefined) {
      composer.words(options.insertedText);
    }
    for (let count = random.integer(0, 2); count > 0; count--) {
      composer.hashtag(random.pick(HASHTAGS));
    }
    for (let count = random.chance(0.3) ? random.integer(1, 2) : 0; count > 0; count--) {
      composer.mention(random.pick(this.users));
    }
    if (random.chance(0.35)) {
      const domain = random.pick(DOMAINS);
      composer.url(tcoUrl(random), `https://${domain}/${random.integer(1000, 99_999)}/${random.pick(VOCABULARY.en)}`);
    }
    if (options.quoted !== undefined) {
      composer.url(
        tcoUrl(random),
        `https://twitter.com/${options.quoted.user.screenName}/status/${options.quoted.id}`,
      );
    }
    return {
      id,
      timeMs,
      user: random.pick(this.users),
      lang: language,
      fullText: composer.fullText,
      displayStart,
      hashtags: composer.hashtags,
      mentions: composer.mentions,
      urls: composer.urls,
      inReplyTo: options.inReplyTo,
      quoted: options.quoted,
      retweeted: undefined,
      mediaCount: 0,
      withPlace: false,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering as Twitter wrote it

// Stand-ins that `serialize` replaces after JSON.stringify: a bare number with exact digits,
// and a user object (serialized once per user: users recur in thousands of tweets).
const BIGINT_PLACEHOLDER = '@@bigint@@';
const USER_PLACEHOLDER = '@@user@@';
const PLACEHOLDER_PATTERN = /"@@(bigint|user)@@(\d+)"/g;
const TWITTER_ESCAPED_CHARACTERS = /[\u007f-\uffff/]/g;
// Short tweet texts stay within this many code points; longer ones are truncated with a link.
const CLASSIC_TEXT_LIMIT = 140;
const TRUNCATED_TEXT_CODE_POINTS = 113;

/** A JSON number with exactly these digits, written in place of the string by `serialize`. */
function bigintPlaceholder(digits: string): string {
  return `${BIGINT_PLACEHOLDER}${digits}`;
}

function userPlaceholder(user: UserModel): string {
  return `${USER_PLACEHOLDER}${user.index}`;
}

interface SerializeOptions {
  pretty?: boolean;
  rawUtf8?: boolean;
}

/**
 * JSON as the streaming API wrote it: ids as bare numbers beyond 2^53 (the `id` fields, which
 * JSON.parse rounds), non-ASCII as \uXXXX and `/` as `\/` (Twitter escaped both), unless
 * `rawUtf8` asks for UTF-8 as other tools write it.
 */
class TwitterJsonWriter {
  private readonly userJson = new Map<string, string>(); // `${rawUtf8} ${index}` → JSON

  constructor(private readonly users: readonly UserModel[]) {}

  serialize(value: unknown, options: SerializeOptions = {}): string {
    const json = JSON.stringify(value, null, options.pretty === true ? 2 : undefined);
    // Escape first: the user objects spliced in below come escaped already.
    const escaped = options.rawUtf8 === true ? json : escapeAsTwitter(json);
    return escaped.replace(PLACEHOLDER_PATTERN, (_, kind: string, digits: string) =>
      kind === 'bigint' ? digits : this.user(Number(digits), options.rawUtf8 === true),
    );
  }

  private user(index: number, rawUtf8: boolean): string {
    const key = `${rawUtf8} ${index}`;
    let json = this.userJson.get(key);
    if (json === undefined) {
      json = this.serialize(this.users[index].json, { rawUtf8 });
      this.userJson.set(key, json);
    }
    return json;
  }
}

function escapeAsTwitter(json: string): string {
  return json.replace(TWITTER_ESCAPED_CHARACTERS, (character) =>
    character === '/' ? '\\/' : `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function entitiesJson(
  hashtags: readonly HashtagEntity[],
  mentions: readonly MentionEntity[],
  urls: readonly UrlEntity[],
): Record<string, unknown> {
  return {
    hashtags: hashtags.map((hashtag) => ({ text: hashtag.text, indices: hashtag.indices })),
    urls: urls.map((url) => ({
      url: url.url,
      expanded_url: url.expandedUrl,
      display_url: url.displayUrl,
      indices: url.indices,
    })),
    user_mentions: mentions.map((mention) => ({
      screen_name: mention.user.screenName,
      name: mention.user.json.name,
      id: bigintPlaceholder(mention.user.id),
      id_str: mention.user.id,
      indices: mention.indices,
    })),
    symbols: [],
  };
}

function mediaJson(tweet: TweetModel, index: number): Record<string, unknown> {
  const mediaId = (BigInt(tweet.id) + BigInt(index + 1)).toString();
  const url = `https://t.co/m${tweet.id.slice(-8)}${index}`;
  return {
    id: bigintPlaceholder(mediaId),
    id_str: mediaId,
    indices: [0, 0],
    media_url: `http://pbs.twimg.com/media/D${mediaId.slice(-10)}.jpg`,
    media_url_https: `https://pbs.twimg.com/media/D${mediaId.slice(-10)}.jpg`,
    url,
    display_url: `pic.twitter.com/${mediaId.slice(-10)}`,
    expanded_url: `https://twitter.com/${tweet.user.screenName}/status/${tweet.id}/photo/${index + 1}`,
    type: 'photo',
    sizes: {
      thumb: { w: 150, h: 150, resize: 'crop' },
      small: { w: 680, h: 383, resize: 'fit' },
      medium: { w: 1200, h: 675, resize: 'fit' },
      large: { w: 1280, h: 720, resize: 'fit' },
    },
  };
}

const PLACE_JSON = {
  id: '07d9db48bc083000',
  url: 'https://api.twitter.com/1.1/geo/id/07d9db48bc083000.json',
  place_type: 'poi',
  name: 'Shibuya Crossing',
  full_name: 'Shibuya Crossing',
  country_code: 'JP',
  country: 'Japan',
  bounding_box: {
    type: 'Polygon',
    coordinates: [[[139.7005, 35.6595], [139.7005, 35.6595], [139.7005, 35.6595], [139.7005, 35.6595]]],
  },
  attributes: {},
};

/** The v1.1 object of a tweet; `embedded` for retweeted_status / quoted_status copies. */
function tweetJson(tweet: TweetModel, embedded: boolean): Record<string, unknown> {
  const original = tweet.retweeted;
  const quoted = tweet.quoted ?? original?.quoted;
  const fullLength = codePointLength(tweet.fullText);
  const truncated = original === undefined && fullLength > CLASSIC_TEXT_LIMIT;
  let text = tweet.fullText;
  let entities: Record<string, unknown>;
  let extendedTweet: Record<string, unknown> | undefined;
  if (original !== undefined) {
    // A retweet's text is cut at 140 code points and its entities are the original's.
    const points = Array.from(tweet.fullText);
    text = points.length > CLASSIC_TEXT_LIMIT ? `${points.slice(0, CLASSIC_TEXT_LIMIT - 1).join('')}…` : tweet.fullText;
    entities = entitiesJson([], [{ user: original.user, indices: [3, 4 + original.user.screenName.length] }], []);
  } else if (truncated) {
    const webUrl: UrlEntity = {
      url: `https://t.co/w${tweet.id.slice(-9)}`,
      expandedUrl: `https://twitter.com/i/web/status/${tweet.id}`,
      displayUrl: `twitter.com/i/web/status/${tweet.id.slice(0, 1)}…`,
      indices: [TRUNCATED_TEXT_CODE_POINTS + 2, TRUNCATED_TEXT_CODE_POINTS + 25],
    };
    text = `${Array.from(tweet.fullText).slice(0, TRUNCATED_TEXT_CODE_POINTS).join('')}… ${webUrl.url}`;
    const within = <T extends { indices: [number, number] }>(items: readonly T[]) =>
      items.filter((item) => item.indices[1] <= TRUNCATED_TEXT_CODE_POINTS);
    entities = entitiesJson(within(tweet.hashtags), within(tweet.mentions), [...within(tweet.urls), webUrl]);
    extendedTweet = {
      full_text: tweet.fullText,
      display_text_range: [tweet.displayStart, fullLength],
      entities: entitiesJson(tweet.hashtags, tweet.mentions, tweet.urls),
    };
  } else {
    entities = entitiesJson(tweet.hashtags, tweet.mentions, tweet.urls);
  }
  const media = Array.from({ length: tweet.mediaCount }, (_, index) => mediaJson(tweet, index));
  if (media.length > 0) {
    entities.media = media;
  }
  const json: Record<string, unknown> = {
    created_at: twitterDate(tweet.timeMs),
    id: bigintPlaceholder(tweet.id),
    id_str: tweet.id,
    text,
    ...(tweet.displayStart > 0 && !truncated
      ? { display_text_range: [tweet.displayStart, codePointLength(text)] }
      : {}),
    source: SOURCES[Number(BigInt(tweet.id) % BigInt(SOURCES.length))],
    truncated,
    in_reply_to_status_id: tweet.inReplyTo === undefined ? null : bigintPlaceholder(tweet.inReplyTo.id),
    in_reply_to_status_id_str: tweet.inReplyTo?.id ?? null,
    in_reply_to_user_id: tweet.inReplyTo === undefined ? null : bigintPlaceholder(tweet.inReplyTo.user.id),
    in_reply_to_user_id_str: tweet.inReplyTo?.user.id ?? null,
    in_reply_to_screen_name: tweet.inReplyTo?.user.screenName ?? null,
    user: userPlaceholder(tweet.user),
    geo: null,
    coordinates: null,
    place: tweet.withPlace ? PLACE_JSON : null,
    contributors: null,
  };
  if (quoted !== undefined) {
    json.quoted_status_id = bigintPlaceholder(quoted.id);
    json.quoted_status_id_str = quoted.id;
    json.quoted_status = tweetJson(quoted, true);
    json.quoted_status_permalink = {
      url: `https://t.co/q${quoted.id.slice(-9)}`,
      expanded: `https://twitter.com/${quoted.user.screenName}/status/${quoted.id}`,
      display: `twitter.com/${quoted.user.screenName}/…`,
    };
  }
  if (original !== undefined) {
    json.retweeted_status = tweetJson(original, true);
  }
  json.is_quote_status = quoted !== undefined;
  if (extendedTweet !== undefined) {
    json.extended_tweet = extendedTweet;
  }
  json.quote_count = embedded ? Number(BigInt(tweet.id) % 50n) : 0;
  json.reply_count = embedded ? Number(BigInt(tweet.id) % 30n) : 0;
  json.retweet_count = embedded ? Number(BigInt(tweet.id) % 900n) : 0;
  json.favorite_count = embedded ? Number(BigInt(tweet.id) % 2000n) : 0;
  json.entities = entities;
  if (media.length > 0) {
    json.extended_entities = { media };
    json.possibly_sensitive = false;
  }
  json.favorited = false;
  json.retweeted = false;
  json.filter_level = 'low';
  json.lang = tweet.lang;
  if (!embedded) {
    json.timestamp_ms = String(tweet.timeMs);
  }
  return json;
}

function deleteNoticeJson(id: string, userId: string, timeMs: number): Record<string, unknown> {
  return {
    delete: {
      status: { id: bigintPlaceholder(id), id_str: id, user_id: bigintPlaceholder(userId), user_id_str: userId },
      timestamp_ms: String(timeMs),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Expected rows: the oracle

function isoSeconds(timeMs: number): string {
  return new Date(Math.floor(timeMs / 1000) * 1000).toISOString();
}

function expectedText(text: string): string {
  return text.replaceAll('\u0000', '').replaceAll(INVALID_UTF8_MARKER, INVALID_UTF8_DECODED);
}

function expectedRow(tweet: TweetModel): TweetRow {
  const original = tweet.retweeted;
  const source = original ?? tweet;
  const quoted = tweet.quoted ?? original?.quoted;
  return {
    id: tweet.id,
    createdAt: isoSeconds(tweet.timeMs),
    userId: tweet.user.id,
    userScreenName: tweet.user.screenName,
    text: expectedText(original === undefined ? tweet.fullText : `RT @${original.user.screenName}: ${original.fullText}`),
    lang: tweet.lang,
    retweetedId: original?.id ?? null,
    quotedId: quoted?.id ?? null,
    inReplyToId: tweet.inReplyTo?.id ?? null,
    hashtags: source.hashtags.map((hashtag) => hashtag.text),
    mentions: [
      ...(original === undefined ? [] : [original.user.screenName]),
      ...source.mentions.map((mention) => mention.user.screenName),
    ],
    urls: source.urls.map((url) => url.expandedUrl),
  };
}

/** The rows one tweet record yields: itself, then its embedded originals, each id once. */
function expectedRowsOf(tweet: TweetModel): TweetRow[] {
  const rows: TweetRow[] = [];
  const seen = new Set<string>();
  const visit = (model: TweetModel | undefined): void => {
    if (model === undefined || seen.has(model.id)) {
      return;
    }
    seen.add(model.id);
    rows.push(expectedRow(model));
    visit(model.retweeted);
    visit(model.quoted);
    // A retweet of a quote repeats the quoted tweet at its top level.
    visit(model.retweeted?.quoted);
  };
  visit(tweet);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Files

interface CorpusRecord {
  bytes: Buffer;
  outcome: 'tweet' | 'delete' | 'notice' | 'rejected';
  rows: TweetRow[];
  deletedId?: string;
  /** May be copied verbatim into the next file. */
  reusable: boolean;
  /** An ordinary tweet line, fit to be the truncated last one. */
  truncatable?: boolean;
}

interface FilePlan {
  index: number;
  name: string;
  format: CorpusFileManifest['format'];
  compression: CorpusFileManifest['compression'];
  quirks: Set<CorpusQuirk>;
}

interface CorpusSettings {
  files: number;
  tweetsPerFile: number;
  seed: number;
  quirks: boolean;
  gzip: boolean;
  averageTweetBytes: number;
}

function planFiles(options: CorpusSettings): FilePlan[] {
  return Array.from({ length: options.files }, (_, index) => {
    const quirks = new Set<CorpusQuirk>();
    if (options.quirks) {
      for (const { quirk, slot } of CORPUS_QUIRKS) {
        const lands =
          slot === -1 ? index === options.files - 1 : slot === -2 ? index > 0 : index === slot % options.files;
        if (lands) {
          quirks.add(quirk);
        }
      }
      // One file cannot be both plain and multi-member gzip: plain wins.
      if (quirks.has('plain-file')) {
        quirks.delete('multi-member-gzip');
      }
    }
    const format = quirks.has('json-array-file') ? 'json-array' : 'json-lines';
    const compression = quirks.has('plain-file') || !options.gzip
      ? 'none'
      : quirks.has('multi-member-gzip')
        ? 'gzip-multi-member'
        : 'gzip';
    const extension = `${format === 'json-array' ? 'json' : 'jsonl'}${compression === 'none' ? '' : '.gz'}`;
    return {
      index,
      name: `part-${String(index + 1).padStart(5, '0')}.${extension}`,
      format,
      compression,
      quirks,
    };
  });
}

const MEDIA_JSON_BYTES = 1000; // one photo entity, written twice (entities and extended_entities)
const PLACE_JSON_BYTES = 560;
const DELETE_PROBABILITY = 0.04;
const LIMIT_PROBABILITY = 0.005;
const DUPLICATED_LINES_PER_FILE = 5;

/** Writes the corpus and returns its manifest. Files are written one at a time, streamed. */
export async function generateCorpus(options: GenerateCorpusOptions): Promise<CorpusManifest> {
  const settings: CorpusSettings = {
    files: options.files,
    tweetsPerFile: options.tweetsPerFile,
    seed: options.seed ?? 1,
    quirks: options.quirks ?? false,
    gzip: options.gzip ?? true,
    averageTweetBytes: options.averageTweetBytes ?? 4000,
  };
  if (!Number.isInteger(settings.files) || settings.files < 1) {
    throw new RangeError('files must be a positive integer');
  }
  // With quirks, a file may hold three quirk tweets on slots of their own and an ordinary
  // last one to truncate.
  const fewestTweets = settings.quirks ? 5 : 1;
  if (!Number.isInteger(settings.tweetsPerFile) || settings.tweetsPerFile < fewestTweets) {
    throw new RangeError(`tweetsPerFile must be an integer of at least ${fewestTweets}`);
  }
  await mkdir(options.outDir, { recursive: true });
  const random = new SeededRandom(settings.seed);
  const factory = new TweetFactory(random, settings.seed);
  const writer = new TwitterJsonWriter(factory.users);
  const lineSizes = new UnpaddedLineSizes();
  const totalStreamTweets = settings.files * settings.tweetsPerFile;

  const rowIds = new Set<string>();
  const rowById = new Map<string, TweetRow>();
  const deletedIds = new Set<string>();
  const fileManifests: CorpusFileManifest[] = [];
  const sampleIds = new Map<string, string>(); // kind → id
  let previousFileLines: Buffer[] = [];
  let pendingWrite: Promise<CorpusFileManifest> | undefined;
  let tweetLineBytes = 0;
  let tweetLines = 0;

  for (const plan of planFiles(settings)) {
    const records: CorpusRecord[] = [];
    const quirkTweetSlots = new Map<number, 'invalid-utf8' | 'nul-in-text' | 'non-tweet-object'>();
    for (const quirk of ['invalid-utf8', 'nul-in-text', 'non-tweet-object'] as const) {
      if (plan.quirks.has(quirk)) {
        let slot: number;
        do {
          slot = random.integer(0, settings.tweetsPerFile - 2);
        } while (quirkTweetSlots.has(slot));
        quirkTweetSlots.set(slot, quirk);
      }
    }
    for (let slot = 0; slot < settings.tweetsPerFile; slot++) {
      const streamIndex = plan.index * settings.tweetsPerFile + slot;
      if (random.chance(DELETE_PROBABILITY)) {
        records.push(deleteRecord(random, settings.seed, streamIndex, totalStreamTweets, writer));
      }
      if (random.chance(LIMIT_PROBABILITY)) {
        const timestampMs = String(streamTweetTime(settings.seed, streamIndex));
        const notice = { limit: { track: random.integer(1, 5000), timestamp_ms: timestampMs } };
        records.push({ bytes: Buffer.from(writer.serialize(notice)), outcome: 'notice', rows: [], reusable: false });
      }
      const quirk = quirkTweetSlots.get(slot);
      if (quirk === 'non-tweet-object') {
        const stray = { hello: 'world', note: 'a JSON object that is not a tweet', n: slot };
        records.push({ bytes: Buffer.from(writer.serialize(stray)), outcome: 'rejected', rows: [], reusable: false });
      }
      if (quirk === 'invalid-utf8' || quirk === 'nul-in-text') {
        const tweet = factory.tweetWithText(
          streamIndex,
          quirk === 'nul-in-text' ? 'nul\u0000here' : `broken ${INVALID_UTF8_MARKER} bytes`,
        );
        const rawUtf8 = quirk === 'invalid-utf8';
        let bytes: Buffer = Buffer.from(writer.serialize(tweetJson(tweet, false), { rawUtf8 }));
        if (rawUtf8) {
          bytes = replaceAll(bytes, Buffer.from(INVALID_UTF8_MARKER), INVALID_UTF8_BYTES);
        }
        sampleIds.set(quirk, tweet.id);
        records.push({ bytes, outcome: 'tweet', rows: expectedRowsOf(tweet), reusable: false });
        continue;
      }
      const kind = pickKind(random);
      const tweet = factory.streamTweet(streamIndex, kind);
      // Retweets and quotes carry whole originals and run large: aim each line at what keeps the
      // running average on target, within -40% and +30%.
      const average = settings.averageTweetBytes;
      const onTrack = average * (tweetLines + 1) - tweetLineBytes + (random.next() - 0.5) * 0.4 * average;
      const target = Math.min(1.3 * average, Math.max(0.6 * average, onTrack));
      const padding = padToTarget(tweet, target, lineSizes.unpaddedBytes(kind), random);
      // Array files pretty-print some elements; the plain file was written by another tool,
      // in raw UTF-8.
      const pretty = plan.format === 'json-array' && random.chance(0.3);
      const bytes = Buffer.from(
        writer.serialize(tweetJson(tweet, false), { pretty, rawUtf8: plan.quirks.has('plain-file') }),
      );
      lineSizes.learn(kind, bytes.length - padding);
      tweetLineBytes += bytes.length;
      tweetLines++;
      if (!sampleIds.has(kind)) {
        sampleIds.set(kind, tweet.id);
      }
      records.push({ bytes, outcome: 'tweet', rows: expectedRowsOf(tweet), reusable: !pretty, truncatable: true });
      factory.remember(tweet);
    }
    if (plan.quirks.has('duplicates-of-previous-file')) {
      for (const line of previousFileLines) {
        const at = random.integer(0, records.length);
        const rows = rowsFromDuplicate(line, rowById);
        records.splice(at, 0, { bytes: line, outcome: 'tweet', rows, reusable: false });
      }
    }
    if (plan.quirks.has('truncated-last-line')) {
      // The last tweet is cut off mid-line, as when a capture dies: rejected, never a row.
      const last = records.findLastIndex((record) => record.truncatable === true);
      const [cut] = records.splice(last, 1);
      records.push({
        bytes: cut.bytes.subarray(0, Math.floor(cut.bytes.length / 2)),
        outcome: 'rejected',
        rows: [],
        reusable: false,
      });
    }

    for (const record of records) {
      for (const row of record.rows) {
        rowIds.add(row.id);
        rowById.set(row.id, row);
      }
      if (record.deletedId !== undefined) {
        deletedIds.add(record.deletedId);
      }
    }
    previousFileLines = records
      .filter((record) => record.reusable)
      .slice(0, DUPLICATED_LINES_PER_FILE)
      .map((record) => record.bytes);
    // A file's write is awaited only once the next file is made: meanwhile zlib compresses what
    // was queued (up to SINK_QUEUE_BYTES) on the thread pool. The writer draws from a generator
    // of its own, so the interleaving cannot change the output.
    if (pendingWrite !== undefined) {
      fileManifests.push(await pendingWrite);
    }
    pendingWrite = writeCorpusFile(options.outDir, plan, records, new SeededRandom(mix(settings.seed, plan.index)));
  }
  if (pendingWrite !== undefined) {
    fileManifests.push(await pendingWrite);
  }

  const remaining = sortTweetIds([...rowIds].filter((id) => !deletedIds.has(id)));
  const remainingSet = new Set(remaining);
  const rowOf = (id: string): TweetRow => {
    const row = rowById.get(id);
    if (row === undefined) {
      throw new Error(`no row for tweet ${id}`);
    }
    return row;
  };
  const sampleRows = [...sampleIds.values()].filter((id) => remainingSet.has(id)).map(rowOf);
  const sum = (pick: (file: CorpusFileManifest) => number) =>
    fileManifests.reduce((total, file) => total + pick(file), 0);
  return {
    seed: settings.seed,
    options: {
      files: settings.files,
      tweetsPerFile: settings.tweetsPerFile,
      quirks: settings.quirks,
      gzip: settings.gzip,
      averageTweetBytes: settings.averageTweetBytes,
    },
    files: fileManifests,
    expected: {
      tweetIds: remaining,
      distinctTweetIds: remaining.length,
      tweetIdsSha256: digestTweetIds(remaining),
      deletedIds: sortTweetIds(deletedIds),
      deletedIdsOfCorpusTweets: [...deletedIds].filter((id) => rowIds.has(id)).length,
      totalLines: sum((file) => file.lines),
      totalRecords: sum((file) => file.records),
      totalTweetRecords: sum((file) => file.tweetRecords),
      totalTweetRows: sum((file) => file.tweets),
      totalDeletes: sum((file) => file.deletes),
      totalNotices: sum((file) => file.notices),
      totalRejected: sum((file) => file.rejected),
      averageTweetLineBytes: tweetLines === 0 ? 0 : Math.round(tweetLineBytes / tweetLines),
      sampleRows,
      ...(options.includeRows === true ? { rows: remaining.map(rowOf) } : {}),
    },
  };
}

function pickKind(random: SeededRandom): TweetKind {
  const draw = random.next();
  return draw < 0.4
    ? 'short'
    : draw < 0.6
      ? 'extended'
      : draw < 0.7
        ? 'reply'
        : draw < 0.88
          ? 'retweet'
          : draw < 0.96
            ? 'quote'
            : 'retweet-of-quote';
}

/** Adds photos and a place, as real tweets carry them, until the line nears its target size. */
function padToTarget(tweet: TweetModel, target: number, unpaddedBytes: number, random: SeededRandom): number {
  let size = unpaddedBytes;
  if (size + PLACE_JSON_BYTES < target && random.chance(0.5)) {
    tweet.withPlace = true;
    size += PLACE_JSON_BYTES;
  }
  while (size + MEDIA_JSON_BYTES / 2 < target && tweet.mediaCount < 4) {
    tweet.mediaCount++;
    size += MEDIA_JSON_BYTES;
  }
  return size - unpaddedBytes;
}

/**
 * The size of a line before padding, learnt per kind of tweet from the lines written so far:
 * padding needs no trial serialization (which took a third of the generator's time).
 */
class UnpaddedLineSizes {
  private readonly averages = new Map<TweetKind, number>();

  unpaddedBytes(kind: TweetKind): number {
    return this.averages.get(kind) ?? 3000;
  }

  learn(kind: TweetKind, bytes: number): void {
    const average = this.averages.get(kind);
    this.averages.set(kind, average === undefined ? bytes : 0.9 * average + 0.1 * bytes);
  }
}

function deleteRecord(
  random: SeededRandom,
  seed: number,
  streamIndex: number,
  totalStreamTweets: number,
  writer: TwitterJsonWriter,
): CorpusRecord {
  // A third each: a tweet already written, one still to come (deleted before it arrives),
  // and one this corpus never shows.
  const draw = random.next();
  let id: string;
  if (draw < 1 / 3 && streamIndex > 0) {
    id = streamTweetId(seed, random.integer(0, streamIndex - 1));
  } else if (draw < 2 / 3 && streamIndex < totalStreamTweets - 1) {
    id = streamTweetId(seed, random.integer(streamIndex + 1, totalStreamTweets - 1));
  } else {
    id = snowflakeId(UNSEEN_START_MS + random.integer(0, 86_400_000), UNSEEN_WORKER, random.integer(0, 4095));
  }
  const userId = String(random.integer(10_000_000, 4_000_000_000));
  const notice = deleteNoticeJson(id, userId, streamTweetTime(seed, streamIndex));
  return { bytes: Buffer.from(writer.serialize(notice)), outcome: 'delete', rows: [], deletedId: id, reusable: false };
}

function rowsFromDuplicate(line: Buffer, rowById: Map<string, TweetRow>): TweetRow[] {
  // A verbatim copy of a line of the previous file: the same rows again.
  const tweet = JSON.parse(line.toString('utf8')) as {
    id_str: string;
    retweeted_status?: { id_str: string; quoted_status?: { id_str: string } };
    quoted_status?: { id_str: string };
  };
  const ids = new Set<string>();
  const add = (id: string | undefined) => {
    if (id !== undefined) {
      ids.add(id);
    }
  };
  add(tweet.id_str);
  add(tweet.retweeted_status?.id_str);
  add(tweet.retweeted_status?.quoted_status?.id_str);
  add(tweet.quoted_status?.id_str);
  return [...ids].map((id) => {
    const row = rowById.get(id);
    if (row === undefined) {
      throw new Error(`duplicate line refers to unknown tweet ${id}`);
    }
    return row;
  });
}

function replaceAll(bytes: Buffer, search: Buffer, replacement: Buffer): Buffer {
  const pieces: Buffer[] = [];
  let from = 0;
  let at: number;
  while ((at = bytes.indexOf(search, from)) !== -1) {
    pieces.push(bytes.subarray(from, at), replacement);
    from = at + search.length;
  }
  pieces.push(bytes.subarray(from));
  return Buffer.concat(pieces);
}

/** Writes one file's records in its format and compression; counts what the pipeline must see. */
async function writeCorpusFile(
  outDir: string,
  plan: FilePlan,
  records: CorpusRecord[],
  random: SeededRandom,
): Promise<CorpusFileManifest> {
  const filePath = path.join(outDir, plan.name);
  const sink = new CorpusFileSink(filePath, plan.compression);
  const newline = Buffer.from(plan.quirks.has('crlf-line-ends') ? '\r\n' : '\n');
  const blankLines = [Buffer.from('\n'), Buffer.from('   \n'), Buffer.from('\t\r\n')];
  const memberBreaks = new Set(
    plan.compression === 'gzip-multi-member'
      ? [Math.floor(records.length / 3), Math.floor((2 * records.length) / 3)]
      : [],
  );
  let lines = 0;
  let bytesDecompressed = 0;
  const write = async (bytes: Buffer): Promise<void> => {
    for (let index = bytes.indexOf(0x0a); index !== -1; index = bytes.indexOf(0x0a, index + 1)) {
      lines++;
    }
    bytesDecompressed += bytes.length;
    await sink.write(bytes);
  };

  const counts = { tweetRecords: 0, tweets: 0, deletes: 0, notices: 0, rejected: 0 };
  const rejectedLineNumbers: number[] = [];
  const isArray = plan.format === 'json-array';
  if (isArray) {
    await write(Buffer.concat([Buffer.from('['), newline]));
  }
  for (const [index, record] of records.entries()) {
    if (!isArray && plan.quirks.has('blank-lines') && random.chance(0.05)) {
      await write(random.pick(blankLines));
    }
    const last = index === records.length - 1;
    const truncatedLast = last && plan.quirks.has('truncated-last-line');
    // The line (or element) number this record has for the splitter.
    const lineNo = isArray ? index + 1 : lines + 1;
    if (memberBreaks.has(index)) {
      // A member ends in the middle of a line: the reader must not notice.
      const middle = Math.floor(record.bytes.length / 2);
      await write(record.bytes.subarray(0, middle));
      await sink.startNewMember();
      await write(record.bytes.subarray(middle));
    } else {
      await write(record.bytes);
    }
    if (!truncatedLast) {
      await write(isArray ? (last ? newline : Buffer.concat([Buffer.from(','), newline])) : newline);
    }
    switch (record.outcome) {
      case 'tweet':
        counts.tweetRecords++;
        counts.tweets += record.rows.length;
        break;
      case 'delete':
        counts.deletes++;
        break;
      case 'notice':
        counts.notices++;
        break;
      case 'rejected':
        counts.rejected++;
        rejectedLineNumbers.push(lineNo);
        break;
    }
  }
  if (isArray && !plan.quirks.has('truncated-last-line')) {
    await write(Buffer.concat([Buffer.from(']'), newline]));
  }
  await sink.close();
  const bytesOnDisk = (await stat(filePath)).size;
  const endsWithoutNewline = plan.quirks.has('truncated-last-line');
  return {
    name: plan.name,
    format: plan.format,
    compression: plan.compression,
    quirks: [...plan.quirks],
    bytesOnDisk,
    bytesDecompressed,
    lines: lines + (endsWithoutNewline ? 1 : 0),
    records: records.length,
    ...counts,
    rejectedLineNumbers,
  };
}

const SINK_QUEUE_BYTES = 8 * 1024 * 1024;
// Lines go to gzip in batches: one write per 4 KB line cost a thread-pool round trip each, and
// made writing 5x slower than making the lines.
const SINK_BATCH_BYTES = 1024 * 1024;
// The real 2018 sample compresses 6.4x; these lines, more repetitive, compress 7x at level 1
// and 10x at level 6: level 1 is closer to real files, and faster to write.
const GZIP_LEVEL = 1;

/** A file written through gzip (one member, or a new member on request) or as is. */
class CorpusFileSink {
  private readonly file: WriteStream;
  private gzip: Gzip | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    filePath: string,
    private readonly compression: CorpusFileManifest['compression'],
  ) {
    this.file = createWriteStream(filePath);
    if (compression !== 'none') {
      this.gzip = this.openMember();
    }
  }

  async write(bytes: Buffer): Promise<void> {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= SINK_BATCH_BYTES) {
      await this.flush();
    }
  }

  async startNewMember(): Promise<void> {
    if (this.compression === 'gzip-multi-member') {
      await this.flush();
      await this.finishMember();
      this.gzip = this.openMember();
    }
  }

  async close(): Promise<void> {
    await this.flush();
    await this.finishMember();
    this.file.end();
    await once(this.file, 'close');
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) {
      return;
    }
    const target = this.gzip ?? this.file;
    target.write(Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
    // Let a few MB queue up: gzip compresses on the thread pool while the next lines are made.
    if (target.writableLength > SINK_QUEUE_BYTES) {
      await once(target, 'drain');
    }
  }

  private openMember(): Gzip {
    const gzip = createGzip({ level: GZIP_LEVEL });
    gzip.pipe(this.file, { end: false });
    return gzip;
  }

  private async finishMember(): Promise<void> {
    if (this.gzip === undefined) {
      return;
    }
    const ended = once(this.gzip, 'end');
    this.gzip.end();
    await ended;
    this.gzip = undefined;
  }
}
