import { classifyRecord } from './classify.js';
import { cleanDeletion, cleanV1Tweet, cleanV2Page, cleanV2Tweet, type CleanedV2Page } from './clean.js';
import { TweetCopyWriter } from './encode.js';
import type { JsonObject } from './json-fields.js';
import { asBuffer, decodeRecordText, parseRecordJson, rawExcerpt } from './parse-record.js';
import type {
  ChunkCounts,
  ChunkResult,
  ChunkTask,
  DeletionRow,
  RejectedRecord,
  TweetRow,
} from './pipeline.types.js';
import { selectiveParseRecord } from './selective-parse.js';
import { stripNulCharacters } from './strip-nul.js';
import { writeV1TweetCopy } from './v1-copy.js';

/** How records are parsed: the selective reader with JSON.parse behind it, or JSON.parse alone (the reference). */
export type RecordParser = 'selective' | 'json-parse';

/**
 * The CPU-heavy half of the pipeline, run by the executor's workers: every record of a task is
 * decoded, parsed, classified and cleaned; tweet rows leave as COPY text. Pure: plain data in,
 * plain data (and one transferable byte array) out.
 *
 * Every record is accounted for exactly once: it becomes tweet rows, a deletion, a counted
 * notice, or a RejectedRecord (see ChunkCounts.tweetRecords).
 */
export function processChunk(task: ChunkTask, parser: RecordParser = 'selective'): ChunkResult {
  const bytes = asBuffer(task.bytes);
  const recordCount = task.lineNumbers.length;
  const copy = new TweetCopyWriter();
  const deletions: DeletionRow[] = [];
  const rejected: RejectedRecord[] = [];
  const counts: ChunkCounts = {
    records: recordCount,
    tweetRecords: 0,
    tweets: 0,
    deletes: 0,
    notices: 0,
    rejected: 0,
  };
  let parseMs = 0;
  let cleanMs = 0;

  const reject = (lineNo: number, reason: string, start: number, end: number): void => {
    rejected.push({ lineNo, reason: stripNulCharacters(reason), raw: rawExcerpt(bytes, start, end) });
  };

  for (let record = 0; record < recordCount; record++) {
    const start = task.boundaries[2 * record];
    const end = task.boundaries[2 * record + 1];
    const lineNo = task.lineNumbers[record];

    const parseStarted = performance.now();
    if (parser === 'selective') {
      // A v1.1 tweet straight to COPY text when the fast path can; 0 rows means it gave up.
      const written = writeV1TweetCopy(bytes, start, end, copy);
      if (written > 0) {
        counts.tweetRecords++;
        counts.tweets += written;
        parseMs += performance.now() - parseStarted;
        continue;
      }
      // The selective reader answers for v1.1 tweets and delete notices that clean without a
      // rejection; everything else (other kinds, invalid JSON, rejections, whose reasons quote
      // whole values) goes through JSON.parse below, so the outcome is JSON.parse's.
      const value = selectiveParseRecord(bytes, start, end);
      const cleanStarted = performance.now();
      parseMs += cleanStarted - parseStarted;
      if (value !== undefined && takeSelective(value, copy, deletions, counts)) {
        cleanMs += performance.now() - cleanStarted;
        continue;
      }
    }
    const parseAgainStarted = performance.now();
    const parsed = parseRecordJson(decodeRecordText(bytes, start, end));
    const cleanStarted = performance.now();
    parseMs += cleanStarted - parseAgainStarted;
    if (!parsed.ok) {
      reject(lineNo, parsed.reason, start, end);
      continue;
    }

    const classified = classifyRecord(parsed.value);
    switch (classified.kind) {
      case 'v1-tweet':
      case 'v2-tweet': {
        const cleaned =
          classified.kind === 'v1-tweet'
            ? cleanV1Tweet(classified.tweet)
            : cleanV2Tweet(classified.tweet);
        if (cleaned.ok) {
          counts.tweetRecords++;
          addRows(copy, cleaned.rows, counts);
        } else {
          reject(lineNo, cleaned.reason, start, end);
        }
        break;
      }
      case 'v2-page': {
        const page = cleanV2Page(classified.page);
        // One dead letter per line (rejected_records is unique per file and line).
        if (page.rejectedCount > 0) reject(lineNo, describePageRejections(page), start, end);
        if (page.rows.length > 0) {
          counts.tweetRecords++;
          addRows(copy, page.rows, counts);
        } else if (page.rejectedCount === 0) {
          // `"data": []`: a page of no results.
          counts.notices++;
        }
        break;
      }
      case 'delete': {
        const cleaned = cleanDeletion(classified.notice);
        if (cleaned.ok) {
          counts.deletes++;
          deletions.push(cleaned.deletion);
        } else {
          reject(lineNo, cleaned.reason, start, end);
        }
        break;
      }
      case 'notice':
        counts.notices++;
        break;
      case 'rejected':
        reject(lineNo, classified.reason, start, end);
        break;
    }
    cleanMs += performance.now() - cleanStarted;
  }

  // Rows are encoded as they are cleaned (cleanMs includes it); this is the final copy.
  const encodeStarted = performance.now();
  const tweetsCopy = copy.finish();
  const encodeMs = performance.now() - encodeStarted;

  counts.rejected = rejected.length;
  return { tweetsCopy, deletions, rejected, counts, timings: { parseMs, cleanMs, encodeMs } };
}

/** Rows of a selectively read record when it is a v1.1 tweet or a delete that cleans; false otherwise. */
function takeSelective(
  value: JsonObject,
  copy: TweetCopyWriter,
  deletions: DeletionRow[],
  counts: ChunkCounts,
): boolean {
  const classified = classifyRecord(value);
  if (classified.kind === 'v1-tweet') {
    const cleaned = cleanV1Tweet(classified.tweet);
    if (!cleaned.ok) return false;
    counts.tweetRecords++;
    addRows(copy, cleaned.rows, counts);
    return true;
  }
  if (classified.kind === 'delete') {
    const cleaned = cleanDeletion(classified.notice);
    if (!cleaned.ok) return false;
    counts.deletes++;
    deletions.push(cleaned.deletion);
    return true;
  }
  return false;
}

function addRows(copy: TweetCopyWriter, rows: readonly TweetRow[], counts: ChunkCounts): void {
  for (const row of rows) copy.add(row);
  counts.tweets += rows.length;
}

/** The one reason a page line is a dead letter for: its bad element, or how many and the first. */
function describePageRejections(page: CleanedV2Page): string {
  const first = page.rejectedElements[0]!.reason;
  if (page.rejectedCount === 1) return first;
  return `${page.rejectedCount} of ${page.elements} data elements rejected, first: ${page.rejectedElements.map((element) => element.reason).join('; ')}`;
}
