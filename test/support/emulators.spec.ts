import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  PUBSUB_EMULATOR_PACKAGE,
  pubsubEmulatorAvailable,
  requireEmulatorBanner,
  startPubSubEmulator,
  startStorageEmulator,
} from './emulators.js';

const pubsubAvailable = pubsubEmulatorAvailable();
if (!pubsubAvailable) requireEmulatorBanner('pubsub');
afterAll(() => {
  if (!pubsubAvailable) requireEmulatorBanner('pubsub');
});

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('emulator helpers', () => {
  it('reports a missing Pub/Sub emulator as null, and the banner names the package', async () => {
    expect(await startPubSubEmulator({ binary: '/nonexistent/cloud-pubsub-emulator' })).toBeNull();
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const banner = requireEmulatorBanner('pubsub');
      expect(banner).toContain(PUBSUB_EMULATOR_PACKAGE);
      expect(banner).toContain('SKIPPED, NOT PASSED');
      expect(write).toHaveBeenCalledWith(expect.stringContaining(PUBSUB_EMULATOR_PACKAGE));
    } finally {
      write.mockRestore();
    }
  });

  it.skipIf(!pubsubAvailable)('starts the Pub/Sub emulator on a free port and stops its whole process group', async () => {
    const [first, second] = await Promise.all([startPubSubEmulator(), startPubSubEmulator()]);
    if (!first || !second) throw new Error('emulator missing');
    try {
      expect(first.host).not.toBe(second.host);
      expect(await (await fetch(`http://${first.host}/`)).text()).toContain('Ok');
      expect(groupAlive(first.pid)).toBe(true);
    } finally {
      await first.stop();
      await second.stop();
    }
    expect(groupAlive(first.pid)).toBe(false);
    expect(groupAlive(second.pid)).toBe(false);
    await expect(fetch(`http://${first.host}/`)).rejects.toThrow();
    await first.stop(); // idempotent
  });

  it('runs the storage emulator in-process with its own folder, and can start again after a stop', async () => {
    const first = await startStorageEmulator();
    const response = await fetch(`${first.host}/storage/v1/b/some-bucket/o`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ kind: 'storage#objects' });
    expect(existsSync(first.directory)).toBe(true);
    await first.stop();
    expect(existsSync(first.directory)).toBe(false);
    await expect(fetch(`${first.host}/storage/v1/b/some-bucket/o`)).rejects.toThrow();

    const second = await startStorageEmulator();
    try {
      expect(second.directory).not.toBe(first.directory);
      expect((await fetch(`${second.host}/storage/v1/b/some-bucket/o`)).status).toBe(200);
    } finally {
      await second.stop();
    }
  });
});
