import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/project-paths.js';
import { generateCorpus, type CorpusManifest } from '../support/corpus-generator.js';

// bench/write-cost.ts (the database half alone, for A/B comparisons of the write path) on a tiny
// corpus: it must write exactly what the service writes, the same in every round. No timing is
// asserted (benchmarks are not tests). Needs the build (the test databases are migrated from
// dist/; npm test builds first).

const run = promisify(execFile);

describe('bench/write-cost.ts', () => {
  const corpusDir = mkdtempSync(path.join(tmpdir(), 'write-cost-'));
  afterAll(() => rmSync(corpusDir, { recursive: true, force: true }));

  let manifest: CorpusManifest;
  let stdout = '';
  beforeAll(async () => {
    manifest = await generateCorpus({ outDir: corpusDir, files: 3, tweetsPerFile: 120, seed: 5 });
    ({ stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/write-cost.ts', '--files', '3', '--rounds', '2', corpusDir], {
      cwd: PROJECT_ROOT,
    }));
  }, 120_000);

  it("writes every file's batch through the service's repository: the manifest's rows, in every round", () => {
    const rounds = [...stdout.matchAll(/^round (\d)\/2: backend CPU (\d+ ms|n\/a), wall \d+ ms; (\d+) rows in tweets, (\d+) in tweet_deletions$/gm)];
    expect(rounds.map((round) => round[1])).toEqual(['1', '2']);
    for (const round of rounds) {
      expect(Number(round[3])).toBe(manifest.expected.tweetIds.length);
      expect(Number(round[4])).toBe(manifest.expected.deletedIds.length);
    }
    expect(stdout).toMatch(/^3 files: 3 batches, \d+ tweet rows \([\d.]+ MB of COPY text\), \d+ deletions$/m);
    expect(stdout).toMatch(/^median: backend CPU .*, wall \d+ ms$/m);
  });

  it("reads the PostgreSQL backend's CPU time when the server runs on this machine", () => {
    const host = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres').hostname;
    const local = ['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(host);
    if (local) expect(stdout).toMatch(/^median: backend CPU \d+ ms \([\d.]+ µs per tweet row\)/m);
    else expect(stdout).toMatch(/^median: backend CPU n\/a \(PostgreSQL is not on this machine\)/m);
  });
});
