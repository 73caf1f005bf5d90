import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { checkScanRange, type EngineName, type HashEngine, type ScanJob, type ScanResult } from '../web/miner/engine.js';
import type { EngineWorkerHost } from './engine-worker.js';
import type { WasmBuild } from './wasm-node.js';

/**
 * Starts cli/engine-worker. From source (the tests run TypeScript through tsx) the worker is
 * TypeScript too, and Node 20 gives workers no loader of their own: it registers tsx first.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./engine-worker.js', import.meta.url));
  const source = new URL('./engine-worker.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`, { eval: true });
}

/**
 * A WebAssembly engine spread over worker threads. It is itself a HashEngine: a scan is split
 * into one contiguous slice per thread and the results are merged back into scan order.
 */
export async function createThreadPoolEngine(build: WasmBuild, threads: number): Promise<HashEngine> {
  const workers = Array.from({ length: threads }, () => startWorker());
  const hosts = workers.map((w) => Comlink.wrap<EngineWorkerHost>(nodeEndpoint(w)));
  await Promise.all(hosts.map((h) => h.open(build)));
  const name: EngineName = build === 'simd' ? 'wasm-simd' : 'wasm';

  return {
    name,
    async setJob(job: ScanJob): Promise<void> {
      await Promise.all(hosts.map((h) => h.setJob(job)));
    },
    async scan(nonceStart: number, count: number): Promise<ScanResult> {
      checkScanRange(nonceStart, count);
      const slice = Math.ceil(count / threads);
      const parts = await Promise.all(
        hosts.map((h, i) => {
          const offset = Math.min(i * slice, count);
          return h.scan((nonceStart + offset) % 2 ** 32, Math.min(slice, count - offset));
        }),
      );
      return { nonces: parts.flatMap((p) => p.nonces), scanned: parts.reduce((n, p) => n + p.scanned, 0) };
    },
    dispose(): void {
      for (const h of hosts) h[Comlink.releaseProxy]();
      for (const w of workers) void w.terminate();
    },
  };
}
