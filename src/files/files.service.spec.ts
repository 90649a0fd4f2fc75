import { ConflictException, NotFoundException } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import type { FilesRepository, LedgerFile } from '../ingest/files.repository.js';
import type { IngestRunner } from '../ingest/ingest-runner.service.js';
import { FilesService } from './files.service.js';

const ledgerFile = (overrides: Partial<LedgerFile> = {}): LedgerFile => ({
  id: '5',
  bucket: 'b',
  name: '2017/08/a.jsonl.gz',
  generation: '1',
  size: 10,
  status: 'failed',
  attempts: 5,
  backfillId: null,
  error: 'corrupt file',
  lines: 0,
  tweets: 0,
  inserted: 0,
  duplicates: 0,
  deletes: 0,
  notices: 0,
  rejected: 0,
  bytesRead: 0,
  bytesDecoded: 0,
  timings: { readMs: 0, decompressMs: 0, parseMs: 0, cleanMs: 0, writeMs: 0, totalMs: 0 },
  leaseOwner: null,
  leaseExpiresAt: null,
  nextAttemptAt: new Date(0),
  createdAt: new Date(0),
  startedAt: null,
  finishedAt: null,
  ...overrides,
});

function setUp() {
  const files = {
    listFiles: vi.fn(async (): Promise<LedgerFile[]> => []),
    findFile: vi.fn(async (): Promise<LedgerFile | null> => null),
    findRejectedRecords: vi.fn(async () => [{ lineNo: 3, reason: 'invalid JSON', raw: '{', createdAt: new Date(0) }]),
    retryFailedFile: vi.fn(async (): Promise<LedgerFile | null> => null),
  };
  const runner = { notify: vi.fn() };
  return { service: new FilesService(files as unknown as FilesRepository, runner as unknown as IngestRunner), files, runner };
}

describe('FilesService', () => {
  it('passes the filters and cursor through, and gives the next cursor only after a full page', async () => {
    const { service, files } = setUp();
    files.listFiles.mockResolvedValueOnce([ledgerFile({ id: '8' }), ledgerFile({ id: '9' })]);
    expect((await service.list({ status: 'failed', backfill: '3', prefix: '2017/', after: '7', limit: 2 })).nextCursor).toBe('9');
    expect(files.listFiles).toHaveBeenCalledWith({ status: 'failed', backfillId: '3', prefix: '2017/', afterId: '7', limit: 2 });
    files.listFiles.mockResolvedValueOnce([ledgerFile()]);
    expect(await service.list({})).toMatchObject({ nextCursor: null });
    expect(files.listFiles).toHaveBeenLastCalledWith(expect.objectContaining({ limit: 100 }));
  });

  it('shows a file with its first 20 rejected records, or 404', async () => {
    const { service, files } = setUp();
    await expect(service.get('5')).rejects.toBeInstanceOf(NotFoundException);
    files.findFile.mockResolvedValueOnce(ledgerFile());
    expect(await service.get('5')).toMatchObject({ id: '5', rejectedRecords: [{ lineNo: 3 }] });
    expect(files.findRejectedRecords).toHaveBeenCalledWith('5', 20);
  });

  it('retries a failed file and wakes the claim loop', async () => {
    const { service, files, runner } = setUp();
    files.retryFailedFile.mockResolvedValueOnce(ledgerFile({ status: 'pending', attempts: 0 }));
    expect(await service.retry('5')).toMatchObject({ status: 'pending', attempts: 0 });
    expect(runner.notify).toHaveBeenCalled();
  });

  it('answers 409 for a file that is not failed and 404 for a missing one', async () => {
    const { service, files, runner } = setUp();
    files.findFile.mockResolvedValueOnce(ledgerFile({ status: 'done' }));
    await expect(service.retry('5')).rejects.toThrow(new ConflictException('file 5 is done; only a failed file can be retried'));
    await expect(service.retry('6')).rejects.toBeInstanceOf(NotFoundException);
    expect(runner.notify).not.toHaveBeenCalled();
  });
});
