import { describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { FilesRepository, type FileOutcome } from '../../src/ingest/files.repository.js';
import type { StoredObject } from '../../src/storage/object-store.js';
import { useTestDataSource } from '../support/medium-fixture.js';

const objects = (names: string[]): StoredObject[] => names.map((name) => ({ bucket: 'bucket', name, generation: '1', size: 1000, updated: new Date() }));

const outcome = (tweets: number, parseMs: number, writeMs: number): FileOutcome => ({
  lines: tweets,
  tweets,
  inserted: tweets,
  duplicates: 0,
  deletes: 0,
  notices: 0,
  rejected: 0,
  bytesRead: 1000,
  bytesDecoded: 5000,
  timings: { readMs: 10, decompressMs: 20, parseMs, cleanMs: 30, writeMs, totalMs: 500 },
});

describe('FilesRepository admin operations (real PostgreSQL)', () => {
  let dataSource: DataSource;
  let files: FilesRepository;

  useTestDataSource({ truncate: ['ingest_files', 'backfills'] }, (connected) => {
    dataSource = connected;
    files = new FilesRepository(connected);
  });

  it('pages through the ledger by id, filtered by status, backfill and prefix', async () => {
    const [{ id: backfillId }]: { id: string }[] = await dataSource.query(`INSERT INTO backfills (request, prefixes) VALUES ('{}', '{}') RETURNING id`);
    await files.registerObjects(objects(['2017/08/a', '2017/08/b', '2017_08/c']), String(backfillId));
    await files.registerObjects(objects(['2017/09/a', '2017/09/b']));
    const [first] = await files.claimNextFiles('me', 1, 60_000);
    await files.markFileFailed(first!.id, 'me', 'corrupt');

    const page1 = await files.listFiles({ limit: 2 });
    const page2 = await files.listFiles({ limit: 2, afterId: page1[1]!.id });
    const page3 = await files.listFiles({ limit: 2, afterId: page2[1]!.id });
    expect([...page1, ...page2, ...page3].map((file) => file.name)).toEqual(['2017/08/a', '2017/08/b', '2017_08/c', '2017/09/a', '2017/09/b']);
    expect((await files.listFiles({ limit: 10, status: 'failed' })).map((file) => file.name)).toEqual(['2017/08/a']);
    expect((await files.listFiles({ limit: 10, backfillId: String(backfillId) })).map((file) => file.name)).toEqual(['2017/08/a', '2017/08/b', '2017_08/c']);
    // '_' is not a wildcard: 2017_08/ does not match 2017/08/ and vice versa.
    expect((await files.listFiles({ limit: 10, prefix: '2017/08/' })).map((file) => file.name)).toEqual(['2017/08/a', '2017/08/b']);
    expect((await files.listFiles({ limit: 10, prefix: '2017_08/' })).map((file) => file.name)).toEqual(['2017_08/c']);
    expect(page1[0]).toMatchObject({ id: first!.id, status: 'failed', error: 'corrupt', attempts: 1, backfillId: String(backfillId), size: 1000 });
  });

  it('shows a file with its first rejected records in line order', async () => {
    await files.registerObjects(objects(['a']));
    const [file] = await files.listFiles({ limit: 1 });
    for (const line of [30, 2, 11]) {
      await dataSource.query(`INSERT INTO rejected_records (file_id, line_no, reason, raw) VALUES ($1, $2, 'invalid JSON', 'x')`, [file!.id, line]);
    }
    expect((await files.findRejectedRecords(file!.id, 2)).map((record) => record.lineNo)).toEqual([2, 11]);
    expect(await files.findFile(file!.id)).toMatchObject({ name: 'a', status: 'pending' });
    expect(await files.findFile('999')).toBeNull();
  });

  it('retries only a failed file: pending, attempts 0, claimable now, the last error kept', async () => {
    await files.registerObjects(objects(['a', 'b']));
    const [a, b] = await files.claimNextFiles('me', 2, 60_000);
    await files.markFileFailed(a!.id, 'me', 'gave up after 5 attempts: connection reset');
    expect(await files.retryFailedFile(b!.id)).toBeNull();
    expect(await files.retryFailedFile(a!.id)).toMatchObject({ status: 'pending', attempts: 0, finishedAt: null, error: 'gave up after 5 attempts: connection reset' });
    const [again] = await files.claimNextFiles('me', 1, 60_000);
    expect(again).toMatchObject({ id: a!.id, attempts: 1 });
    await files.markFileDone(a!.id, 'me', outcome(3, 1, 1));
    expect(await files.findFile(a!.id)).toMatchObject({ status: 'done', error: null });
  });

  it('measures throughput and stage time over recently finished files only', async () => {
    await files.registerObjects(objects(['a', 'b', 'c']));
    const [a, b, c] = await files.claimNextFiles('me', 3, 60_000);
    await files.markFileDone(a!.id, 'me', outcome(100, 400, 100));
    await files.markFileDone(b!.id, 'me', outcome(50, 200, 900));
    await files.markFileDone(c!.id, 'me', outcome(7, 1, 1));
    await dataSource.query(`UPDATE ingest_files SET finished_at = now() - interval '5 minutes' WHERE id = $1`, [b!.id]);
    await dataSource.query(`UPDATE ingest_files SET finished_at = now() - interval '1 hour' WHERE id = $1`, [c!.id]);

    const throughput = await files.recentThroughput();
    expect(throughput.lastMinute).toEqual({ files: 1, tweets: 100, inserted: 100, bytesRead: 1000 });
    expect(throughput.last15Minutes).toEqual({ files: 2, tweets: 150, inserted: 150, bytesRead: 2000 });
    expect(await files.recentStageTimings(15 * 60)).toEqual({
      files: 2,
      timings: { readMs: 20, decompressMs: 40, parseMs: 600, cleanMs: 60, writeMs: 1000, totalMs: 1000 },
    });
  });
});
