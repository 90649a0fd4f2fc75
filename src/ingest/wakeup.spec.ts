import { describe, expect, it } from 'vitest';
import { Wakeup } from './wakeup.js';

const LONG_MS = 60_000;

describe('Wakeup', () => {
  it('ends a wait when notified', async () => {
    const wakeup = new Wakeup();
    const waiting = wakeup.wait(LONG_MS);
    wakeup.notify();
    await expect(waiting).resolves.toBeUndefined();
  });

  it('ends a wait after its timeout without a notify', async () => {
    const wakeup = new Wakeup();
    await expect(wakeup.wait(1)).resolves.toBeUndefined();
  });

  it('keeps a notify that came while nobody waited, for the next wait only', async () => {
    const wakeup = new Wakeup();
    wakeup.notify();
    wakeup.notify();
    await expect(wakeup.wait(LONG_MS)).resolves.toBeUndefined();
    // The kept notify is used up: the next wait lasts until its own notify.
    let ended = false;
    const next = wakeup.wait(LONG_MS).then(() => {
      ended = true;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(ended).toBe(false);
    wakeup.notify();
    await next;
    expect(ended).toBe(true);
  });
});
