import { classifyRecord } from './classify.js';
import { cleanDeletion, cleanV1Tweet, cleanV2Page, cleanV2Tweet } from './clean.js';
import { encodeTweetsCopy } from './encode.js';
import { asBuffer, decodeRecordText, parseRecordJson, rawExcerpt } from './parse-record.js';
import type {
  ChunkCounts,
  ChunkResult,
  ChunkTask,
  DeletionRow,
  RejectedRecord,
  TweetRow,
} from './pipeline.types.js';
import { stripNulCharacters } from './strip-nul.js';

/**
 * The CPU-heavy half of the pipeline, run by the executor's workers: every record of a task is
 * decoded, parsed, classified and cleaned; tweet rows leave as COPY text. Pure: plain data in,
 * plain data (and one transferable byte array) out.
 *
 * Every record is accounted for exactly once: it becomes tweet rows, a deletion, a counted
 * notice, or a RejectedRecord (see ChunkCounts.tweetRecords).
 */
export function processChunk(task: ChunkTask): ChunkResult {
  const bytes = asBuffer(task.bytes);
  const recordCount = task.lineNumbers.length;
  const rows: TweetRow[] = [];
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
    const parsed = parseRecordJson(decodeRecordText(bytes, start, end));
    const cleanStarted = performance.now();
    parseMs += cleanStarted - parseStarted;
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
          rows.push(...cleaned.rows);
        } else {
          reject(lineNo, cleaned.reason, start, end);
        }
        break;
      }
      case 'v2-page': {
        const page = cleanV2Page(classified.page);
        for (const element of page.rejectedElements) {
          reject(lineNo, element.reason, start, end);
        }
        if (page.rows.length > 0) {
          counts.tweetRecords++;
          rows.push(...page.rows);
        } else if (page.rejectedElements.length === 0) {
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

  const encodeStarted = performance.now();
  const tweetsCopy = encodeTweetsCopy(rows);
  const encodeMs = performance.now() - encodeStarted;

  counts.tweets = rows.length;
  counts.rejected = rejected.length;
  return { tweetsCopy, deletions, rejected, counts, timings: { parseMs, cleanMs, encodeMs } };
}
