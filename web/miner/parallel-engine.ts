import { checkScanRange, NONCE_SPACE, type EngineName, type HashEngine, type ScanJob, type ScanResult } from './engine.js';

/**
 * Several engines of one kind (one per worker) as a single HashEngine: a scan is split into one
 * contiguous slice per engine and the results are merged back in scan order. Used for worker
 * threads in Node and web workers in the browser alike.
 */
export function parallelEngine(name: EngineName, engines: HashEngine[], onDispose: () => void = () => {}): HashEngine {
  if (engines.length === 0) throw new RangeError('parallelEngine needs at least one engine');
  return {
    name,
    async setJob(job: ScanJob): Promise<void> {
      await Promise.all(engines.map((e) => e.setJob(job)));
    },
    async scan(nonceStart: number, count: number): Promise<ScanResult> {
      checkScanRange(nonceStart, count);
      const slice = Math.ceil(count / engines.length);
      const parts = await Promise.all(
        engines.map((e, i) => {
          const offset = Math.min(i * slice, count);
          return e.scan((nonceStart + offset) % NONCE_SPACE, Math.min(slice, count - offset));
        }),
      );
      return { nonces: parts.flatMap((p) => p.nonces), scanned: parts.reduce((n, p) => n + p.scanned, 0) };
    },
    dispose(): void {
      for (const e of engines) e.dispose();
      onDispose();
    },
  };
}
