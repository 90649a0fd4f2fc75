import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { tweetFileContent } from '../../support/tweet-files.js';

// The hostile inputs of fault case 5, written into a bucket folder by the test itself. Each
// carries its own tweet ids (never in the seeded corpus), so the audit can say exactly which
// of them must land.

export const HUGE_LINE_BYTES = 50 * 1024 * 1024;

/** A v1.1 tweet line (the same shape tweetFileContent writes). */
function tweetLine(id: string, text = `tweet ${id}`): string {
  return JSON.stringify({
    created_at: 'Wed Aug 02 10:00:00 +0000 2017',
    id: Number(id),
    id_str: id,
    text,
    lang: 'en',
    user: { id: 42, id_str: '42', screen_name: 'faults' },
    entities: { hashtags: [], user_mentions: [], urls: [] },
  });
}

export interface BadFile {
  name: string;
  bytes: Buffer;
}

export function badFiles(): Record<string, BadFile> {
  const truncatedSource = tweetFileContent(Array.from({ length: 200 }, (_, index) => String(800_000_000_000_000_100n + BigInt(index))));
  // A tweet whose text holds bytes that are not UTF-8 (a lone continuation byte, an overlong
  // sequence, 0xFF) between a valid tweet before and after it.
  const [textBefore, textAfter] = tweetLine('800000000000000002', 'bad:@@@').split('@@@') as [string, string];
  const invalidUtf8 = Buffer.concat([
    Buffer.from(`${tweetLine('800000000000000001', 'before')}\n${textBefore}`),
    Buffer.from([0x80, 0xc0, 0xaf, 0xff]),
    Buffer.from(`${textAfter}\n${tweetLine('800000000000000006', 'after')}\n`),
  ]);
  return {
    corruptGzip: { name: 'bad/corrupt.jsonl.gz', bytes: Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(4096, 0x5a)]) },
    truncatedGzip: { name: 'bad/truncated.jsonl.gz', bytes: truncatedSource.subarray(0, Math.floor(truncatedSource.length * 0.6)) },
    emptyFile: { name: 'bad/empty.jsonl.gz', bytes: Buffer.alloc(0) },
    // Not gzip, not text: a PNG signature then noise (no newline or JSON opener at the start).
    binaryFile: { name: 'bad/image.png', bytes: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(16 * 1024)]) },
    notATweet: { name: 'bad/not-a-tweet.jsonl', bytes: Buffer.from(`${JSON.stringify({ hello: 'world', id_str: 'x' })}\n${tweetLine('800000000000000003')}\n`) },
    hugeLine: {
      name: 'bad/huge-line.jsonl.gz',
      bytes: gzipSync(Buffer.concat([Buffer.from(`{"id_str":"800000000000000004","text":"`), Buffer.alloc(HUGE_LINE_BYTES, 0x61), Buffer.from(`"}\n${tweetLine('800000000000000005')}\n`)])),
    },
    invalidUtf8: { name: 'bad/invalid-utf8.jsonl', bytes: invalidUtf8 },
  };
}

export async function writeBadFiles(bucket: string, files: Record<string, BadFile>): Promise<void> {
  for (const file of Object.values(files)) await writeFile(path.join(bucket, file.name), file.bytes);
}
