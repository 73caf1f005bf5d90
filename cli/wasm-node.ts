import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../server/package-root.js';
import { createWasmEngine } from '../web/miner/engines/wasm.js';
import type { HashEngine } from '../web/miner/engine.js';

export type WasmBuild = 'scalar' | 'simd';

const modules = new Map<WasmBuild, WebAssembly.Module>();

/** The compiled scanner module of one build, read from build/wasm/ once per process. */
export function loadWasmModule(build: WasmBuild): WebAssembly.Module {
  let module = modules.get(build);
  if (!module) {
    const file = join(packageRoot(), 'build', 'wasm', `sha256d-${build}.wasm`);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch {
      throw new Error(`${file} is missing: run "npm run build" first`);
    }
    module = new WebAssembly.Module(bytes);
    modules.set(build, module);
  }
  return module;
}

export function openWasmEngine(build: WasmBuild): HashEngine {
  return createWasmEngine(loadWasmModule(build));
}
