import { ConflictException, NotFoundException } from '@nestjs/common';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { parseEnvironment } from '../config/environment.js';
import type { FilesRepository } from '../ingest/files.repository.js';
import type { IngestRunner } from '../ingest/ingest-runner.service.js';
import type { ObjectStore, StoredObject } from '../storage/object-store.js';
import type { BackfillRecord, BackfillsRepository, ListingProgress } from './backfills.repository.js';
import { BackfillsService } from './backfills.service.js';

const object = (name: string): StoredObject => ({ bucket: 'b', name, generation: '1', size: 100, updated: new Date(0) });

const record = (overrides: Partial<BackfillRecord> = {}): BackfillRecord => ({
  id: '7',
  request: { months: ['2017-08'] },
  prefixes: ['tweets/2017/08/'],
  status: 'listing',
  scheduled: false,
  filesListed: 0,
  filesEnqueued: 0,
  filesSkipped: 0,
  error: null,
  createdAt: new Date(0),
  listedAt: null,
  finishedAt: null,
  ...overrides,
});

/** A store whose listing yields the given pages per prefix; `gate` can hold a page back. */
function storeOf(pagesByPrefix: Record<string, StoredObject[][]>, gate?: Promise<void>): ObjectStore {
  return {
    list: async function* (prefix = '') {
      for (const page of pagesByPrefix[prefix] ?? []) {
        if (gate) await gate;
        yield page;
      }
    },
  } as unknown as ObjectStore;
}

function setUp(options: { store: ObjectStore; progress?: ListingProgress[]; template?: string }) {
  const progress = [...(options.progress ?? [])];
  const backfills = {
    createOrFindActive: vi.fn(async (input: { prefixes: string[]; request: Record<string, unknown> }) => ({
      backfill: record({ prefixes: input.prefixes, request: input.request }),
      created: true,
    })),
    createScheduledScan: vi.fn(async (): Promise<BackfillRecord | null> => record({ scheduled: true, prefixes: [''] })),
    recordListedPage: vi.fn(async (): Promise<ListingProgress> => progress.shift() ?? 'listing'),
    renewListing: vi.fn(async () => true),
    finishListing: vi.fn(async () => true),
    failListing: vi.fn(async () => true),
    releaseListing: vi.fn(async () => true),
    claimAbandonedListing: vi.fn(async (): Promise<BackfillRecord | null> => null),
    markFinishedBackfills: vi.fn(async () => 0),
    fileCountsOf: vi.fn(async () => new Map()),
    findById: vi.fn(async (): Promise<BackfillRecord | null> => null),
    cancel: vi.fn(async (): Promise<BackfillRecord | null> => null),
  };
  const files = {
    registerObjects: vi.fn(async (objects: readonly StoredObject[], _backfillId?: string | null) => ({
      inserted: objects.filter((item) => !item.name.includes('old')).length,
      existing: objects.filter((item) => item.name.includes('old')).length,
    })),
    withdrawPendingFiles: vi.fn(async () => 3),
  };
  const runner = { owner: 'replica-a', notify: vi.fn() };
  const config = parseEnvironment({ BACKFILL_MONTH_PREFIX: options.template ?? 'tweets/{YYYY}/{MM}/' });
  const service = new BackfillsService(
    config,
    pino({ level: 'silent' }),
    options.store,
    backfills as unknown as BackfillsRepository,
    files as unknown as FilesRepository,
    runner as unknown as IngestRunner,
  );
  return { service, backfills, files, runner };
}

describe('BackfillsService', () => {
  it('creates a backfill, answers at once, and lists every prefix page by page into the ledger', async () => {
    const store = storeOf({
      'tweets/2017/08/': [[object('tweets/2017/08/a'), object('tweets/2017/08/old-b')], [object('tweets/2017/08/c')]],
      'tweets/2017/09/': [[object('tweets/2017/09/a')]],
    });
    const { service, backfills, files, runner } = setUp({ store });
    const created = await service.create({ months: ['2017-09', '2017-08'] });
    expect(created).toMatchObject({ id: '7', status: 'listing', created: true, prefixes: ['tweets/2017/08/', 'tweets/2017/09/'] });
    expect(backfills.createOrFindActive).toHaveBeenCalledWith(expect.objectContaining({ owner: 'replica-a', requestKey: '["tweets/2017/08/","tweets/2017/09/"]' }));

    await vi.waitFor(() => expect(backfills.finishListing).toHaveBeenCalledWith('7', 'replica-a'));
    expect(files.registerObjects.mock.calls.map(([page, id]) => [page.map((item) => item.name), id])).toEqual([
      [['tweets/2017/08/a', 'tweets/2017/08/old-b'], '7'],
      [['tweets/2017/08/c'], '7'],
      [['tweets/2017/09/a'], '7'],
    ]);
    expect(backfills.recordListedPage.mock.calls).toEqual([
      ['7', 'replica-a', { listed: 2, enqueued: 1, skipped: 1 }],
      ['7', 'replica-a', { listed: 1, enqueued: 1, skipped: 0 }],
      ['7', 'replica-a', { listed: 1, enqueued: 1, skipped: 0 }],
    ]);
    expect(runner.notify).toHaveBeenCalledTimes(3);
    await vi.waitFor(() => expect(backfills.markFinishedBackfills).toHaveBeenCalled());
    expect(files.withdrawPendingFiles).not.toHaveBeenCalled();
  });

  it('returns the active identical backfill without listing again', async () => {
    const { service, backfills, files } = setUp({ store: storeOf({}) });
    backfills.createOrFindActive.mockResolvedValueOnce({ backfill: record({ status: 'running' }), created: false });
    expect(await service.create({ from: '2017-08', to: '2017-08' })).toMatchObject({ id: '7', status: 'running', created: false });
    await new Promise((resolve) => setImmediate(resolve));
    expect(files.registerObjects).not.toHaveBeenCalled();
  });

  it('stops listing when the backfill was cancelled meanwhile, withdrawing what it had just registered', async () => {
    const store = storeOf({ 'tweets/2017/08/': [[object('tweets/2017/08/a')], [object('tweets/2017/08/b')]] });
    const { service, backfills, files } = setUp({ store, progress: ['cancelled'] });
    await service.create({ months: ['2017-08'] });
    await vi.waitFor(() => expect(files.withdrawPendingFiles).toHaveBeenCalledWith('7'));
    expect(files.registerObjects).toHaveBeenCalledTimes(1);
    expect(backfills.finishListing).not.toHaveBeenCalled();
  });

  it('stops listing without withdrawing when another replica took the listing over', async () => {
    const store = storeOf({ 'tweets/2017/08/': [[object('tweets/2017/08/a')], [object('tweets/2017/08/b')]] });
    const { service, backfills, files } = setUp({ store, progress: ['lost'] });
    await service.create({ months: ['2017-08'] });
    await vi.waitFor(() => expect(backfills.recordListedPage).toHaveBeenCalledTimes(1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(files.registerObjects).toHaveBeenCalledTimes(1);
    expect(files.withdrawPendingFiles).not.toHaveBeenCalled();
    expect(backfills.finishListing).not.toHaveBeenCalled();
  });

  it('marks the backfill failed when listing the store fails', async () => {
    const store = {
      list: async function* () {
        yield* [];
        throw new Error('storage unavailable');
      },
    } as unknown as ObjectStore;
    const { service, backfills } = setUp({ store });
    await service.create({ prefix: 'tweets/' });
    await vi.waitFor(() => expect(backfills.failListing).toHaveBeenCalledWith('7', 'replica-a', 'listing failed: storage unavailable'));
  });

  it('on stop, abandons the listing in progress and hands it over', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const store = storeOf({ 'tweets/': [[object('tweets/a')]] }, gate);
    const { service, backfills, files } = setUp({ store });
    await service.create({ prefix: 'tweets/' });
    const stopped = service.stop();
    open();
    await stopped;
    expect(files.registerObjects).not.toHaveBeenCalled();
    expect(backfills.releaseListing).toHaveBeenCalledWith('7', 'replica-a');
    expect(await service.createScheduledScan(1000)).toBeNull();
  });

  it('resumes a listing abandoned by another replica', async () => {
    const store = storeOf({ 'tweets/': [[object('tweets/a')]] });
    const { service, backfills, files } = setUp({ store });
    backfills.claimAbandonedListing.mockResolvedValueOnce(record({ id: '9', prefixes: ['tweets/'] }));
    await service.maintain();
    expect(backfills.markFinishedBackfills).toHaveBeenCalled();
    await vi.waitFor(() => expect(backfills.finishListing).toHaveBeenCalledWith('9', 'replica-a'));
    expect(files.registerObjects).toHaveBeenCalledWith([object('tweets/a')], '9');
  });

  it('starts the scheduled full scan of the whole root, or nothing when another replica has it', async () => {
    const store = storeOf({ '': [[object('x')]] });
    const { service, backfills, files } = setUp({ store });
    await service.createScheduledScan(1500);
    expect(backfills.createScheduledScan).toHaveBeenCalledWith(
      { request: { scheduled: true, prefix: '' }, prefixes: [''], requestKey: '[""]', owner: 'replica-a' },
      1500,
    );
    await vi.waitFor(() => expect(files.registerObjects).toHaveBeenCalledWith([object('x')], '7'));

    backfills.createScheduledScan.mockResolvedValueOnce(null);
    expect(await service.createScheduledScan(1500)).toBeNull();
    expect(files.registerObjects).toHaveBeenCalledTimes(1);
  });

  it('cancels an active backfill and withdraws its pending files', async () => {
    const { service, backfills, files } = setUp({ store: storeOf({}) });
    backfills.cancel.mockResolvedValueOnce(record({ status: 'cancelled' }));
    expect(await service.cancel('7')).toMatchObject({ id: '7', status: 'cancelled', withdrawn: 3 });
    expect(files.withdrawPendingFiles).toHaveBeenCalledWith('7');
  });

  it('answers 404 for an unknown backfill, 409 for a finished one, and repeats a cancel harmlessly', async () => {
    const { service, backfills, files } = setUp({ store: storeOf({}) });
    await expect(service.cancel('8')).rejects.toBeInstanceOf(NotFoundException);
    backfills.findById.mockResolvedValueOnce(record({ status: 'done' }));
    await expect(service.cancel('7')).rejects.toBeInstanceOf(ConflictException);
    backfills.findById.mockResolvedValueOnce(record({ status: 'cancelled' }));
    expect(await service.cancel('7')).toMatchObject({ status: 'cancelled', withdrawn: 0 });
    expect(files.withdrawPendingFiles).not.toHaveBeenCalled();
    await expect(service.get('8')).rejects.toBeInstanceOf(NotFoundException);
  });

  it('refreshes finished backfills before answering a read', async () => {
    const { service, backfills } = setUp({ store: storeOf({}) });
    backfills.findById.mockResolvedValueOnce(record({ status: 'done' }));
    await service.get('7');
    expect(backfills.markFinishedBackfills).toHaveBeenCalledBefore(backfills.findById);
  });

  it('refuses to start with a month template that escapes the storage root', () => {
    expect(() => setUp({ store: storeOf({}), template: '../{YYYY}/{MM}/' })).toThrow(/^BACKFILL_MONTH_PREFIX: /);
  });
});
