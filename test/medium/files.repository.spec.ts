import { describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { FilesRepository, PAUSED_SETTING_KEY, type FileOutcome } from '../../src/ingest/files.repository.js';
import { SettingsRepository } from '../../src/pause/settings.repository.js';
import type { StoredObject } from '../../src/storage/object-store.js';
import { useTestDataSource } from '../support/medium-fixture.js';

const objects = (count: number, prefix = 'f'): StoredObject[] =>
  Array.from({ length: count }, (_, index) => ({
    bucket: 'bucket',
    name: `${prefix}-${String(index).padStart(4, '0')}.jsonl.gz`,
    generation: '1',
    size: 100 + index,
    updated: new Date(),
  }));

const outcome = (tweets: number): FileOutcome => ({
  lines: tweets,
  tweets,
  inserted: tweets,
  duplicates: 0,
  deletes: 0,
  notices: 0,
  rejected: 0,
  bytesRead: 10,
  bytesDecoded: 20,
  timings: { readMs: 1, decompressMs: 2, parseMs: 3, cleanMs: 4, writeMs: 5, totalMs: 15 },
});

describe('FilesRepository (real PostgreSQL)', () => {
  let dataSource: DataSource;
  let files: FilesRepository;

  useTestDataSource({ poolSize: 20, truncate: ['ingest_files', 'service_settings'] }, (connected) => {
    dataSource = connected;
    files = new FilesRepository(connected);
  });

  it('registers each (bucket, name, generation) once; a new generation is a new row', async () => {
    const first = await files.registerObjects(objects(3));
    const again = await files.registerObjects([...objects(3), ...objects(1)]);
    const newGeneration = await files.registerObjects([{ ...objects(1)[0]!, generation: '2' }]);
    expect(first).toEqual({ inserted: 3, existing: 0 });
    expect(again).toEqual({ inserted: 0, existing: 4 });
    expect(newGeneration).toEqual({ inserted: 1, existing: 0 });
    expect(await files.countByStatus()).toEqual({ pending: 4, processing: 0, done: 0, failed: 0 });
  });

  it('never gives the same file to two concurrent claimers', async () => {
    await files.registerObjects(objects(60));
    const claimers = Array.from({ length: 8 }, (_, index) => `replica-${index}`);
    const claimed = (
      await Promise.all(
        claimers.map(async (owner) => {
          const mine = [];
          for (;;) {
            const batch = await files.claimNextFiles(owner, 3, 60_000);
            if (batch.length === 0) return mine;
            mine.push(...batch.map((file) => `${file.id}`));
          }
        }),
      )
    ).flat();
    expect(claimed).toHaveLength(60);
    expect(new Set(claimed).size).toBe(60);
    const rows: { lease_owner: string }[] = await dataSource.query(`SELECT lease_owner FROM ingest_files WHERE status = 'processing'`);
    expect(rows).toHaveLength(60);
  });

  it('claims nothing during the cluster-wide pause when told to honour it, and reads the pause in the same snapshot as the files', async () => {
    const settings = new SettingsRepository(dataSource);
    await settings.writePaused(true);
    await files.registerObjects(objects(2));
    expect(await files.claimNextFiles('replica', 2, 60_000, { honourPause: true })).toEqual([]);
    // The one-shot ingest command does not honour it.
    const [taken] = await files.claimNextFiles('cli', 1, 60_000);
    expect(taken!.name).toBe('f-0000.jsonl.gz');

    // Paused again in one transaction with a new file: until it commits, a claim sees neither
    // (it takes the file registered before); once it commits, both: the new file waits.
    await settings.writePaused(false);
    const writer = dataSource.createQueryRunner();
    await writer.connect();
    try {
      await writer.startTransaction();
      await writer.query(`UPDATE service_settings SET value = 'true'::jsonb WHERE key = $1`, [PAUSED_SETTING_KEY]);
      await writer.query(`INSERT INTO ingest_files (bucket, name, generation) VALUES ('bucket', 'late.jsonl.gz', '1')`);
      const beforeCommit = await files.claimNextFiles('replica', 5, 60_000, { honourPause: true });
      expect(beforeCommit.map((file) => file.name)).toEqual(['f-0001.jsonl.gz']);
      await writer.commitTransaction();
    } finally {
      await writer.release();
    }
    expect(await files.claimNextFiles('replica', 5, 60_000, { honourPause: true })).toEqual([]);
    await settings.writePaused(false);
    expect((await files.claimNextFiles('replica', 5, 60_000, { honourPause: true })).map((file) => file.name)).toEqual(['late.jsonl.gz']);
  });

  it('claims a file again once its lease has expired, and counts the attempt', async () => {
    await files.registerObjects(objects(1));
    const [first] = await files.claimNextFiles('crashed', 1, 60_000);
    expect(first!.attempts).toBe(1);
    expect(await files.claimNextFiles('survivor', 1, 60_000)).toEqual([]);
    await dataSource.query(`UPDATE ingest_files SET lease_expires_at = now() - interval '1 second'`);
    const [second] = await files.claimNextFiles('survivor', 1, 60_000);
    expect(second).toMatchObject({ id: first!.id, attempts: 2, expiredLeaseOwner: 'crashed' });
    // The crashed owner's late writes are refused: the lease is the survivor's now.
    expect(await files.renewLease(first!.id, 'crashed', 60_000)).toBe(false);
    expect(await files.markFileDone(first!.id, 'crashed', outcome(5))).toBe(false);
    expect(await files.markFileDone(first!.id, 'survivor', outcome(5))).toBe(true);
    const [row] = await dataSource.query(`SELECT status, tweets, parse_ms, lease_owner FROM ingest_files`);
    expect(row).toEqual({ status: 'done', tweets: '5', parse_ms: 3, lease_owner: null });
  });

  it('schedules a retry in the future and releases without counting the attempt', async () => {
    await files.registerObjects(objects(2));
    const [a, b] = await files.claimNextFiles('me', 2, 60_000);
    expect(await files.scheduleRetry(a!.id, 'me', 'database hiccup', 60_000)).toBe(true);
    expect(await files.releaseFile(b!.id, 'me')).toBe(true);
    const claimable = await files.claimNextFiles('me', 2, 60_000);
    expect(claimable.map((file) => file.id)).toEqual([b!.id]);
    expect(claimable[0]!.attempts).toBe(1);
    const [retried] = await dataSource.query(`SELECT status, error FROM ingest_files WHERE id = $1`, [a!.id]);
    expect(retried).toEqual({ status: 'pending', error: 'database hiccup' });
  });

  it('marks a file failed with its error and reports progress over a set of ids', async () => {
    await files.registerObjects(objects(3));
    const claimed = await files.claimNextFiles('me', 3, 60_000);
    await files.markFileFailed(claimed[0]!.id, 'me', 'corrupt file f-0000.jsonl.gz: incorrect header check');
    await files.markFileDone(claimed[1]!.id, 'me', outcome(7));
    const progress = await files.progressOf(claimed.map((file) => file.id));
    expect(progress).toMatchObject({ pending: 0, processing: 1, done: 1, failed: 1, tweets: 7, inserted: 7 });
    const summaries = await files.findFileSummaries(claimed.map((file) => file.id));
    expect(summaries[0]).toMatchObject({ status: 'failed', error: 'corrupt file f-0000.jsonl.gz: incorrect header check' });
  });
});
