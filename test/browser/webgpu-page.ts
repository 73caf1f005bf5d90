// The page of test/webgpu.browser.test.ts: exposes the scan on the main thread and in a worker.
import { scanWithWebGpu, type ScanReply, type ScanRequest, type WebGpuTestApi } from './webgpu-scan.js';
import type { WorkerReply } from './webgpu-worker.js';

function scanInWorker(request: ScanRequest): Promise<ScanReply> {
  const worker = new Worker(new URL('./webgpu-worker.ts', import.meta.url), { type: 'module' });
  return new Promise<ScanReply>((resolve, reject) => {
    worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => {
      if (event.data.ok) resolve(event.data.reply);
      else reject(new Error(`in the worker: ${event.data.error}`));
    });
    // A worker whose module fails to load reports only this event, with no message of its own.
    worker.addEventListener('error', (event) => reject(new Error(`the worker failed to start: ${event.message}`)));
    worker.postMessage(request);
  }).finally(() => worker.terminate());
}

const api: WebGpuTestApi = { mainThread: scanWithWebGpu, worker: scanInWorker };
(window as unknown as { webgpuTest: WebGpuTestApi }).webgpuTest = api;
