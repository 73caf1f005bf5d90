import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { packageRoot } from '../server/package-root.js';

/**
 * Keeps each device's GPU object (the result of `create`) alive exactly as long as the device:
 * Dawn tears its instance down when that object is garbage-collected, and a device still in use
 * then crashes the process (seen as a segfault a few hundred milliseconds into a scan).
 */
const instances = new WeakMap<GPUDevice, GPU>();

/** Why there is no GPU and how to get a software one: the CLI and the tests print this as is. */
export const NO_ADAPTER_MESSAGE =
  "no WebGPU adapter: on a machine without a GPU install Debian's chromium and libvulkan1 and set " +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * A WebGPU device in Node through the `webgpu` package (Dawn). Its globals (GPUBufferUsage,
 * GPUMapMode, ...) are installed on globalThis because the isomorphic engine uses them as a
 * browser would. Call `device.destroy()` when done, so that the process can exit.
 */
export async function openNodeGpuDevice(): Promise<GPUDevice> {
  Object.assign(globalThis, globals);
  const gpu = create([]);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    throw new Error(`${NO_ADAPTER_MESSAGE} (requestAdapter failed: ${String(error)})`);
  }
  if (!adapter) throw new Error(NO_ADAPTER_MESSAGE);
  const device = await adapter.requestDevice({ label: 'dao-miner' });
  instances.set(device, gpu);
  return device;
}

/** The WGSL text of the SHA-256d scan kernel, for createWebGpuEngine's shaderSource. */
export function loadWgslSource(): string {
  return readFileSync(join(packageRoot(), 'shaders', 'sha256d-scan.wgsl'), 'utf8');
}
