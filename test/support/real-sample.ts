import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PROJECT_ROOT } from '../../src/project-paths.js';

export const REAL_SAMPLE = path.resolve(PROJECT_ROOT, '../shared/data/real-tweets/streaming-sample-2018.jsonl.gz');

interface RawTweet {
  id_str: string;
  retweeted_status?: RawTweet;
  quoted_status?: RawTweet;
}

/**
 * An oracle independent of the pipeline: the distinct tweet ids of the real sample, read with
 * a plain JSON.parse of each line (top-level tweets and every embedded original).
 */
export function realSampleTweetIds(): string[] {
  const ids = new Set<string>();
  const visit = (tweet: RawTweet | undefined) => {
    if (!tweet) return;
    ids.add(tweet.id_str);
    visit(tweet.retweeted_status);
    visit(tweet.quoted_status);
  };
  for (const line of gunzipSync(readFileSync(REAL_SAMPLE)).toString('utf8').split('\n')) {
    if (line.trim()) visit(JSON.parse(line) as RawTweet);
  }
  return [...ids].sort();
}
