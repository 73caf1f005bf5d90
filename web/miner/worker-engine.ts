import * as Comlink from 'comlink';
import type { HashEngine } from './engine.js';
import type { BrowserEngineWorker } from './engine-worker.js';
import { parallelEngine } from './parallel-engine.js';
import { WASM_URLS, type WasmBuild } from './wasm-urls.js';

/** One WebAssembly engine in its own dedicated web worker. */
export async function openWorkerEngine(build: WasmBuild): Promise<HashEngine> {
  const worker = new Worker(new URL('./engine-worker.ts', import.meta.url), { type: 'module', name: `sha256d-${build}` });
  const host = Comlink.wrap<BrowserEngineWorker>(worker);
  try {
    const name = await host.open(new URL(WASM_URLS[build], location.href).href);
    return {
      name,
      setJob: (job) => host.setJob(job),
      scan: (start, count) => host.scan(start, count),
      dispose() {
        host[Comlink.releaseProxy]();
        worker.terminate();
      },
    };
  } catch (err) {
    worker.terminate();
    throw err;
  }
}

/** `workers` WebAssembly engines, one per dedicated worker, as one engine. */
export async function openWorkerPool(build: WasmBuild, workers: number): Promise<HashEngine> {
  const engines = await Promise.all(Array.from({ length: workers }, () => openWorkerEngine(build)));
  return parallelEngine(engines[0]!.name, engines);
}
