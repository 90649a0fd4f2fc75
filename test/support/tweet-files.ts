import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** A few minimal v1.1 tweets (each with its own id_str) as one gzipped JSON-lines file. */
export function tweetFileContent(ids: readonly string[]): Buffer {
  const lines = ids.map((id, index) =>
    JSON.stringify({
      created_at: 'Wed Aug 02 10:00:00 +0000 2017',
      id: Number(id),
      id_str: id,
      text: `tweet ${id} #backfill`,
      lang: 'en',
      user: { id: 1000 + index, id_str: String(1000 + index), screen_name: `user${index}` },
      entities: { hashtags: [{ text: 'backfill' }], user_mentions: [], urls: [] },
    }),
  );
  return gzipSync(`${lines.join('\n')}\n`);
}

export interface WrittenTweetFile {
  /** Object name relative to the bucket folder. */
  name: string;
  ids: string[];
}

/**
 * Writes `filesPerFolder` files of `tweetsPerFile` tweets under each folder (e.g. `2017/08`),
 * with ids unique across all of them, starting at `firstId`.
 */
export async function writeTweetFiles(
  bucket: string,
  folders: readonly string[],
  options: { filesPerFolder: number; tweetsPerFile: number; firstId?: bigint },
): Promise<WrittenTweetFile[]> {
  let nextId = options.firstId ?? 900_000_000_000_000_000n;
  const written: WrittenTweetFile[] = [];
  for (const folder of folders) {
    await mkdir(path.join(bucket, folder), { recursive: true });
    for (let file = 0; file < options.filesPerFolder; file += 1) {
      const ids = Array.from({ length: options.tweetsPerFile }, () => String(nextId++));
      const name = `${folder}/part-${String(file).padStart(3, '0')}.jsonl.gz`;
      await writeFile(path.join(bucket, name), tweetFileContent(ids));
      written.push({ name, ids });
    }
  }
  return written;
}
