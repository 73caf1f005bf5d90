import { checkHeader } from '../../../protocol/header.js';
import { bigSigma0 as bsig0, bigSigma1 as bsig1, ch, K, maj, midstate, sha256Rounds, smallSigma0 as ssig0, smallSigma1 as ssig1 } from '../../../protocol/sha256.js';
import { MAX_TARGET, targetToWords, type Target } from '../../../protocol/target.js';

/**
 * The per-job uniform of shaders/sha256d-scan.wgsl (struct Job): everything about the header that
 * does not depend on the nonce, computed once per job on the host so that the kernel spends its
 * time only on what does. The layout (eight vec4<u32>) must match the WGSL struct field by field.
 */
export const JOB_UNIFORM_WORDS = 32;

/** W15 of the header's second block: the message length, 80 bytes = 640 bits. */
const HEADER_BITS = 640;
/** W4 of the second block: the padding bit right after the nonce. */
const PAD_BIT = 0x80000000;

export function checkTarget(target: Target): void {
  if (typeof target !== 'bigint' || target < 0n || target > MAX_TARGET) {
    throw new RangeError('target must be a bigint in 0..2^256-1');
  }
}

/** Builds the Job uniform for `header` (80 bytes; its nonce field is ignored) and `target`. */
export function packJobUniform(header: Uint8Array, target: Target): Uint32Array<ArrayBuffer> {
  checkHeader(header);
  checkTarget(target);
  const mid = midstate(header);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const w = [view.getUint32(64, false), view.getUint32(68, false), view.getUint32(72, false)] as const;

  // Rounds 0..2 of the second block read only W0..W2 (merkle tail, ntime, nbits).
  const v = Int32Array.from(mid);
  sha256Rounds(v, Int32Array.from(w), 3);
  const [a, b, c, d, e, f, g, h] = v as unknown as [number, number, number, number, number, number, number, number];
  // Round 3 adds W3 (the nonce) to T1 and nothing else depends on it: the kernel adds it to these.
  const t1NoW3 = (h + bsig1(e) + ch(e, f, g) + K[3]!) | 0;
  const newANoW3 = (t1NoW3 + bsig0(a) + maj(a, b, c)) | 0;
  const newENoW3 = (d + t1NoW3) | 0;

  // Message schedule terms without the nonce (W5..W14 are 0, W4 = PAD_BIT, W15 = HEADER_BITS).
  const w16 = (ssig0(w[1]) + w[0]) | 0;
  const w17 = (ssig1(HEADER_BITS) + ssig0(w[2]) + w[1]) | 0;
  const w18NoW3 = (ssig1(w16) + w[2]) | 0;
  const w19NoW3 = (ssig1(w17) + ssig0(PAD_BIT)) | 0;
  const w31Fixed = (ssig0(w16) + HEADER_BITS) | 0;
  const w32Fixed = (ssig0(w17) + w16) | 0;

  const out = new Uint32Array(JOB_UNIFORM_WORDS);
  out.set(mid, 0);
  out.set([a, b, c, newANoW3], 8);
  out.set([e, f, g, newENoW3], 12);
  out.set([w16, w17, w18NoW3, w19NoW3], 16);
  out.set([w31Fixed, w32Fixed, 0, 0], 20);
  out.set(targetToWords(target), 24);
  return out;
}
