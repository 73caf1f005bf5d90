import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** SHA-256 of `data` (noble's audited implementation: the reference every engine is checked against). */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** Bitcoin's double SHA-256. The result is in internal (little-endian) byte order. */
export function sha256d(data: Uint8Array): Uint8Array {
  return nobleSha256(nobleSha256(data));
}

/** The SHA-256 round constants, shared with the WebGPU host code (which uploads them). */
export const K: Uint32Array = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** The SHA-256 initial state. */
export const IV: Uint32Array = Uint32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));
/** The SHA-256 functions (FIPS 180-4 section 4.1.2), shared by the host-side precomputations. */
export const bigSigma0 = (x: number): number => rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22);
export const bigSigma1 = (x: number): number => rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25);
export const smallSigma0 = (x: number): number => rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3);
export const smallSigma1 = (x: number): number => rotr(x, 17) ^ rotr(x, 19) ^ (x >>> 10);
export const ch = (e: number, f: number, g: number): number => (e & f) ^ (~e & g);
export const maj = (a: number, b: number, c: number): number => (a & b) ^ (a & c) ^ (b & c);

// The one SHA-256 compression in this library. The gateway runs it for every share (a header
// hash is four of them), so it works on reused Int32Arrays with the rounds' working variables in
// locals; the fixed-length hashes in sha256d-fixed.ts and the mining precomputations are built on it.

/** `count` big-endian words of `bytes` from byte `from`, into `into` from word `at`. */
export function readWordsBE(bytes: Uint8Array, from: number, count: number, into: Int32Array, at: number): void {
  for (let i = 0; i < count; i++) {
    const o = from + 4 * i;
    into[at + i] = (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!;
  }
}

/** The message schedule of block `w[0..15]`, extended in place to 64 words. */
export function expandSchedule(w: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
}

/**
 * Runs rounds 0..count-1 on the working variables `v` (a..h, in place) with the scheduled words
 * `w`, without the final feed-forward. Mining precomputes the first rounds of the header's second
 * block this way, since they read only nonce-free words; a compression is all 64 of them.
 */
export function sha256Rounds(v: Int32Array, w: Int32Array, count: number): void {
  let a = v[0]!, b = v[1]!, c = v[2]!, d = v[3]!;
  let e = v[4]!, f = v[5]!, g = v[6]!, h = v[7]!;
  for (let i = 0; i < count; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  v[0] = a;
  v[1] = b;
  v[2] = c;
  v[3] = d;
  v[4] = e;
  v[5] = f;
  v[6] = g;
  v[7] = h;
}

const working = new Int32Array(8);

/** One compression of the scheduled block `w` (64 words) into `state` (in place). */
export function compressScheduled(state: Int32Array, w: Int32Array): void {
  working.set(state);
  sha256Rounds(working, w, 64);
  for (let i = 0; i < 8; i++) state[i] = (state[i]! + working[i]!) | 0;
}

const blockWords = new Int32Array(64);
const blockState = new Int32Array(8);

/**
 * One SHA-256 compression of a 64-byte block into `state` (in place). Mining needs this step on its
 * own: the first 64 header bytes do not change while the nonce does, so their compression (the
 * "midstate") is done once per job, and the engines start every nonce from it.
 */
export function sha256Compress(state: Uint32Array, block: Uint8Array, offset = 0): void {
  if (offset < 0 || block.length - offset < 64) throw new RangeError('sha256Compress reads a 64-byte block');
  readWordsBE(block, offset, 16, blockWords, 0);
  expandSchedule(blockWords);
  blockState.set(state);
  compressScheduled(blockState, blockWords);
  state.set(blockState);
}

/** The SHA-256 state after compressing the first 64 bytes of an 80-byte block header. */
export function midstate(header: Uint8Array): Uint32Array {
  const state = Uint32Array.from(IV);
  sha256Compress(state, header, 0);
  return state;
}
