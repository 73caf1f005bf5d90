// A dedicated module worker running the WebGPU engine, as the miner's GPU worker will.
import { scanWithWebGpu, type ScanRequest } from './webgpu-scan.js';

export type WorkerReply = { ok: true; reply: Awaited<ReturnType<typeof scanWithWebGpu>> } | { ok: false; error: string };

addEventListener('message', (event: MessageEvent<ScanRequest>) => {
  scanWithWebGpu(event.data).then(
    (reply) => postMessage({ ok: true, reply } satisfies WorkerReply),
    (error: unknown) => postMessage({ ok: false, error: String(error) } satisfies WorkerReply),
  );
});
