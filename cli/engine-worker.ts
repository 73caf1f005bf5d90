// A worker thread that hosts one WebAssembly engine, driven through Comlink like the browser's
// web workers, so that threads in Node and in the browser are the same engine behind one API.
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { HashEngine, ScanJob, ScanResult } from '../web/miner/engine.js';
import { openWasmEngine, type WasmBuild } from './wasm-node.js';

let engine: HashEngine | undefined;

const host = {
  open(build: WasmBuild): void {
    engine?.dispose();
    engine = openWasmEngine(build);
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

export type EngineWorkerHost = typeof host;

if (!parentPort) throw new Error('engine-worker.ts must run in a worker thread');
Comlink.expose(host, nodeEndpoint(parentPort));
