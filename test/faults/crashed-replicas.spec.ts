import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, logLines } from '../support/admin-api.js';
import { eventually, startService, type RunningService } from '../support/service.js';
import { auditDatabase, corpusExpectation, ledgerCounts } from './support/audit.js';
import {
  CORPUS_PREFIX,
  createFaultBed,
  FAULT_ADMIN_TOKEN,
  faultEnvironment,
  filesLeasedBy,
  reportFigure,
  startBackfill,
  waitUntilSettled,
  type FaultBed,
} from './support/fault-service.js';

// Fault cases 1 and 2 (issue 7): a replica killed with SIGKILL in the middle of a backfill
// leaves files `processing` under its lease. The lease expires (LEASE_MS = 2 s here) and a
// replica claims them again; the tweets the dead replica had already committed are not
// written twice (insert-or-ignore), so the end state is exact.

async function killWhileHolding(bed: FaultBed, service: RunningService): Promise<string[]> {
  // Mid-run: some files done, this replica holding at least one lease, some still waiting.
  const held = await eventually(
    async () => {
      const counts = await ledgerCounts(bed.client);
      const leased = await filesLeasedBy(bed.client, service.child.pid!);
      return counts.done >= 1 && counts.pending >= 1 && leased.length >= 1 ? leased : undefined;
    },
    60_000,
    'the replica mid-backfill (a file done, one held, one pending)',
  );
  expect(await service.stop('SIGKILL')).toBeNull();
  // The rows it held are still `processing` under its now-dead lease.
  const stranded = await filesLeasedBy(bed.client, service.child.pid!);
  expect(stranded.length).toBeGreaterThanOrEqual(1);
  expect(held.length).toBeGreaterThanOrEqual(1);
  return stranded;
}

describe('fault 1: kill -9 of the only replica mid-backfill, then restart', () => {
  let bed: FaultBed;
  const services: RunningService[] = [];

  beforeAll(async () => {
    bed = await createFaultBed({ files: 10, tweetsPerFile: 500, seed: 7001 });
  });
  afterAll(async () => {
    await Promise.all(services.map((service) => (service.child.exitCode === null ? service.stop('SIGKILL') : undefined)));
    await bed?.cleanup();
  });

  it('finishes every file after the restart, each tweet exactly once', async () => {
    const first = await startService(faultEnvironment(bed.database.url, bed.bucket));
    services.push(first);
    const backfillId = await startBackfill(first.url);
    const stranded = await killWhileHolding(bed, first);
    const killedAt = Date.now();

    const second = await startService(faultEnvironment(bed.database.url, bed.bucket));
    services.push(second);
    await waitUntilSettled(bed.client);
    const recoveredMs = Date.now() - killedAt;

    const report = await auditDatabase(bed.database.url, corpusExpectation(bed.manifest, CORPUS_PREFIX));
    // The stranded files were claimed again once their lease expired: a second attempt each.
    const reclaimed = logLines(second.output(), 'lease expired; file claimed again').map((line) => line.file);
    expect(reclaimed.sort()).toEqual(stranded);
    for (const name of stranded) expect(report.files.find((file) => file.name === name)!.attempts).toBe(2);
    // The backfill the dead replica started completes under the new one (its status is
    // recomputed when read through the API).
    const { body } = await adminApi(second.url, FAULT_ADMIN_TOKEN)<{ status: string; done: number }>('GET', `/backfills/${backfillId}`);
    expect(body).toMatchObject({ status: 'done', done: bed.manifest.files.length });
    expect(await second.stop('SIGTERM')).toBe(0);
    reportFigure('1-kill-restart', { files: report.files.length, tweets: report.tweets, stranded: stranded.length, retriedFiles: report.retriedFiles, recoveredMs });
  });
});

describe('fault 2: two replicas, one killed mid-run', () => {
  let bed: FaultBed;
  const services: RunningService[] = [];

  beforeAll(async () => {
    bed = await createFaultBed({ files: 12, tweetsPerFile: 500, seed: 7002 });
  });
  afterAll(async () => {
    await Promise.all(services.map((service) => (service.child.exitCode === null ? service.stop('SIGKILL') : undefined)));
    await bed?.cleanup();
  });

  it('the survivor takes over the dead replica’s files and finishes the work', async () => {
    const [doomed, survivor] = await Promise.all([0, 1].map(() => startService(faultEnvironment(bed.database.url, bed.bucket))));
    services.push(doomed!, survivor!);
    await startBackfill(doomed!.url);
    const stranded = await killWhileHolding(bed, doomed!);
    const killedAt = Date.now();
    await waitUntilSettled(bed.client);
    const recoveredMs = Date.now() - killedAt;

    const report = await auditDatabase(bed.database.url, corpusExpectation(bed.manifest, CORPUS_PREFIX));
    const reclaimed = logLines(survivor!.output(), 'lease expired; file claimed again').map((line) => line.file);
    expect(reclaimed.sort()).toEqual(stranded);
    expect(await survivor!.stop('SIGTERM')).toBe(0);
    reportFigure('2-two-replicas-one-killed', { files: report.files.length, tweets: report.tweets, stranded: stranded.length, retriedFiles: report.retriedFiles, recoveredMs });
  });
});
