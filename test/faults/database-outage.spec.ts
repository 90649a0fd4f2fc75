import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, logLines } from '../support/admin-api.js';
import { eventually, startService, type RunningService } from '../support/service.js';
import { auditDatabase, corpusExpectation, ledgerCounts } from './support/audit.js';
import { CORPUS_PREFIX, createFaultBed, FAULT_ADMIN_TOKEN, faultEnvironment, reportFigure, startBackfill, waitUntilSettled, type FaultBed } from './support/fault-service.js';
import { TcpProxy } from './support/tcp-proxy.js';

// Fault case 3 (issue 7): PostgreSQL unreachable for ~12 s in the middle of a backfill. The
// shared PostgreSQL server must never be stopped (other suites use it), so the service reaches
// it through a TCP proxy that the test cuts (every connection reset, new ones refused) and
// restores. Expected: claims and writes fail and are retried with backoff, /health/ready goes
// false then true, no file is marked failed for this transient cause, nothing is lost.

const OUTAGE_MS = 12_000;
const DATABASE_PASSWORD = 'outage-db-password-never-logged';

async function ready(service: RunningService): Promise<boolean> {
  return (await fetch(`${service.url}/health/ready`)).status === 200;
}

/** A fault bed whose database the service reaches through a TcpProxy the test can cut. */
function useProxiedBed(options: { files: number; tweetsPerFile: number; seed: number }): { bed: FaultBed; proxy: TcpProxy } {
  const fixture = {} as { bed: FaultBed; proxy: TcpProxy };
  beforeAll(async () => {
    fixture.bed = await createFaultBed(options);
    const target = new URL(fixture.bed.database.url);
    fixture.proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await fixture.proxy.start();
  });
  afterAll(async () => {
    await fixture.proxy?.stop();
    await fixture.bed?.cleanup();
  });
  return fixture;
}

describe('fault 3: PostgreSQL unreachable for ~12 s mid-run', () => {
  const fixture = useProxiedBed({ files: 12, tweetsPerFile: 500, seed: 7003 });
  let service: RunningService | undefined;
  afterAll(async () => {
    if (service?.child.exitCode === null) await service.stop('SIGKILL');
  });

  it('retries through the outage, goes unready then ready, and loses nothing', async () => {
    const { bed, proxy } = fixture;
    const proxiedUrl = new URL(bed.database.url);
    proxiedUrl.port = String(proxy.port);
    // The test server trusts local connections, so any password works: this one must never
    // appear in a log line or an error body, however the database fails.
    proxiedUrl.username = 'postgres';
    proxiedUrl.password = DATABASE_PASSWORD;
    service = await startService(faultEnvironment(proxiedUrl.toString(), bed.bucket));
    expect(await ready(service)).toBe(true);
    await startBackfill(service.url);
    await eventually(
      async () => {
        const counts = await ledgerCounts(bed.client);
        return counts.done >= 1 && counts.processing >= 1 && counts.pending >= 1 ? counts : undefined;
      },
      60_000,
      'the backfill mid-run',
    );

    await proxy.cut();
    const cutAt = Date.now();
    await eventually(async () => ((await ready(service!)) ? undefined : true), 10_000, '/health/ready to turn false');
    const unreadyAfterMs = Date.now() - cutAt;
    await eventually(async () => (logLines(service!.output(), 'cannot claim files (database unavailable?), retrying').length > 0 ? true : undefined), 10_000, 'a failed claim');
    // The outage itself lasts a fixed time: that is the fault being injected, not a wait for a condition.
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - cutAt)));
    expect(await ready(service)).toBe(false);
    expect(service.child.exitCode).toBeNull();
    // An admin request during the outage fails cleanly, giving nothing away.
    const during = await adminApi(service.url, FAULT_ADMIN_TOKEN)<{ statusCode: number; message: string }>('GET', '/files');
    expect(during.status).toBeGreaterThanOrEqual(500);
    expect(JSON.stringify(during.body)).not.toMatch(new RegExp(`${DATABASE_PASSWORD}|postgres://`));
    const readyBody = await (await fetch(`${service.url}/health/ready`)).text();
    expect(readyBody).not.toMatch(new RegExp(`${DATABASE_PASSWORD}|postgres://`));

    await proxy.restore();
    const restoredAt = Date.now();
    await eventually(async () => ((await ready(service!)) ? true : undefined), 30_000, '/health/ready to turn true again');
    const readyAgainMs = Date.now() - restoredAt;
    await waitUntilSettled(bed.client);
    const settledMs = Date.now() - restoredAt;

    // Every file done: none failed for the transient cause.
    const report = await auditDatabase(bed.database.url, corpusExpectation(bed.manifest, CORPUS_PREFIX));
    expect(report.files.filter((file) => file.attempts > 3)).toEqual([]);
    expect(await service.stop('SIGTERM')).toBe(0);
    const output = service.output();
    reportFigure('3-database-outage', {
      outageMs: OUTAGE_MS,
      unreadyAfterMs,
      readyAgainMs,
      settledAfterRestoreMs: settledMs,
      retriedFiles: report.retriedFiles,
      attemptRetries: logLines(output, 'file attempt failed; will retry').length,
      unrecordedOutcomes: logLines(output, 'cannot record the file outcome; its lease will expire and it will be retried').length,
      failedClaims: logLines(output, 'cannot claim files (database unavailable?), retrying').length,
    });
    // Nothing in the log gives the database password or the admin token away.
    expect(output).not.toContain(DATABASE_PASSWORD);
    expect(output).not.toContain(FAULT_ADMIN_TOKEN);
  });
});

// The same fault, shorter than the lease: the files whose writes failed are given back with
// the attempt not counted (`isDatabaseUnavailable`), so even with MAX_ATTEMPTS=1 none fails.
const SHORT_OUTAGE_MS = 4_000;

describe('fault 3b: a database outage shorter than the lease costs no attempt', () => {
  const fixture = useProxiedBed({ files: 8, tweetsPerFile: 500, seed: 7033 });
  let service: RunningService | undefined;
  afterAll(async () => {
    if (service?.child.exitCode === null) await service.stop('SIGKILL');
  });

  it('gives the interrupted files back and finishes every file on its only attempt', async () => {
    const { bed, proxy } = fixture;
    const proxiedUrl = new URL(bed.database.url);
    proxiedUrl.port = String(proxy.port);
    service = await startService(faultEnvironment(proxiedUrl.toString(), bed.bucket, { LEASE_MS: '20000', MAX_ATTEMPTS: '1' }));
    await startBackfill(service.url);
    await eventually(
      async () => {
        const counts = await ledgerCounts(bed.client);
        return counts.processing >= 1 && counts.pending >= 1 ? counts : undefined;
      },
      60_000,
      'the backfill mid-run',
    );

    await proxy.cut();
    const cutAt = Date.now();
    // The outage lasts a fixed time: that is the fault being injected, not a wait for a condition.
    await sleep(SHORT_OUTAGE_MS);
    await proxy.restore();
    await waitUntilSettled(bed.client);
    const settledMs = Date.now() - cutAt - SHORT_OUTAGE_MS;

    const report = await auditDatabase(bed.database.url, corpusExpectation(bed.manifest, CORPUS_PREFIX));
    expect(report.files.filter((file) => file.attempts !== 1)).toEqual([]);
    expect(await service.stop('SIGTERM')).toBe(0);
    const givenBack = logLines(service.output(), 'database unavailable; file given back without counting the attempt');
    expect(givenBack.length).toBeGreaterThanOrEqual(1);
    expect(givenBack.every((line) => line.outcome === 'released')).toBe(true);
    reportFigure('3b-short-database-outage', { outageMs: SHORT_OUTAGE_MS, settledAfterRestoreMs: settledMs, givenBack: givenBack.length, files: report.files.length });
  });
});
