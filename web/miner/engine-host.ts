import type { HashEngine, ScanJob, ScanResult } from './engine.js';

/**
 * What a worker exposes through Comlink: one engine at a time, opened by the platform's own
 * `open` (a web worker fetches the WASM, a Node worker thread reads it from disk).
 */
export function engineHost<Args extends unknown[]>(open: (...args: Args) => HashEngine | Promise<HashEngine>) {
  let engine: HashEngine | undefined;
  const current = (): HashEngine => {
    if (!engine) throw new Error('open an engine first');
    return engine;
  };
  return {
    /** Opens the engine (closing any previous one) and returns its name. */
    async open(...args: Args): Promise<HashEngine['name']> {
      engine?.dispose();
      engine = await open(...args);
      return engine.name;
    },
    setJob: (job: ScanJob): void | Promise<void> => current().setJob(job),
    scan: (nonceStart: number, count: number): Promise<ScanResult> => current().scan(nonceStart, count),
  };
}
