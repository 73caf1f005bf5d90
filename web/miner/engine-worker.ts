// A dedicated web worker hosting one WebAssembly engine, driven through Comlink. The Node CLI's
// worker threads (cli/engine-worker.ts) expose the same host.
import * as Comlink from 'comlink';
import { engineHost } from './engine-host.js';
import { createWasmEngine } from './engines/wasm.js';

const host = engineHost(async (wasmUrl: string) => createWasmEngine(await WebAssembly.compileStreaming(fetch(wasmUrl))));

export type BrowserEngineWorker = typeof host;

Comlink.expose(host);
