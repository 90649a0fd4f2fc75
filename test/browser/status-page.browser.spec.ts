/// <reference lib="dom" />
// The callbacks given to page.waitForFunction run in the browser: they need the DOM types.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/project-paths.js';
import type { adminApi } from '../support/admin-api.js';
import { startAdminService, type AdminService } from '../support/admin-service.js';
import { eventually, type RunningService } from '../support/service.js';
import { tweetFileContent, writeTweetFiles } from '../support/tweet-files.js';
import { chromiumAvailable, launchChromium, requireChromiumBanner, type HeadlessChromium } from './chromium.js';

const ADMIN_TOKEN = 'status-page-browser-admin-token-0123456789';
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-results');
// Playwright's own waits (waitForFunction, locators) poll the page until the condition holds.
const PAGE_TIMEOUT_MS = 15_000;

const available = chromiumAvailable();
if (!available) requireChromiumBanner();
afterAll(() => {
  if (!available) requireChromiumBanner();
});

describe.skipIf(!available)('status page (built service, real PostgreSQL, headless Chromium)', () => {
  let running: AdminService | undefined;
  let service: RunningService;
  let client: pg.Client;
  let browser: HeadlessChromium;
  let page: Page;
  let api: ReturnType<typeof adminApi>;
  let backfillId: string;
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];

  async function backfillWhen(id: string, status: string): Promise<{ status: string; enqueued: number }> {
    return eventually(
      async () => {
        const { body } = await api<{ status: string; enqueued: number }>('GET', `/backfills/${id}`);
        return body.status === status ? body : undefined;
      },
      30_000,
      `backfill ${id} ${status}`,
    );
  }

  async function enterToken(): Promise<void> {
    await page.locator('#token-dialog').waitFor({ state: 'visible' });
    await page.fill('#token-input', ADMIN_TOKEN);
    await page.click('#token-submit');
    await page.locator('#token-dialog').waitFor({ state: 'hidden' });
  }

  async function pageStatus(): Promise<string> {
    return (await page.textContent('#state'))!.trim();
  }

  beforeAll(async () => {
    // Only backfills find files (startAdminService's default), one file at a time: every step of the test is under its control.
    running = await startAdminService({
      name: 'status-page-browser',
      token: ADMIN_TOKEN,
      seed: async (bucket) => {
        await writeTweetFiles(bucket, ['2017/08'], { filesPerFolder: 4, tweetsPerFile: 5 });
        await mkdir(path.join(bucket, 'broken'), { recursive: true });
        // A gzip stream cut short: a corrupt file, failed at once (no retry of a permanent error).
        await writeFile(path.join(bucket, 'broken/corrupt.jsonl.gz'), tweetFileContent(['1']).subarray(0, 15));
      },
      env: { EXECUTOR: 'inline', CONCURRENT_FILES: '1', POLL_INTERVAL_MS: '100' },
    });
    ({ service, client, api } = running);
    await mkdir(ARTIFACTS, { recursive: true });

    browser = await launchChromium();
    page = await browser.context.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    const serviceHost = new URL(service.url).host;
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.host !== serviceHost) foreignRequests.push(request.url());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await running?.stop();
  });

  it('serves the page and its files with a strict CSP, validators and correct types', async () => {
    const index = await fetch(`${service.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'none'; script-src 'self'; style-src 'self'");
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const etag = index.headers.get('etag')!;
    expect((await fetch(`${service.url}/`, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const script = await fetch(`${service.url}/status-page/status-page.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${service.url}/status-page/status-page.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const missing = await fetch(`${service.url}/status-page/..%2Fstatus-page.controller.ts`);
    expect(missing.status).toBe(404);

    // The open status API feeds the page; the failures (names and errors) need the token.
    expect((await api('GET', '/status/throughput?minutes=0', { token: null })).body).toMatchObject({ statusCode: 400, message: 'minutes: must be at least 1' });
    expect((await api<{ points: unknown[] }>('GET', '/status/throughput', { token: null })).body.points).toHaveLength(60);
    expect((await api('GET', '/status/failures', { token: null })).status).toBe(401);
    expect((await api('GET', '/status/failures?limit=5')).body).toEqual({ items: [] });
  });

  it('loads with no console error and no request to another host', async () => {
    const response = await page.goto(`${service.url}/`);
    expect(response!.status()).toBe(200);
    await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'running');
    expect(await page.locator('#stages li').count()).toBe(5);
    expect(await page.locator('#files [data-status]').count()).toBe(4);
    expect(await page.locator('#chart rect.hit').count()).toBe(60);
    expect(await page.isVisible('#no-backfills')).toBe(true);
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });

  it("shows a running backfill's progress bar advance, resumed from the page with the admin token", async () => {
    expect((await api('POST', '/ingest/pause')).status).toBe(200);
    const created = await api<{ id: string }>('POST', '/backfills', { body: { months: ['2017-08'] } });
    expect(created.status).toBe(202);
    backfillId = created.body.id;
    expect(await backfillWhen(backfillId, 'running')).toMatchObject({ enqueued: 4 });
    // Three of its four files become claimable only in an hour (as after a retry backoff): once
    // resumed, exactly one file is ingested and the backfill stays active at 1 of 4.
    const { rowCount } = await client.query(
      `UPDATE ingest_files SET next_attempt_at = now() + interval '1 hour'
       WHERE backfill_id = $1 AND name <> '2017/08/part-000.jsonl.gz'`,
      [backfillId],
    );
    expect(rowCount).toBe(3);

    const bar = `[data-backfill-id="${backfillId}"] progress`;
    await page.waitForFunction((selector) => {
      const progress = document.querySelector<HTMLProgressElement>(selector);
      return progress !== null && progress.value === 0 && progress.max === 4;
    }, bar);
    await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'paused');
    expect(await page.textContent(`[data-backfill-id="${backfillId}"] .eta`)).toBe('ETA: paused');

    // Resume needs the token: the page asks for it once, then keeps it in memory.
    await page.click('#resume');
    await enterToken();
    await page.waitForFunction((selector) => document.querySelector<HTMLProgressElement>(selector)?.value === 1, bar);
    expect(await page.textContent(`[data-backfill-id="${backfillId}"] .done-total`)).toBe('1 / 4 files (25%)');
    expect(await page.textContent(`[data-backfill-id="${backfillId}"] .written`)).toBe('5 tweets written');
    await page.waitForFunction((selector) => /^ETA \d/.test(document.querySelector(selector)?.textContent ?? ''), `[data-backfill-id="${backfillId}"] .eta`);
    expect(await pageStatus()).toBe('running');
    // Its tweets are in the last minute's rate, and its stage times name a bottleneck.
    await page.waitForFunction(() => Number(document.querySelector('#rate-1m')?.textContent) > 0);
    await page.waitForFunction(() => /^Bottleneck: (read|decompress|parse|clean|write) \(\d+% of the time\)$/.test(document.querySelector('#bottleneck')?.textContent ?? ''));
    const bottleneck = (await page.textContent('#bottleneck'))!.split(' ')[1];
    expect(await page.getAttribute('#stages li.bottleneck', 'data-stage')).toBe(bottleneck);
  });

  it('shows a failed file with its error, and its Retry button queues it again', async () => {
    const created = await api<{ id: string }>('POST', '/backfills', { body: { prefix: 'broken/' } });
    expect(created.status).toBe(202);
    const failure = page.locator('.failure', { hasText: 'broken/corrupt.jsonl.gz' });
    await failure.waitFor();
    expect(await failure.locator('.error').textContent()).toMatch(/^corrupt file broken\/corrupt\.jsonl\.gz/);
    const fileId = (await failure.getAttribute('data-file-id'))!;
    expect(await page.textContent('#files [data-status="failed"] dd')).toBe('1');
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page.png'), fullPage: true });

    // Paused from the page (already unlocked: no second prompt), so the retried file stays
    // pending instead of failing again at once.
    await page.click('#pause');
    await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'paused');
    expect(await page.isVisible('#token-dialog')).toBe(false);
    expect((await (await fetch(`${service.url}/status`)).json()) as { paused: boolean }).toMatchObject({ paused: true });

    await failure.locator('button.retry').click();
    await page.locator(`.failure[data-file-id="${fileId}"]`).waitFor({ state: 'detached' });
    expect((await api('GET', `/files/${fileId}`)).body).toMatchObject({ status: 'pending', attempts: 0 });
    await page.waitForFunction(() => document.querySelector('#files [data-status="failed"] dd')?.textContent === '0');
    expect(await page.isVisible('#no-failures')).toBe(true);
  });

  it('fits a phone screen, and the finished backfill leaves the page', async () => {
    await client.query(`UPDATE ingest_files SET next_attempt_at = now() WHERE backfill_id = $1 AND status = 'pending'`, [backfillId]);
    await page.click('#resume');
    await page.waitForFunction(() => document.querySelector('#state')?.textContent === 'running');
    await page.locator(`[data-backfill-id="${backfillId}"]`).waitFor({ state: 'detached', timeout: 30_000 });
    expect(await backfillWhen(backfillId, 'done')).toMatchObject({ status: 'done' });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page-phone.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});
