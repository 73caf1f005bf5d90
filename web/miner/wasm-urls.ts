// The two WebAssembly builds as URLs Vite fingerprints and serves; workers fetch and compile them.
import scalarUrl from '../../build/wasm/sha256d-scalar.wasm?url';
import simdUrl from '../../build/wasm/sha256d-simd.wasm?url';

export const WASM_URLS = { scalar: scalarUrl, simd: simdUrl } as const;
export type WasmBuild = keyof typeof WASM_URLS;
