// What bench:browser installs in the app page before any of its scripts run (page.addInitScript):
// timestamps, in the page's own performance.now() timebase, of the click, of each Worker created,
// of the first Comlink `scan` call sent to a worker and of that call's reply, of the first non-zero
// hash rate the app shows, and every long task the page's main thread reports.
// A string, not a function: tsx's transform would wrap inner helpers in __name(), which the page lacks.

export interface ProbeReadout {
  longtaskSupported: boolean;
  /** performance.now() of the first click anywhere in the page (capture phase). */
  clickAt: number | null;
  /** performance.now() at each `new Worker(...)`. */
  workersAt: number[];
  /** The first Comlink APPLY message whose path ends in `scan`, posted to any worker. */
  firstScanSentAt: number | null;
  /** The reply to that call: the worker's first scanned batch is back on the main thread. */
  firstScanReplyAt: number | null;
  /** Nonces hashed in that first batch (the reply's `scanned`). */
  firstScanned: number | null;
  /** The first time the app's [data-hashes-per-second] figure read above zero (polled every 5 ms). */
  firstRateShownAt: number | null;
  longtasks: { startTime: number; duration: number }[];
}

export const PROBE_SCRIPT = `(() => {
  const b = {
    longtaskSupported: typeof PerformanceObserver !== 'undefined' && (PerformanceObserver.supportedEntryTypes || []).includes('longtask'),
    clickAt: null, workersAt: [], firstScanSentAt: null, firstScanReplyAt: null, firstScanned: null,
    firstRateShownAt: null, longtasks: [],
  };
  window.__benchProbe = b;
  if (b.longtaskSupported) {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longtasks.push({ startTime: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  }
  const deepRate = (root) => {
    const hit = root.querySelector('[data-hashes-per-second]');
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const found = deepRate(el.shadowRoot); if (found) return found; }
    }
    return null;
  };
  addEventListener('click', () => {
    if (b.clickAt !== null) return;
    b.clickAt = performance.now();
    const poll = setInterval(() => {
      const el = deepRate(document);
      const rate = el ? Number(el.getAttribute('data-hashes-per-second')) : 0;
      if (rate > 0) { b.firstRateShownAt = performance.now(); clearInterval(poll); }
    }, 5);
    setTimeout(() => clearInterval(poll), 30000);
  }, true);
  const Base = window.Worker;
  window.Worker = class extends Base {
    constructor(url, options) {
      super(url, options);
      b.workersAt.push(performance.now());
      this.__scanIds = new Set();
      this.addEventListener('message', (event) => {
        const d = event.data;
        if (b.firstScanReplyAt === null && d && this.__scanIds.has(d.id)) {
          b.firstScanReplyAt = performance.now();
          b.firstScanned = d.value && typeof d.value.scanned === 'number' ? d.value.scanned : null;
        }
      });
    }
    postMessage(message, transfer) {
      if (message && message.type === 'APPLY' && Array.isArray(message.path) && message.path[message.path.length - 1] === 'scan') {
        if (b.firstScanSentAt === null) b.firstScanSentAt = performance.now();
        this.__scanIds.add(message.id);
      }
      return transfer === undefined ? super.postMessage(message) : super.postMessage(message, transfer);
    }
  };
})();`;

export const READ_PROBE = 'window.__benchProbe';
