import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { HashEngine } from '../web/miner/engine.js';
import { parallelEngine } from '../web/miner/parallel-engine.js';
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

/** A WebAssembly engine spread over `threads` worker threads. */
export async function createThreadPoolEngine(build: WasmBuild, threads: number): Promise<HashEngine> {
  const workers = Array.from({ length: threads }, startWorker);
  const hosts = workers.map((w) => Comlink.wrap<EngineWorkerHost>(nodeEndpoint(w)));
  await Promise.all(hosts.map((h) => h.open(build)));
  const engines: HashEngine[] = hosts.map((h) => {
    // A call in flight when its proxy is released is never answered: dispose settles it instead.
    let stop: ((reason: Error) => void) | undefined;
    const stopped = new Promise<never>((_, reject) => (stop = reject));
    stopped.catch(() => {});
    return {
      name: build === 'simd' ? 'wasm-simd' : 'wasm',
      setJob: (job) => h.setJob(job),
      scan: (start, count) => Promise.race([h.scan(start, count), stopped]),
      dispose: () => {
        if (!stop) return;
        stop(new Error('wasm worker: disposed'));
        stop = undefined;
        h[Comlink.releaseProxy]();
      },
    };
  });
  return parallelEngine(engines[0]!.name, engines, () => {
    for (const w of workers) void w.terminate();
  });
}
