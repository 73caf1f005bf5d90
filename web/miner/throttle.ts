import type { HashEngine, ScanResult } from './engine.js';

/** A throttled engine, with the share of wall time it actually spent scanning. */
export interface ThrottledEngine extends HashEngine {
  /** busy / (busy + idle) over the last few seconds, 0..1; 0 before the first scan. */
  measuredCpuShare(): number;
}

/** Time as the throttle sees it: injected, so that a test drives the duty cycle without waiting for it. */
export interface ThrottleClock {
  now(): number;
  /** Calls `wake` after `delayMs`; the function returned cancels that. */
  setTimer(wake: () => void, delayMs: number): () => void;
}

/** performance.now and setTimeout. */
export const realClock: ThrottleClock = {
  now: () => performance.now(),
  setTimer(wake, delayMs) {
    const timer = setTimeout(wake, delayMs);
    return () => clearTimeout(timer);
  },
};

export interface ThrottleOptions {
  /** The measuring window (default 5000 ms). */
  windowMs?: number;
  clock?: ThrottleClock;
}

/** The idle time after a scan of `scanMs` that makes scanning `cpuPercent` (clamped to 1..100) of the wall time. */
export function idleMsAfter(scanMs: number, cpuPercent: number): number {
  const percent = Math.min(100, Math.max(1, cpuPercent));
  return scanMs * (100 / percent - 1);
}

/**
 * A real duty cycle: after each scan lasting t ms, the next call waits t * (100 / p - 1) ms before
 * it returns, so the engine (a worker) has nothing to do for that long. At p = 50 a 50 ms scan is
 * followed by 50 ms idle. The percentage is read before every wait, so a slider moves it at once.
 * dispose() ends a wait (and a scan or setJob that never returns, from a terminated worker) immediately.
 */
export function throttleEngine(engine: HashEngine, getCpuPercent: () => number, options: ThrottleOptions = {}): ThrottledEngine {
  const windowMs = options.windowMs ?? 5000;
  const clock = options.clock ?? realClock;
  const now = () => clock.now();
  /** Busy intervals [start, end], oldest first; only those overlapping the window are kept. */
  const busy: [number, number][] = [];
  let firstStartMs: number | undefined;
  let disposed = false;
  let wake: (() => void) | undefined;
  const disposedSignal = new Promise<void>((resolve) => (wake = resolve));
  const empty: ScanResult = { nonces: [], scanned: 0 };

  function idle(ms: number): Promise<void> {
    if (ms <= 0 || disposed) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = clock.setTimer(resolve, ms);
      void disposedSignal.then(() => {
        cancel();
        resolve();
      });
    });
  }

  function prune(atMs: number): void {
    while (busy.length > 0 && busy[0]![1] < atMs - windowMs) busy.shift();
  }

  return {
    name: engine.name,
    ...(engine.hardware !== undefined ? { hardware: engine.hardware } : {}),
    // A terminated worker never answers setJob either: dispose ends the wait, or a stopping miner
    // would wait for that call forever.
    async setJob(job) {
      if (disposed) return;
      await Promise.race([engine.setJob(job), disposedSignal]);
    },
    async scan(nonceStart, count) {
      if (disposed) return empty;
      const began = now();
      firstStartMs ??= began;
      const result = await Promise.race([engine.scan(nonceStart, count), disposedSignal.then(() => empty)]);
      const ended = now();
      busy.push([began, ended]);
      prune(ended);
      await idle(idleMsAfter(ended - began, getCpuPercent()));
      return result;
    },
    measuredCpuShare() {
      if (firstStartMs === undefined) return 0;
      const at = now();
      prune(at);
      const from = Math.max(at - windowMs, firstStartMs);
      const span = at - from;
      if (span <= 0) return 0;
      let busyMs = 0;
      for (const [start, end] of busy) busyMs += Math.max(0, Math.min(end, at) - Math.max(start, from));
      return Math.min(1, busyMs / span);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      wake?.();
      engine.dispose();
    },
  };
}
