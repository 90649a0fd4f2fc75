import { describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { BackfillsRepository } from '../../src/backfills/backfills.repository.js';
import { FilesRepository, type FileOutcome } from '../../src/ingest/files.repository.js';
import type { StoredObject } from '../../src/storage/object-store.js';
import { useTestDataSource } from '../support/medium-fixture.js';

const objects = (names: string[]): StoredObject[] => names.map((name) => ({ bucket: 'bucket', name, generation: '1', size: 100, updated: new Date() }));

const threeTweets: FileOutcome = {
  lines: 3,
  tweets: 3,
  inserted: 2,
  duplicates: 1,
  deletes: 0,
  notices: 0,
  rejected: 0,
  bytesRead: 1,
  bytesDecoded: 1,
  timings: { readMs: 0, decompressMs: 0, parseMs: 0, cleanMs: 0, writeMs: 0, totalMs: 0 },
};

const request = (key: string, owner = 'replica-a') => ({ request: { prefix: key }, prefixes: [key], requestKey: JSON.stringify([key]), owner });

describe('BackfillsRepository (real PostgreSQL)', () => {
  let dataSource: DataSource;
  let backfills: BackfillsRepository;
  let files: FilesRepository;

  useTestDataSource({ poolSize: 20, truncate: ['ingest_files', 'backfills'] }, (connected) => {
    dataSource = connected;
    backfills = new BackfillsRepository(connected);
    files = new FilesRepository(connected);
  });

  it('creates one backfill per active request key, even when identical requests race', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, index) => backfills.createOrFindActive(request('a/', `replica-${index}`))));
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.backfill.id)).size).toBe(1);
    expect(results[0]!.backfill).toMatchObject({ status: 'listing', prefixes: ['a/'], request: { prefix: 'a/' }, scheduled: false });
    const other = await backfills.createOrFindActive(request('b/'));
    expect(other.created).toBe(true);
  });

  it('allows the same request again once the earlier one is no longer active', async () => {
    const first = await backfills.createOrFindActive(request('a/'));
    await backfills.cancel(first.backfill.id);
    const second = await backfills.createOrFindActive(request('a/'));
    expect(second.created).toBe(true);
    expect(second.backfill.id).not.toBe(first.backfill.id);
  });

  it('records listing pages, finishes the listing and becomes done once its files are finished', async () => {
    const { backfill } = await backfills.createOrFindActive(request('a/'));
    await files.registerObjects(objects(['a/old']));
    const page = objects(['a/1', 'a/2', 'a/old']);
    const result = await files.registerObjects(page, backfill.id);
    expect(await backfills.recordListedPage(backfill.id, 'replica-a', { listed: 3, enqueued: result.inserted, skipped: result.existing })).toBe('listing');
    expect(await backfills.finishListing(backfill.id, 'replica-a')).toBe(true);
    expect(await backfills.findById(backfill.id)).toMatchObject({ status: 'running', filesListed: 3, filesEnqueued: 2, filesSkipped: 1 });

    expect(await backfills.markFinishedBackfills()).toBe(0);
    const claimed = await files.claimNextFiles('worker', 10, 60_000);
    for (const file of claimed) {
      if (file.name === 'a/1') await files.markFileFailed(file.id, 'worker', 'corrupt');
      else await files.markFileDone(file.id, 'worker', { ...threeTweets });
    }
    const counts = (await backfills.fileCountsOf([backfill.id])).get(backfill.id);
    // a/old was registered outside the backfill: only its own two files count.
    expect(counts).toMatchObject({ pending: 0, processing: 0, done: 1, failed: 1, tweets: 3, inserted: 2, bytesFinished: 200, bytesRemaining: 0 });
    expect(await backfills.markFinishedBackfills()).toBe(1);
    expect(await backfills.findById(backfill.id)).toMatchObject({ status: 'done', finishedAt: expect.any(Date) });
  });

  it('tells a lister that its backfill was cancelled or taken over', async () => {
    const { backfill } = await backfills.createOrFindActive(request('a/'));
    expect(await backfills.recordListedPage(backfill.id, 'someone-else', { listed: 1, enqueued: 1, skipped: 0 })).toBe('lost');
    expect(await backfills.renewListing(backfill.id, 'someone-else')).toBe(false);
    expect(await backfills.renewListing(backfill.id, 'replica-a')).toBe(true);
    await backfills.cancel(backfill.id);
    expect(await backfills.recordListedPage(backfill.id, 'replica-a', { listed: 1, enqueued: 1, skipped: 0 })).toBe('cancelled');
    expect(await backfills.finishListing(backfill.id, 'replica-a')).toBe(false);
  });

  it('cancels only active backfills; withdrawal deletes only pending files of that backfill', async () => {
    const { backfill } = await backfills.createOrFindActive(request('a/'));
    await files.registerObjects(objects(['a/1', 'a/2', 'a/3']), backfill.id);
    await files.registerObjects(objects(['b/1']));
    const [inFlight] = await files.claimNextFiles('worker', 1, 60_000);
    expect(await backfills.cancel(backfill.id)).toMatchObject({ status: 'cancelled' });
    expect(await backfills.cancel(backfill.id)).toBeNull();
    expect(await files.withdrawPendingFiles(backfill.id)).toBe(2);
    const rows: { name: string; status: string }[] = await dataSource.query('SELECT name, status FROM ingest_files ORDER BY name');
    expect(rows).toEqual([
      { name: 'a/1', status: 'processing' },
      { name: 'b/1', status: 'pending' },
    ]);
    expect(inFlight!.name).toBe('a/1');
    // Withdrawn objects can be enqueued again later.
    expect(await files.registerObjects(objects(['a/2', 'a/3']))).toEqual({ inserted: 2, existing: 0 });
  });

  it('starts one scheduled scan per tick however many replicas ask at once', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) => backfills.createScheduledScan({ ...request('', `replica-${index}`), request: { scheduled: true } }, 5000)),
    );
    expect(results.filter((result) => result !== null)).toHaveLength(1);
    // A replica whose tick comes a little late finds the scan created moments ago.
    const late = await backfills.createScheduledScan({ ...request('', 'replica-late') }, 5000);
    expect(late).toBeNull();
    const rows: { scheduled: boolean }[] = await dataSource.query('SELECT scheduled FROM backfills');
    expect(rows).toEqual([{ scheduled: true }]);
  });

  it('starts the next scheduled scan once the window has passed and the last scan is finished', async () => {
    const first = await backfills.createScheduledScan(request(''), 5000);
    expect(first).not.toBeNull();
    // Still active: the next tick does not start a second full scan.
    await dataSource.query(`UPDATE backfills SET created_at = now() - interval '1 hour'`);
    expect(await backfills.createScheduledScan(request(''), 5000)).toBeNull();
    await backfills.finishListing(first!.id, 'replica-a');
    await backfills.markFinishedBackfills();
    expect(await backfills.createScheduledScan(request(''), 5000)).toMatchObject({ scheduled: true, status: 'listing' });
  });

  it('hands a listing over on shutdown, and lets another replica take over a stale one', async () => {
    const { backfill: released } = await backfills.createOrFindActive(request('a/'));
    const { backfill: stale } = await backfills.createOrFindActive(request('b/', 'dead-replica'));
    await backfills.recordListedPage(stale.id, 'dead-replica', { listed: 5, enqueued: 5, skipped: 0 });
    expect(await backfills.claimAbandonedListing('replica-b', 60_000)).toBeNull();

    expect(await backfills.releaseListing(released.id, 'replica-a')).toBe(true);
    expect(await backfills.claimAbandonedListing('replica-b', 60_000)).toMatchObject({ id: released.id });

    await dataSource.query(`UPDATE backfills SET listing_heartbeat_at = now() - interval '2 minutes' WHERE id = $1`, [stale.id]);
    const takenOver = await backfills.claimAbandonedListing('replica-b', 60_000);
    expect(takenOver).toMatchObject({ id: stale.id, filesListed: 0, filesEnqueued: 5 });
    // The dead replica, should it come back, is told it lost the listing.
    expect(await backfills.recordListedPage(stale.id, 'dead-replica', { listed: 1, enqueued: 0, skipped: 0 })).toBe('lost');
  });

  it('reconciles enqueued and skipped with the ledger when a taken-over listing finishes', async () => {
    const { backfill } = await backfills.createOrFindActive(request('a/', 'dead-replica'));
    await files.registerObjects(objects(['a/1', 'a/2']), backfill.id);
    await backfills.recordListedPage(backfill.id, 'dead-replica', { listed: 2, enqueued: 2, skipped: 0 });
    await dataSource.query(`UPDATE backfills SET listing_heartbeat_at = now() - interval '2 minutes'`);
    await backfills.claimAbandonedListing('replica-b', 60_000);
    // The second lister sees all three objects; two of them are its own backfill's already.
    const result = await files.registerObjects(objects(['a/1', 'a/2', 'a/3']), backfill.id);
    await backfills.recordListedPage(backfill.id, 'replica-b', { listed: 3, enqueued: result.inserted, skipped: result.existing });
    await backfills.finishListing(backfill.id, 'replica-b');
    expect(await backfills.findById(backfill.id)).toMatchObject({ filesListed: 3, filesEnqueued: 3, filesSkipped: 0 });
  });

  it('lists newest first with a cursor, and the active ones in id order', async () => {
    for (const key of ['a/', 'b/', 'c/']) await backfills.createOrFindActive(request(key));
    await backfills.cancel('2');
    expect((await backfills.listRecent(2)).map((backfill) => backfill.id)).toEqual(['3', '2']);
    expect((await backfills.listRecent(2, '2')).map((backfill) => backfill.id)).toEqual(['1']);
    expect((await backfills.findActive()).map((backfill) => backfill.id)).toEqual(['1', '3']);
  });
});
