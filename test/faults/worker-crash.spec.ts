import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerHeapLimitMb } from '../../src/executor/worker-heap-limit.js';
import { logLines } from '../support/admin-api.js';
import { startService, type RunningService } from '../support/service.js';
import { auditDatabase, corpusExpectation } from './support/audit.js';
import { CORPUS_PREFIX, createFaultBed, faultEnvironment, reportFigure, startBackfill, waitUntilSettled, type FaultBed } from './support/fault-service.js';

// Fault case 4 (issue 7): a file crafted to make a worker run out of memory. A multi-GB line
// never reaches a worker (the splitter rejects any record over MAX_LINE_BYTES without holding
// it: see bad-files.spec.ts), so the honest small equivalent is a record just under
// MAX_LINE_BYTES whose parse needs far more heap than its size: `{"data":[{},{},…]}` holds
// ~22 bytes of heap per byte of JSON, against the worker's limit of 128 MB + 4 bytes per byte
// of task (worker-heap-limit.ts). With MAX_LINE_BYTES = 16 MiB the limit is 193 MB and the
// 16 MiB record needs ~350 MB: the worker dies, the pool replaces it, the file is retried and
// then failed after MAX_ATTEMPTS, and every other file completes.
//
// EXECUTOR=processes: there a worker's death is confined to its own process. A worker thread
// over its limit is usually terminated alone too (src/executor/worker-heap-limit.spec.ts), but
// Node 20 was seen aborting the whole process while freeing a dead thread's ~350 MB heap, so a
// test of the thread pool at this size would be flaky (RELIABILITY.md).

const MAX_LINE_BYTES = 16 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const POISON = `${CORPUS_PREFIX}zz-heap-bomb.jsonl.gz`;

describe('fault 4: a file that makes a worker run out of memory', () => {
  let bed: FaultBed;
  let service: RunningService | undefined;

  beforeAll(async () => {
    bed = await createFaultBed({ files: 6, tweetsPerFile: 200, seed: 7004 });
    const objects = Math.floor((MAX_LINE_BYTES - 64 * 1024) / 3);
    await writeFile(path.join(bed.bucket, POISON), gzipSync(`{"data":[${'{},'.repeat(objects)}{}]}\n`));
  });
  afterAll(async () => {
    if (service?.child.exitCode === null) await service.stop('SIGKILL');
    await bed?.cleanup();
  });

  it('fails that file after MAX_ATTEMPTS with a clear error; the pool and the service survive; the rest completes', async () => {
    expect(workerHeapLimitMb(CHUNK_BYTES, MAX_LINE_BYTES)).toBe(193);
    service = await startService(
      faultEnvironment(bed.database.url, bed.bucket, {
        EXECUTOR: 'processes',
        EXECUTOR_SIZE: '2',
        MAX_ATTEMPTS: '2',
        MAX_LINE_BYTES: String(MAX_LINE_BYTES),
        CHUNK_BYTES: String(CHUNK_BYTES),
      }),
    );
    const pid = service.child.pid;
    await startBackfill(service.url);
    await waitUntilSettled(bed.client);

    const expectation = corpusExpectation(bed.manifest, CORPUS_PREFIX);
    const report = await auditDatabase(bed.database.url, {
      ...expectation,
      files: {
        ...expectation.files,
        [POISON]: { status: 'failed', error: /^gave up after 2 attempts: worker failed: worker process killed by SIGABRT: out of memory \(heap limit 193 MB\)\?$/ },
      },
    });
    expect(report.files.find((file) => file.name === POISON)!.attempts).toBe(2);
    // The same process all along, its pool replaced the dead workers and still answers.
    expect(service.child.exitCode).toBeNull();
    expect(service.child.pid).toBe(pid);
    const status = (await (await fetch(`${service.url}/status`)).json()) as { executor: { size: number; failed: number } };
    expect(status.executor).toMatchObject({ size: 2, failed: 2 });
    expect(logLines(service.output(), 'file attempt failed; will retry').map((line) => line.file)).toEqual([POISON]);
    expect(await service.stop('SIGTERM')).toBe(0);
    reportFigure('4-worker-out-of-memory', { files: report.files.length, tweets: report.tweets, poisonAttempts: 2, workerFailures: status.executor.failed });
  });
});
