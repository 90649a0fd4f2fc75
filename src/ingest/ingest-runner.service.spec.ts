import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseEnvironment } from '../config/environment.js';
import type { FileProcessor } from './file-processor.js';
import type { ClaimedFile, FileOutcome, FilesRepository } from './files.repository.js';
import { DatabaseUnavailableError, PermanentError } from './ingest.errors.js';
import { IngestRunner } from './ingest-runner.service.js';

const claimedFile = (overrides: Partial<ClaimedFile> = {}): ClaimedFile => ({
  id: '1',
  bucket: 'b',
  name: 'part-1.jsonl.gz',
  generation: '1',
  size: 10,
  attempts: 1,
  backfillId: null,
  expiredLeaseOwner: null,
  ...overrides,
});

const outcome = { lines: 1, tweets: 1, inserted: 1, duplicates: 0, deletes: 0, notices: 0, rejected: 0, bytesRead: 1, bytesDecoded: 1, timings: { readMs: 0, decompressMs: 0, parseMs: 0, cleanMs: 0, writeMs: 0, totalMs: 0 } } satisfies FileOutcome;

function setUp(file: ClaimedFile, process: (file: ClaimedFile, signal: AbortSignal) => Promise<FileOutcome>) {
  let handedOut = false;
  const files = {
    claimNextFiles: vi.fn(async () => {
      if (handedOut) return [];
      handedOut = true;
      return [file];
    }),
    renewLease: vi.fn(async () => true),
    markFileDone: vi.fn(async () => true),
    markFileFailed: vi.fn(async (_id: string, _owner: string | null, _error: string) => true),
    scheduleRetry: vi.fn(async () => true),
    releaseFile: vi.fn(async () => true),
  };
  const config = parseEnvironment({ MAX_ATTEMPTS: '3', RETRY_BASE_MS: '1000', POLL_INTERVAL_MS: '50', LEASE_MS: '60000' });
  const runner = new IngestRunner(config, pino({ level: 'silent' }), files as unknown as FilesRepository, { process } as unknown as FileProcessor);
  return { runner, files };
}

describe('IngestRunner', () => {
  let runner: IngestRunner | undefined;
  afterEach(async () => {
    await runner?.drain(0);
  });

  it('records a processed file as done with its outcome', async () => {
    const setup = setUp(claimedFile(), async () => outcome);
    runner = setup.runner;
    runner.start();
    await vi.waitFor(() => expect(setup.files.markFileDone).toHaveBeenCalledWith('1', runner!.owner, outcome));
    expect(setup.files.scheduleRetry).not.toHaveBeenCalled();
  });

  it('reports each file processed to the end to the file-finished listener', async () => {
    const setup = setUp(claimedFile(), async () => outcome);
    runner = setup.runner;
    const finished = vi.fn();
    runner.setFileFinishedListener(finished);
    runner.start();
    await vi.waitFor(() => expect(finished).toHaveBeenCalledWith({ file: claimedFile(), outcome }));
  });

  it('records a file as done even when the file-finished listener throws', async () => {
    const setup = setUp(claimedFile(), async () => outcome);
    runner = setup.runner;
    runner.setFileFinishedListener(() => {
      throw new Error('observer bug');
    });
    runner.start();
    await vi.waitFor(() => expect(runner!.state().processed.done).toBe(1));
    expect(setup.files.markFileDone).toHaveBeenCalledTimes(1);
    expect(setup.files.scheduleRetry).not.toHaveBeenCalled();
    expect(setup.files.markFileFailed).not.toHaveBeenCalled();
  });

  it('fails a file at once on a permanent error, with the error as its reason', async () => {
    const setup = setUp(claimedFile(), async () => {
      throw new PermanentError('corrupt file part-1.jsonl.gz: incorrect header check');
    });
    runner = setup.runner;
    runner.start();
    await vi.waitFor(() =>
      expect(setup.files.markFileFailed).toHaveBeenCalledWith('1', runner!.owner, 'corrupt file part-1.jsonl.gz: incorrect header check'),
    );
    expect(setup.files.scheduleRetry).not.toHaveBeenCalled();
  });

  it('retries a transient error with a delay that doubles per attempt', async () => {
    const setup = setUp(claimedFile({ attempts: 2 }), async () => {
      throw new Error('the bucket answered 503');
    });
    runner = setup.runner;
    runner.start();
    await vi.waitFor(() => expect(setup.files.scheduleRetry).toHaveBeenCalledWith('1', runner!.owner, 'the bucket answered 503', 2000));
    expect(setup.files.markFileFailed).not.toHaveBeenCalled();
  });

  it('gives up after MAX_ATTEMPTS transient failures', async () => {
    const setup = setUp(claimedFile({ attempts: 3 }), async () => {
      throw new Error('the bucket answered 503');
    });
    runner = setup.runner;
    runner.start();
    await vi.waitFor(() =>
      expect(setup.files.markFileFailed).toHaveBeenCalledWith('1', runner!.owner, 'gave up after 3 attempts: the bucket answered 503'),
    );
  });

  it('fails without processing a file whose leases kept expiring past MAX_ATTEMPTS', async () => {
    const process = vi.fn(async () => outcome);
    const setup = setUp(claimedFile({ attempts: 4, expiredLeaseOwner: 'dead-replica' }), process);
    runner = setup.runner;
    runner.start();
    await vi.waitFor(() => expect(setup.files.markFileFailed).toHaveBeenCalled());
    expect(process).not.toHaveBeenCalled();
    expect(setup.files.markFileFailed.mock.calls[0]![2]).toMatch(/^gave up after 3 attempts: the process handling it stopped/);
  });

  it('claims nothing once claiming stopped, and gives back a claim that was in flight at the signal', async () => {
    const process = vi.fn(async () => outcome);
    const setup = setUp(claimedFile(), process);
    runner = setup.runner;
    let answerClaim: (files: ClaimedFile[]) => void = () => undefined;
    setup.files.claimNextFiles.mockImplementationOnce(() => new Promise<ClaimedFile[]>((resolve) => (answerClaim = resolve)));
    runner.start();
    await vi.waitFor(() => expect(setup.files.claimNextFiles).toHaveBeenCalledTimes(1));
    runner.stopClaiming();
    answerClaim([claimedFile()]);
    await runner.drain(1000);
    expect(process).not.toHaveBeenCalled();
    expect(setup.files.releaseFile).toHaveBeenCalledWith('1', runner.owner);
    expect(setup.files.claimNextFiles).toHaveBeenCalledTimes(1);
  });

  it('on drain, waits up to the timeout, then aborts and releases what is still in flight', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const setup = setUp(claimedFile(), (_file, signal) => {
      started();
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    runner = setup.runner;
    runner.start();
    await running;
    await runner.drain(50);
    expect(setup.files.releaseFile).toHaveBeenCalledWith('1', runner.owner);
    expect(setup.files.markFileFailed).not.toHaveBeenCalled();
    expect(setup.files.scheduleRetry).not.toHaveBeenCalled();
    expect(runner.state().activeFiles).toEqual([]);
  });
});

describe('IngestRunner when the database is unreachable', () => {
  let runner: IngestRunner | undefined;
  afterEach(async () => {
    await runner?.drain(0);
  });

  const connectionLost = () => new DatabaseUnavailableError(new Error('Connection terminated unexpectedly'));
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

  it('gives a file on its last attempt back, attempt not counted, once the database answers again', async () => {
    const setup = setUp(claimedFile({ attempts: 3 }), async () => {
      throw new Error('writing a batch failed', { cause: connectionLost() });
    });
    runner = setup.runner;
    // The database is still down for the first release; it answers the second.
    setup.files.releaseFile.mockRejectedValueOnce(refused());
    runner.start();
    await vi.waitFor(() => expect(setup.files.releaseFile).toHaveBeenCalledTimes(2), { timeout: 5000 });
    await vi.waitFor(() => expect(runner!.state().processed.retried).toBe(1));
    expect(setup.files.markFileFailed).not.toHaveBeenCalled();
    expect(setup.files.scheduleRetry).not.toHaveBeenCalled();
  });

  it('counts the attempt, with backoff, for the same socket error from the bucket', async () => {
    const setup = setUp(claimedFile({ attempts: 1 }), async () => {
      throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    });
    runner = setup.runner;
    runner.start();
    await vi.waitFor(() => expect(setup.files.scheduleRetry).toHaveBeenCalledWith('1', runner!.owner, 'read ECONNRESET', 1000));
    expect(setup.files.releaseFile).not.toHaveBeenCalled();
  });

  it('still counts the attempt for an error that is not about reaching the database', async () => {
    const setup = setUp(claimedFile({ attempts: 1 }), async () => {
      throw Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' });
    });
    runner = setup.runner;
    runner.start();
    await vi.waitFor(() => expect(setup.files.scheduleRetry).toHaveBeenCalledTimes(1));
    expect(setup.files.releaseFile).not.toHaveBeenCalled();
  });
});
