// A dedicated web worker hosting one WebAssembly engine, driven through Comlink. The Node CLI's
// worker threads (cli/engine-worker.ts) expose the same API.
import * as Comlink from 'comlink';
import type { HashEngine, ScanJob, ScanResult } from './engine.js';
import { createWasmEngine } from './engines/wasm.js';

let engine: HashEngine | undefined;

const host = {
  /** Compiles the build at `wasmUrl` and returns the engine's name. */
  async open(wasmUrl: string): Promise<string> {
    engine?.dispose();
    engine = createWasmEngine(await WebAssembly.compileStreaming(fetch(wasmUrl)));
    return engine.name;
  },
  setJob(job: ScanJob): void {
    if (!engine) throw new Error('open an engine first');
    engine.setJob(job);
  },
  scan(nonceStart: number, count: number): Promise<ScanResult> {
    if (!engine) throw new Error('open an engine first');
    return engine.scan(nonceStart, count);
  },
};

export type BrowserEngineWorker = typeof host;

Comlink.expose(host);
