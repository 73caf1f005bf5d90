import type { Target } from '../../protocol/target.js';

/** The hashing engines. `wasm` is the scalar WebAssembly build, `wasm-simd` the 4-lane v128 build. */
export const ENGINE_NAMES = ['wasm', 'wasm-simd', 'webgpu'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** What an engine scans: an 80-byte header (its nonce field is ignored) and a share target. */
export interface ScanJob {
  header: Uint8Array;
  target: Target;
}

export interface ScanResult {
  /** Nonces in the scanned range whose double SHA-256 is <= the target, in scan order. */
  nonces: number[];
  /** How many nonces were hashed (the whole count unless the engine was stopped). */
  scanned: number;
}

/**
 * The one engine interface: the browser's workers, the CLI and the benchmarks all drive engines
 * through it. `setJob` does the per-job precomputation (midstate and the nonce-independent part
 * of the second block); `scan` hashes `count` nonces from `nonceStart`, wrapping at 2^32.
 */
export interface HashEngine {
  readonly name: EngineName;
  /** What the engine runs on, where it can tell (the GPU adapter): shown beside its hash rate. */
  readonly hardware?: string;
  setJob(job: ScanJob): void | Promise<void>;
  scan(nonceStart: number, count: number): Promise<ScanResult>;
  dispose(): void;
}

export const NONCE_SPACE = 2 ** 32;

/** Checks scan arguments the same way for every engine. */
export function checkScanRange(nonceStart: number, count: number): void {
  if (!Number.isInteger(nonceStart) || nonceStart < 0 || nonceStart >= NONCE_SPACE) {
    throw new RangeError(`nonceStart must be an integer in 0..2^32-1, got ${nonceStart}`);
  }
  if (!Number.isInteger(count) || count < 0 || count > NONCE_SPACE) {
    throw new RangeError(`count must be an integer in 0..2^32, got ${count}`);
  }
}
