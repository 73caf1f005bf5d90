// A worker thread hosting one WebAssembly engine, driven through Comlink like the browser's web
// workers (web/miner/engine-worker.ts): threads in Node and in the browser share one host API.
import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { engineHost } from '../web/miner/engine-host.js';
import { openWasmEngine, type WasmBuild } from './wasm-node.js';

const host = engineHost((build: WasmBuild) => openWasmEngine(build));

export type EngineWorkerHost = typeof host;

if (!parentPort) throw new Error('engine-worker must run in a worker thread');
Comlink.expose(host, nodeEndpoint(parentPort));
