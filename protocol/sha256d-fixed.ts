// Double SHA-256 of the two fixed-size messages the gateway hashes for every share: an 80-byte
// block header, and two 32-byte hashes side by side (one step of a merkle fold, a dozen per
// (job, extranonce)). Both are worth specialising: the padding blocks are known in advance (their
// message schedules are computed once), and the scratch buffers are reused, where a
// general-purpose hasher allocates a few hundred bytes of state per call; at thousands of shares a
// second that garbage is what keeps the collector busy. Checked against noble's sha256d in
// test/protocol-units.test.ts.
import { compressScheduled, expandSchedule, IV, readWordsBE } from './sha256.js';

/** The padding block after a 64-byte message: 0x80, zeros, and the length (512 bits). */
const PAD_64: Int32Array = (() => {
  const w = new Int32Array(64);
  w[0] = 0x80000000 | 0;
  w[15] = 512;
  expandSchedule(w);
  return w;
})();

const w = new Int32Array(64);
const state = new Int32Array(8);

/** The second SHA-256 over the first one's digest in `state` (one block: digest, 0x80, zeros, 256 bits); returns its digest. */
function hashDigestAgain(): Uint8Array {
  for (let i = 0; i < 8; i++) w[i] = state[i]!;
  w[8] = 0x80000000 | 0;
  w.fill(0, 9, 15);
  w[15] = 256;
  expandSchedule(w);
  state.set(IV);
  compressScheduled(state, w);
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
  readWordsBE(left, 0, 8, w, 0);
  readWordsBE(right, 0, 8, w, 8);
  expandSchedule(w);
  state.set(IV);
  compressScheduled(state, w);
  compressScheduled(state, PAD_64);
  return hashDigestAgain();
}

/** sha256d of an 80-byte block header, in internal byte order like sha256d. */
export function sha256dHeader(header: Uint8Array): Uint8Array {
  if (header.length !== 80) throw new RangeError('sha256dHeader hashes an 80-byte header');
  readWordsBE(header, 0, 16, w, 0);
  expandSchedule(w);
  state.set(IV);
  compressScheduled(state, w);
  // The header's last 16 bytes, then its padding: 0x80, zeros, and the length (640 bits).
  readWordsBE(header, 64, 4, w, 0);
  w[4] = 0x80000000 | 0;
  w.fill(0, 5, 15);
  w[15] = 640;
  expandSchedule(w);
  compressScheduled(state, w);
  return hashDigestAgain();
}
