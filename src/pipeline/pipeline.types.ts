// Plain data that crosses the executor boundary (worker threads, child processes).
// No classes, no Dates: only strings, numbers, arrays and typed arrays.

/**
 * One `tweets` row as the cleaner produces it. Ids are decimal strings (beyond 2^53). Text may
 * hold U+0000: the COPY encoder drops it (encode.ts), where PostgreSQL's limit applies.
 */
export interface TweetRow {
  id: string;
  createdAt: string; // ISO 8601, UTC
  userId: string | null;
  userScreenName: string | null;
  text: string;
  lang: string | null;
  retweetedId: string | null;
  quotedId: string | null;
  inReplyToId: string | null;
  hashtags: string[];
  mentions: string[];
  urls: string[];
}

/** One `tweet_deletions` row (from a `{"delete": …}` notice). */
export interface DeletionRow {
  id: string;
  userId: string | null;
  deletedAt: string | null; // ISO 8601, from timestamp_ms when present
}

/** A dead letter: a record that could not become rows. */
export interface RejectedRecord {
  lineNo: number;
  reason: string;
  raw: string; // at most the first KiB of the record
}

/**
 * A batch of complete records cut from the decompressed stream by the splitter.
 * `boundaries` holds [start, end) byte offsets into `bytes`, two entries per record;
 * `lineNumbers[i]` is the 1-based line (JSON lines) or element (JSON array) number of record i.
 */
export interface ChunkTask {
  bytes: Uint8Array;
  boundaries: Uint32Array;
  lineNumbers: Uint32Array;
}

/** What the splitter returns for each pushed chunk: complete tasks and records it refused. */
export interface SplitOutput {
  tasks: ChunkTask[];
  rejected: RejectedRecord[];
}

export interface ChunkCounts {
  records: number;
  // Records that became tweet rows. With deletes, notices and rejected it accounts for every
  // record: records = tweetRecords + deletes + notices + rejected (a v2 page whose `data` holds
  // unusable elements adds one rejected entry per such element on top).
  tweetRecords: number;
  tweets: number; // rows produced, embedded originals included
  deletes: number;
  notices: number; // limit, scrub_geo and other known stream notices
  rejected: number;
}

export interface ChunkTimings {
  parseMs: number;
  cleanMs: number;
  encodeMs: number;
}

export interface ChunkResult {
  /** Tweet rows in PostgreSQL COPY text format, columns in TWEET_COPY_COLUMNS order. */
  tweetsCopy: Uint8Array;
  deletions: DeletionRow[];
  rejected: RejectedRecord[];
  counts: ChunkCounts;
  timings: ChunkTimings;
}

/** Column order of `tweetsCopy`; `source_file_id` and `ingested_at` are set by the writer. */
export const TWEET_COPY_COLUMNS = [
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
] as const;
