// Double SHA-256 of the two fixed-size messages the gateway hashes for every share: an 80-byte
// block header, and two 32-byte hashes side by side (one step of a merkle fold, a dozen per
// (job, extranonce)). Both are worth specialising: the padding blocks are known in advance (their
// message schedules are computed once), and the scratch buffers are reused, where a
// general-purpose hasher allocates a few hundred bytes of state per call; at thousands of shares a
// second that garbage is what keeps the collector busy. Checked against noble's sha256d in
// test/protocol-units.test.ts.
import { IV, K } from './sha256.js';

/** The message schedule of block `w[0..15]`, extended in place to 64 words. */
function expand(w: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]!;
    const y = w[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
}

/** One compression of the scheduled block `w` into `state` (in place). */
function compress(state: Int32Array, w: Int32Array): void {
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!;
  let e = state[4]!, f = state[5]!, g = state[6]!, h = state[7]!;
  for (let i = 0; i < 64; i++) {
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
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/** The padding block after a 64-byte message: 0x80, zeros, and the length (512 bits). */
const PAD_64: Int32Array = (() => {
  const w = new Int32Array(64);
  w[0] = 0x80000000 | 0;
  w[15] = 512;
  expand(w);
  return w;
})();

const w = new Int32Array(64);
const state = new Int32Array(8);

/** `count` big-endian words of `bytes` from byte `from`, into `into` from word `at`. */
function readWords(bytes: Uint8Array, from: number, count: number, into: Int32Array, at: number): void {
  for (let i = 0; i < count; i++) {
    const o = from + 4 * i;
    into[at + i] = (bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!;
  }
}

/** The second SHA-256 over the first one's digest in `state` (one block: digest, 0x80, zeros, 256 bits); returns its digest. */
function hashDigestAgain(): Uint8Array {
  for (let i = 0; i < 8; i++) w[i] = state[i]!;
  w[8] = 0x80000000 | 0;
  w.fill(0, 9, 15);
  w[15] = 256;
  expand(w);
  state.set(IV);
  compress(state, w);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = state[i]!;
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = (v >>> 16) & 0xff;
    out[4 * i + 2] = (v >>> 8) & 0xff;
    out[4 * i + 3] = v & 0xff;
  }
  return out;
}

/** sha256d(left ‖ right) for two 32-byte hashes, in internal byte order like sha256d. */
export function sha256dPair(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== 32 || right.length !== 32) throw new RangeError('sha256dPair hashes two 32-byte values');
  readWords(left, 0, 8, w, 0);
  readWords(right, 0, 8, w, 8);
  expand(w);
  state.set(IV);
  compress(state, w);
  compress(state, PAD_64);
  return hashDigestAgain();
}

/** sha256d of an 80-byte block header, in internal byte order like sha256d. */
export function sha256dHeader(header: Uint8Array): Uint8Array {
  if (header.length !== 80) throw new RangeError('sha256dHeader hashes an 80-byte header');
  readWords(header, 0, 16, w, 0);
  expand(w);
  state.set(IV);
  compress(state, w);
  // The header's last 16 bytes, then its padding: 0x80, zeros, and the length (640 bits).
  readWords(header, 64, 4, w, 0);
  w[4] = 0x80000000 | 0;
  w.fill(0, 5, 15);
  w[15] = 640;
  expand(w);
  compress(state, w);
  return hashDigestAgain();
}
