import { checkHeader } from '../../../protocol/header.js';
import { targetToWords } from '../../../protocol/target.js';
import { checkScanRange, type HashEngine, type ScanJob, type ScanResult } from '../engine.js';

/** The exports of assembly/sha256d.ts (both builds have the same ones). */
interface ScannerExports {
  memory: WebAssembly.Memory;
  headerPtr(): number;
  targetPtr(): number;
  resultsPtr(): number;
  resultCapacity(): number;
  prepare(): void;
  scan(start: number, count: number): number;
  scanned(): number;
  simd(): number;
}

/**
 * Nonces per call into WebAssembly. Small enough that a caller stepping through a big range can
 * be stopped between calls; large enough that the call overhead is nothing (about 1 ms of work).
 */
const MAX_CALL_COUNT = 1 << 12;

/**
 * The WebAssembly engine, scalar (`wasm`) or SIMD (`wasm-simd`) depending on the module given.
 * Isomorphic: the platform compiles the module (Node from the file, the browser from a fetch).
 */
export function createWasmEngine(module: WebAssembly.Module): HashEngine {
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort(): never {
        throw new Error('sha256d scanner aborted');
      },
    },
  });
  const wasm = instance.exports as unknown as ScannerExports;
  const name = wasm.simd() ? 'wasm-simd' : 'wasm';
  let prepared = false;

  return {
    name,
    setJob(job: ScanJob): void {
      checkHeader(job.header);
      new Uint8Array(wasm.memory.buffer, wasm.headerPtr(), 80).set(job.header);
      new Uint32Array(wasm.memory.buffer, wasm.targetPtr(), 8).set(targetToWords(job.target));
      wasm.prepare();
      prepared = true;
    },
    async scan(nonceStart: number, count: number): Promise<ScanResult> {
      return scanSync(nonceStart, count);
    },
    dispose(): void {
      prepared = false;
    },
  };

  function scanSync(nonceStart: number, count: number): ScanResult {
    checkScanRange(nonceStart, count);
    if (!prepared) throw new Error(`${name}: setJob must be called before scan`);
    const nonces: number[] = [];
    let done = 0;
    while (done < count) {
      const chunk = Math.min(MAX_CALL_COUNT, count - done);
      const found = wasm.scan((nonceStart + done) >>> 0, chunk);
      if (found > 0) {
        const results = new Uint32Array(wasm.memory.buffer, wasm.resultsPtr(), found);
        for (const nonce of results) nonces.push(nonce);
      }
      // Less than the chunk means the result buffer filled: go on from where it stopped.
      done += wasm.scanned();
    }
    return { nonces, scanned: count };
  }
}
