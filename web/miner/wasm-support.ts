/**
 * Whether this browser runs WebAssembly SIMD: validates the smallest module that uses a v128
 * instruction (the same probe as wasm-feature-detect). Browsers without SIMD get the scalar build.
 */
export function wasmSimdSupported(): boolean {
  return WebAssembly.validate(
    new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]),
  );
}
