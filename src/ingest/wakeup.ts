/**
 * A wait that ends after a timeout or as soon as someone calls notify(): the claim loop sleeps
 * between polls but wakes at once when a file is registered locally, a slot frees up or a
 * drain begins.
 *
 * A notify() that comes while nobody is waiting (the loop is busy claiming) is kept, and ends
 * the next wait() at once: otherwise the loop would sleep a whole poll interval with a free
 * slot, or with a drain pending (measured: a full POLL_INTERVAL_MS, 1 s, at the end of every
 * one-shot ingest).
 */
export class Wakeup {
  private waiters: (() => void)[] = [];
  private pending = false;

  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.push(done);
    });
  }

  notify(): void {
    if (this.waiters.length === 0) {
      this.pending = true;
      return;
    }
    for (const waiter of [...this.waiters]) waiter();
  }
}
