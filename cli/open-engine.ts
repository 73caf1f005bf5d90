import type { EngineName, HashEngine } from '../web/miner/engine.js';
import { createThreadPoolEngine } from './thread-pool-engine.js';
import { UsageError } from './usage-error.js';
import { openWasmEngine } from './wasm-node.js';

/**
 * Opens an engine by name in Node: the WebAssembly builds in-process (one thread) or across
 * worker threads, WebGPU through Dawn (the `webgpu` package), loaded only when asked for.
 */
export async function openEngine(name: EngineName, threads: number, options: { batchSize?: number } = {}): Promise<HashEngine> {
  if (name === 'webgpu') {
    if (threads !== 1) throw new UsageError('--threads: the webgpu engine runs on one GPU; use --threads 1');
    const { openNodeGpuDevice, loadWgslSource } = await import('./webgpu-node.js');
    const { createWebGpuEngine } = await import('../web/miner/engines/webgpu.js');
    const device = await openNodeGpuDevice();
    return createWebGpuEngine(device, { shaderSource: loadWgslSource(), ...options, ownsDevice: true });
  }
  const build = name === 'wasm-simd' ? 'simd' : 'scalar';
  return threads === 1 ? openWasmEngine(build) : createThreadPoolEngine(build, threads);
}
