import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); playwright-core never downloads a browser here. */
export const CHROMIUM_BINARY = '/usr/bin/chromium';
export const CHROMIUM_PACKAGE = 'chromium';

export function chromiumAvailable(binary = CHROMIUM_BINARY): boolean {
  return existsSync(binary);
}

/**
 * Printed when Chromium is missing: the browser tests are skipped, and a skip must never pass
 * for a pass. Call it when deciding to skip, and again in afterAll so it ends the file's output.
 */
export function requireChromiumBanner(): string {
  const line = '!'.repeat(88);
  const banner = [
    '',
    line,
    `!!! CHROMIUM MISSING (${CHROMIUM_BINARY}): the browser tests are SKIPPED, NOT PASSED.`,
    `!!! Install the Debian package ${CHROMIUM_PACKAGE} (apt-get install ${CHROMIUM_PACKAGE}; .ci/run does).`,
    line,
    '',
  ].join('\n');
  process.stderr.write(`${banner}\n`);
  return banner;
}

export interface HeadlessChromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium on a fresh profile in a temporary folder, with everything that would call
 * home switched off (the test also fails on any request to another host). --no-sandbox: the
 * tests run as root in CI.
 */
export async function launchChromium(options: { locale?: string; viewport?: { width: number; height: number } } = {}): Promise<HeadlessChromium> {
  const profile = await mkdtemp(path.join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_BINARY,
    headless: true,
    locale: options.locale ?? 'en-US',
    viewport: options.viewport ?? { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
