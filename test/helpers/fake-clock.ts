import type { ThrottleClock } from '../../web/miner/throttle.js';

/** A clock that moves only when the test says so; timers fire in order of their due time. */
export class FakeClock implements ThrottleClock {
  private nowMs = 0;
  private timers: { dueMs: number; wake: () => void }[] = [];

  now(): number {
    return this.nowMs;
  }

  setTimer(wake: () => void, delayMs: number): () => void {
    const timer = { dueMs: this.nowMs + Math.max(0, delayMs), wake };
    this.timers.push(timer);
    return () => (this.timers = this.timers.filter((t) => t !== timer));
  }

  /** The delays of the timers still pending, soonest first. */
  pendingDelaysMs(): number[] {
    return this.timers.map((t) => t.dueMs - this.nowMs).sort((a, b) => a - b);
  }

  /**
   * Settles `promise` the way real time would: lets the promise jobs run, and whenever nothing is
   * left to run, jumps to the next timer and fires it. Throws if the promise waits on nothing.
   */
  async runUntil<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const watched = promise.finally(() => (settled = true));
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) return watched;
      const next = this.timers.reduce<(typeof this.timers)[number] | undefined>((a, t) => (a === undefined || t.dueMs < a.dueMs ? t : a), undefined);
      if (next === undefined) throw new Error('FakeClock.runUntil: the promise waits on no timer');
      this.timers = this.timers.filter((t) => t !== next);
      this.nowMs = next.dueMs;
      next.wake();
    }
  }
}
