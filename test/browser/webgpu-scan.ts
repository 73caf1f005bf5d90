// The browser side of test/webgpu.browser.test.ts, shared by the page and its worker: the same
// engine module the app uses, the WGSL through Vite's ?raw import, a device from navigator.gpu.
import shaderSource from '../../shaders/sha256d-scan.wgsl?raw';
import { hexToBytes } from '../../protocol/hex.js';
import { createWebGpuEngine } from '../../web/miner/engines/webgpu.js';

export interface ScanRequest {
  headerHex: string;
  /** The target as 64 hex digits (a bigint does not survive postMessage to every browser). */
  targetHex: string;
  nonceStart: number;
  count: number;
  batchSize: number;
}

export interface ScanReply {
  nonces: number[];
  scanned: number;
  /** What navigator.gpu gave, e.g. "google swiftshader", so a report shows what ran. */
  adapter: string;
}

/** The API the page puts on window for page.evaluate. */
export interface WebGpuTestApi {
  mainThread(request: ScanRequest): Promise<ScanReply>;
  worker(request: ScanRequest): Promise<ScanReply>;
}

export async function scanWithWebGpu(request: ScanRequest): Promise<ScanReply> {
  if (!('gpu' in navigator)) throw new Error('no navigator.gpu: WebGPU is disabled or this is not a secure context');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter: start Chromium with --enable-unsafe-webgpu (see test/helpers/browser.ts)');
  const device = await adapter.requestDevice();
  const engine = createWebGpuEngine(device, { shaderSource, batchSize: request.batchSize });
  try {
    await engine.setJob({ header: hexToBytes(request.headerHex, 'header', 80), target: BigInt('0x' + request.targetHex) });
    const { nonces, scanned } = await engine.scan(request.nonceStart, request.count);
    return { nonces, scanned, adapter: `${adapter.info.vendor} ${adapter.info.architecture}` };
  } finally {
    engine.dispose();
    device.destroy();
  }
}
