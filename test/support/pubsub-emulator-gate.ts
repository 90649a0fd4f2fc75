import { afterAll } from 'vitest';
import { pubsubEmulatorAvailable, requireEmulatorBanner } from './emulators.js';

/**
 * For a test file that needs Google's Pub/Sub emulator: whether it is installed. When it is not,
 * prints the banner naming the package now and again after the file's tests, which the caller
 * reports as skipped (`describe.skipIf(!available)`), never as passed. Kept apart from
 * emulators.ts, which `npm run dev:emulators` also loads outside vitest.
 */
export function pubsubEmulatorOrBanner(): boolean {
  const available = pubsubEmulatorAvailable();
  if (!available) {
    requireEmulatorBanner('pubsub');
    afterAll(() => {
      requireEmulatorBanner('pubsub');
    });
  }
  return available;
}
