// A stand-in for the Compute Pressure API, set with page.addInitScript before the page loads:
// the page's PressureObserver is this one, and the test sends the CPU pressure records by hand.
import type { Page } from 'playwright-core';

export const FAKE_PRESSURE = `(() => {
  const observers = new Set();
  window.PressureObserver = class {
    constructor(callback) { this.callback = callback; }
    async observe(source) { if (source !== 'cpu') throw new Error('only cpu'); observers.add(this); }
    disconnect() { observers.delete(this); }
  };
  window.setPressure = (state) => {
    for (const o of observers) o.callback([{ source: 'cpu', state, time: performance.now() }], o);
    return observers.size;
  };
})()`;

/** Sends `state` to every observer in the page; the number of observers that heard it. */
export const setPressure = (page: Page, state: 'nominal' | 'fair' | 'serious' | 'critical'): Promise<number> =>
  page.evaluate(`setPressure(${JSON.stringify(state)})`) as Promise<number>;
