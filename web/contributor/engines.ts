// Opening the engines of one mining run: a WebAssembly engine per worker thread and, when asked,
// the WebGPU engine, all behind the duty cycle.
import type { HashEngine } from '../miner/engine.js';
import { openBrowserGpuEngine } from '../miner/browser-gpu.js';
import { throttleEngine, type ThrottledEngine } from '../miner/throttle.js';
import { wasmSimdSupported } from '../miner/wasm-support.js';
import { openWorkerEngine } from '../miner/worker-engine.js';

/**
 * WebGPU dispatches adapt to about 8 ms each (DESIGN.md: the page must stay smooth), from 1024
 * nonces on a software adapter up to 2^24 on a fast GPU.
 */
export const GPU_BATCH_SIZE = 1 << 24;
const GPU_DISPATCH_MS = 8;

/**
 * A WebGPU engine on this page's main thread (a dispatch is queued work, not JavaScript, so the
 * thread only waits for it). Rejects with the reason where the browser has no WebGPU or no adapter.
 */
export function openGpuEngine(): Promise<HashEngine> {
  return openBrowserGpuEngine({ batchSize: GPU_BATCH_SIZE, targetDispatchMs: GPU_DISPATCH_MS });
}

export interface EngineRequest {
  threads: number;
  useGpu: boolean;
  /** The WebAssembly build; by default SIMD where the browser has it. */
  build?: 'scalar' | 'simd';
  /** The duty cycle, read before every idle wait. */
  cpuPercent: () => number;
}

export interface OpenedEngines {
  cpu: ThrottledEngine[];
  gpu?: ThrottledEngine;
  /** Why the GPU is not used although it was asked for. */
  gpuNote?: string;
}

/** Opens every engine, or none: a worker that fails closes the others and rejects with its reason. */
export async function openEngines(request: EngineRequest): Promise<OpenedEngines> {
  const build = request.build ?? (wasmSimdSupported() ? 'simd' : 'scalar');
  const gpuOpening = request.useGpu ? openGpuEngine() : undefined;
  const opened = await Promise.allSettled(Array.from({ length: request.threads }, () => openWorkerEngine(build)));
  const cpu = opened.flatMap((r) => (r.status === 'fulfilled' ? [throttleEngine(r.value, request.cpuPercent)] : []));
  let gpuNote: string | undefined;
  // A GPU that cannot be opened is reported, and the CPU workers mine without it.
  const gpu = await gpuOpening?.then(
    (engine) => throttleEngine(engine, request.cpuPercent),
    (err: unknown) => void (gpuNote = `GPU not used: ${err instanceof Error ? err.message : String(err)}`),
  );
  const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    closeEngines({ cpu, ...(gpu ? { gpu } : {}) });
    throw failed.reason;
  }
  return { cpu, ...(gpu ? { gpu } : {}), ...(gpuNote ? { gpuNote } : {}) };
}

/** Terminates every worker at once: their hashing ends now, not after the current scan. */
export function closeEngines(engines: OpenedEngines): void {
  for (const engine of engines.cpu) engine.dispose();
  engines.gpu?.dispose();
}
