import wgslSource from '../../shaders/sha256d-scan.wgsl?raw';
import type { HashEngine } from './engine.js';
import { createWebGpuEngine, type WebGpuEngineOptions } from './engines/webgpu.js';

/** The browser offers no WebGPU here (no navigator.gpu, or no adapter): not a failure of ours. */
export class GpuUnavailable extends Error {
  override readonly name = 'GpuUnavailable';
}

/**
 * The WebGPU engine in a browser: an adapter and device from navigator.gpu and the WGSL kernel
 * bundled by Vite. The engine owns the device and destroys it on dispose.
 */
export async function openBrowserGpuEngine(options: Omit<WebGpuEngineOptions, 'shaderSource' | 'ownsDevice'>): Promise<HashEngine> {
  const gpu = 'gpu' in navigator ? navigator.gpu : undefined;
  if (!gpu) throw new GpuUnavailable('this browser has no WebGPU');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new GpuUnavailable('no WebGPU adapter');
  const device = await adapter.requestDevice();
  try {
    return createWebGpuEngine(device, { ...options, shaderSource: wgslSource, ownsDevice: true });
  } catch (err) {
    device.destroy();
    throw err;
  }
}
