// SHA-256d nonce scan for Bitcoin block headers: one invocation hashes one nonce.
//
// The host (web/miner/engines/webgpu.ts) does everything that does not depend on the nonce once
// per job and uploads it in `job`; this kernel only does the nonce-dependent remainder:
//
// - The 80-byte header is two SHA-256 blocks. The first 64 bytes never change while the nonce
//   does, so their compression (the midstate) is done on the host.
// - The second block is header bytes 64..79 + padding: W0..W2 (merkle root tail, ntime, nbits)
//   are fixed, W3 is the nonce, W4 = 0x80000000, W5..W14 = 0, W15 = 640 (80 bytes in bits).
//   Rounds 0..2 use only W0..W2, so the host runs them; of round 3 only the "+ W3" is left here.
//   The host also folds the nonce-independent terms of W16..W19, W31 and W32.
// - The zero and constant message words are written in as literals (K[t] + W[t] folded),
//   so no work is spent adding zeros.
// - The second hash hashes the 32-byte first digest: W0..W7 = digest, W8 = 0x80000000,
//   W9..W14 = 0, W15 = 256, and it starts from the constant IV, so its round 0 is
//   "digest word 0 + a constant".
// - Early reject: the value compared with the target is the digest read byte-reversed, so its
//   most significant 32 bits are bswap(H7). H7 = IV[7] + (h after round 63) and h after round 63
//   is the e computed in round 60, so rounds 61..63 run only when bswap(H7) equals target word 0
//   and the remaining words decide (about 1 nonce in 2^32 for a real target).
//
// The rounds are unrolled by hand, because WGSL has no macros and a compiler need not unroll a
// loop over an indexed W array: on SwiftShader the same kernel written with such loops hashed
// about 20% slower (0.35 against 0.45 MH/s). Each `rnd` call names the eight working variables
// in rotated roles instead of moving seven of them per round; the message schedule is one `let`
// per word (w16..w63 for the first hash, v16..v63 for the second), so every value can live in a
// register.
// WGSL has no rotate or byte-swap builtin, so both are spelled with shifts.
//
// Output: every nonce whose hash is <= the target gets a slot from an atomic counter. The counter
// keeps counting past the array's capacity, so the host sees an overflow and rescans that range
// in smaller pieces: results are never dropped.

// Threads per workgroup, set by the host (workgroupSize, default 64). Measured: 32 to 256 made no
// difference beyond noise on SwiftShader, and under 3% on an NVIDIA H200.
override WORKGROUP_SIZE: u32 = 64u;

// W0..W2 themselves are not here: everything they feed is already folded into these values.
struct Job {
  midstate_lo: vec4<u32>, // H0..H3 after the first 64 header bytes
  midstate_hi: vec4<u32>, // H4..H7
  abc3: vec4<u32>,        // xyz: a, b, c after round 2 (they become b, c, d in round 3);
                          // w: the new a of round 3 minus W3
  efg3: vec4<u32>,        // xyz: e, f, g after round 2; w: the new e of round 3 minus W3
  w16_19: vec4<u32>,      // W16, W17 (nonce-independent), W18 - ssig0(W3), W19 - W3
  w31_32: vec4<u32>,      // W31 - ssig1(W29) - W24, W32 - ssig1(W30) - W25, unused, unused
  target_hi: vec4<u32>,   // target words 0..3, most significant first
  target_lo: vec4<u32>,   // target words 4..7
}

// Which nonces this dispatch covers: base .. base + count - 1, wrapping at 2^32 (u32 adds wrap).
struct Span {
  base: u32,
  count: u32,
}

struct Found {
  count: atomic<u32>,     // how many nonces matched, even past the capacity of `nonces`
  nonces: array<u32>,     // the first arrayLength(&nonces) of them, in no particular order
}

@group(0) @binding(0) var<uniform> job: Job;
@group(0) @binding(1) var<uniform> span: Span;
@group(0) @binding(2) var<storage, read_write> found: Found;

const K = array<u32, 64>(
  0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
  0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
  0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
  0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
  0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
  0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
  0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
  0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
);

const IV = array<u32, 8>(
  0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
);

fn rotr(x: u32, n: u32) -> u32 {
  return (x >> n) | (x << (32u - n));
}

fn bswap(x: u32) -> u32 {
  return (x << 24u) | ((x & 0xff00u) << 8u) | ((x >> 8u) & 0xff00u) | (x >> 24u);
}

fn ssig0(x: u32) -> u32 { return rotr(x, 7u) ^ rotr(x, 18u) ^ (x >> 3u); }
fn ssig1(x: u32) -> u32 { return rotr(x, 17u) ^ rotr(x, 19u) ^ (x >> 10u); }
fn bsig0(x: u32) -> u32 { return rotr(x, 2u) ^ rotr(x, 13u) ^ rotr(x, 22u); }
fn bsig1(x: u32) -> u32 { return rotr(x, 6u) ^ rotr(x, 11u) ^ rotr(x, 25u); }
// ch and maj in their cheaper equivalent forms (one operation fewer each).
fn ch(e: u32, f: u32, g: u32) -> u32 { return g ^ (e & (f ^ g)); }
fn maj(a: u32, b: u32, c: u32) -> u32 { return (a & b) | (c & (a | b)); }

// One SHA-256 round, with `kw` = K[t] + W[t]. Instead of shifting all eight working variables,
// the caller passes them in rotated roles: only the variables playing d and h are written
// (d += T1 becomes the new e, h = T1 + T2 becomes the new a).
fn rnd(a: u32, b: u32, c: u32, d: ptr<function, u32>, e: u32, f: u32, g: u32, h: ptr<function, u32>, kw: u32) {
  let t1 = *h + bsig1(e) + ch(e, f, g) + kw;
  *d = *d + t1;
  *h = t1 + bsig0(a) + maj(a, b, c);
}

// The rare path: the full comparison, display word 0 (most significant) first.
fn at_or_below_target(display: array<u32, 8>) -> bool {
  let limit = array<u32, 8>(
    job.target_hi.x, job.target_hi.y, job.target_hi.z, job.target_hi.w,
    job.target_lo.x, job.target_lo.y, job.target_lo.z, job.target_lo.w,
  );
  for (var i = 0u; i < 8u; i++) {
    if (display[i] != limit[i]) {
      return display[i] < limit[i];
    }
  }
  return true;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  // The host dispatches in two dimensions when a batch needs more than 65535 workgroups.
  let index = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (index >= span.count) {
    return; // the last workgroup of a partial batch
  }
  let nonce = span.base + index;
  // The nonce is stored little-endian and SHA-256 reads big-endian words.
  let w3 = bswap(nonce);

  // ---- First hash, second block: state after round 3 (rounds 0..2 done on the host).
  var a = job.abc3.w + w3;
  var b = job.abc3.x;
  var c = job.abc3.y;
  var d = job.abc3.z;
  var e = job.efg3.w + w3;
  var f = job.efg3.x;
  var g = job.efg3.y;
  var h = job.efg3.z;
  rnd(a, b, c, &d, e, f, g, &h, 0xb956c25bu /* K[4] + W4 (0x80000000) */);
  rnd(h, a, b, &c, d, e, f, &g, K[5]);
  rnd(g, h, a, &b, c, d, e, &f, K[6]);
  rnd(f, g, h, &a, b, c, d, &e, K[7]);
  rnd(e, f, g, &h, a, b, c, &d, K[8]);
  rnd(d, e, f, &g, h, a, b, &c, K[9]);
  rnd(c, d, e, &f, g, h, a, &b, K[10]);
  rnd(b, c, d, &e, f, g, h, &a, K[11]);
  rnd(a, b, c, &d, e, f, g, &h, K[12]);
  rnd(h, a, b, &c, d, e, f, &g, K[13]);
  rnd(g, h, a, &b, c, d, e, &f, K[14]);
  rnd(f, g, h, &a, b, c, d, &e, 0xc19bf3f4u /* K[15] + W15 (640) */);
  let w16 = job.w16_19.x;                                rnd(e, f, g, &h, a, b, c, &d, K[16] + w16);
  let w17 = job.w16_19.y;                                rnd(d, e, f, &g, h, a, b, &c, K[17] + w17);
  let w18 = job.w16_19.z + ssig0(w3);                    rnd(c, d, e, &f, g, h, a, &b, K[18] + w18);
  let w19 = job.w16_19.w + w3;                           rnd(b, c, d, &e, f, g, h, &a, K[19] + w19);
  let w20 = ssig1(w18) + 0x80000000u;                    rnd(a, b, c, &d, e, f, g, &h, K[20] + w20);
  let w21 = ssig1(w19);                                  rnd(h, a, b, &c, d, e, f, &g, K[21] + w21);
  let w22 = ssig1(w20) + 640u;                           rnd(g, h, a, &b, c, d, e, &f, K[22] + w22);
  let w23 = ssig1(w21) + w16;                            rnd(f, g, h, &a, b, c, d, &e, K[23] + w23);
  let w24 = ssig1(w22) + w17;                            rnd(e, f, g, &h, a, b, c, &d, K[24] + w24);
  let w25 = ssig1(w23) + w18;                            rnd(d, e, f, &g, h, a, b, &c, K[25] + w25);
  let w26 = ssig1(w24) + w19;                            rnd(c, d, e, &f, g, h, a, &b, K[26] + w26);
  let w27 = ssig1(w25) + w20;                            rnd(b, c, d, &e, f, g, h, &a, K[27] + w27);
  let w28 = ssig1(w26) + w21;                            rnd(a, b, c, &d, e, f, g, &h, K[28] + w28);
  let w29 = ssig1(w27) + w22;                            rnd(h, a, b, &c, d, e, f, &g, K[29] + w29);
  let w30 = ssig1(w28) + w23 + 0x00a00055u;              rnd(g, h, a, &b, c, d, e, &f, K[30] + w30);
  let w31 = ssig1(w29) + w24 + job.w31_32.x;             rnd(f, g, h, &a, b, c, d, &e, K[31] + w31);
  let w32 = ssig1(w30) + w25 + job.w31_32.y;             rnd(e, f, g, &h, a, b, c, &d, K[32] + w32);
  let w33 = ssig1(w31) + w26 + ssig0(w18) + w17;         rnd(d, e, f, &g, h, a, b, &c, K[33] + w33);
  let w34 = ssig1(w32) + w27 + ssig0(w19) + w18;         rnd(c, d, e, &f, g, h, a, &b, K[34] + w34);
  let w35 = ssig1(w33) + w28 + ssig0(w20) + w19;         rnd(b, c, d, &e, f, g, h, &a, K[35] + w35);
  let w36 = ssig1(w34) + w29 + ssig0(w21) + w20;         rnd(a, b, c, &d, e, f, g, &h, K[36] + w36);
  let w37 = ssig1(w35) + w30 + ssig0(w22) + w21;         rnd(h, a, b, &c, d, e, f, &g, K[37] + w37);
  let w38 = ssig1(w36) + w31 + ssig0(w23) + w22;         rnd(g, h, a, &b, c, d, e, &f, K[38] + w38);
  let w39 = ssig1(w37) + w32 + ssig0(w24) + w23;         rnd(f, g, h, &a, b, c, d, &e, K[39] + w39);
  let w40 = ssig1(w38) + w33 + ssig0(w25) + w24;         rnd(e, f, g, &h, a, b, c, &d, K[40] + w40);
  let w41 = ssig1(w39) + w34 + ssig0(w26) + w25;         rnd(d, e, f, &g, h, a, b, &c, K[41] + w41);
  let w42 = ssig1(w40) + w35 + ssig0(w27) + w26;         rnd(c, d, e, &f, g, h, a, &b, K[42] + w42);
  let w43 = ssig1(w41) + w36 + ssig0(w28) + w27;         rnd(b, c, d, &e, f, g, h, &a, K[43] + w43);
  let w44 = ssig1(w42) + w37 + ssig0(w29) + w28;         rnd(a, b, c, &d, e, f, g, &h, K[44] + w44);
  let w45 = ssig1(w43) + w38 + ssig0(w30) + w29;         rnd(h, a, b, &c, d, e, f, &g, K[45] + w45);
  let w46 = ssig1(w44) + w39 + ssig0(w31) + w30;         rnd(g, h, a, &b, c, d, e, &f, K[46] + w46);
  let w47 = ssig1(w45) + w40 + ssig0(w32) + w31;         rnd(f, g, h, &a, b, c, d, &e, K[47] + w47);
  let w48 = ssig1(w46) + w41 + ssig0(w33) + w32;         rnd(e, f, g, &h, a, b, c, &d, K[48] + w48);
  let w49 = ssig1(w47) + w42 + ssig0(w34) + w33;         rnd(d, e, f, &g, h, a, b, &c, K[49] + w49);
  let w50 = ssig1(w48) + w43 + ssig0(w35) + w34;         rnd(c, d, e, &f, g, h, a, &b, K[50] + w50);
  let w51 = ssig1(w49) + w44 + ssig0(w36) + w35;         rnd(b, c, d, &e, f, g, h, &a, K[51] + w51);
  let w52 = ssig1(w50) + w45 + ssig0(w37) + w36;         rnd(a, b, c, &d, e, f, g, &h, K[52] + w52);
  let w53 = ssig1(w51) + w46 + ssig0(w38) + w37;         rnd(h, a, b, &c, d, e, f, &g, K[53] + w53);
  let w54 = ssig1(w52) + w47 + ssig0(w39) + w38;         rnd(g, h, a, &b, c, d, e, &f, K[54] + w54);
  let w55 = ssig1(w53) + w48 + ssig0(w40) + w39;         rnd(f, g, h, &a, b, c, d, &e, K[55] + w55);
  let w56 = ssig1(w54) + w49 + ssig0(w41) + w40;         rnd(e, f, g, &h, a, b, c, &d, K[56] + w56);
  let w57 = ssig1(w55) + w50 + ssig0(w42) + w41;         rnd(d, e, f, &g, h, a, b, &c, K[57] + w57);
  let w58 = ssig1(w56) + w51 + ssig0(w43) + w42;         rnd(c, d, e, &f, g, h, a, &b, K[58] + w58);
  let w59 = ssig1(w57) + w52 + ssig0(w44) + w43;         rnd(b, c, d, &e, f, g, h, &a, K[59] + w59);
  let w60 = ssig1(w58) + w53 + ssig0(w45) + w44;         rnd(a, b, c, &d, e, f, g, &h, K[60] + w60);
  let w61 = ssig1(w59) + w54 + ssig0(w46) + w45;         rnd(h, a, b, &c, d, e, f, &g, K[61] + w61);
  let w62 = ssig1(w60) + w55 + ssig0(w47) + w46;         rnd(g, h, a, &b, c, d, e, &f, K[62] + w62);
  let w63 = ssig1(w61) + w56 + ssig0(w48) + w47;         rnd(f, g, h, &a, b, c, d, &e, K[63] + w63);

  // The first digest (midstate + this block); after round 63 the roles are rotated by
  // (64 - 4) mod 8 = 4: e holds a, f holds b, ..., d holds h.
  let x0 = job.midstate_lo.x + e;
  let x1 = job.midstate_lo.y + f;
  let x2 = job.midstate_lo.z + g;
  let x3 = job.midstate_lo.w + h;
  let x4 = job.midstate_hi.x + a;
  let x5 = job.midstate_hi.y + b;
  let x6 = job.midstate_hi.z + c;
  let x7 = job.midstate_hi.w + d;

  // ---- Second hash: one block, starting from the IV. Round 0 with the constant IV is
  // "x0 + constant" for the new a and e (0xfc08884d = (T1 - W0) + T2, 0x98c7e2a2 = IV[3] + (T1 - W0)).
  a = x0 + 0xfc08884du;
  b = IV[0];
  c = IV[1];
  d = IV[2];
  e = x0 + 0x98c7e2a2u;
  f = IV[4];
  g = IV[5];
  h = IV[6];
  rnd(a, b, c, &d, e, f, g, &h, K[1] + x1);
  rnd(h, a, b, &c, d, e, f, &g, K[2] + x2);
  rnd(g, h, a, &b, c, d, e, &f, K[3] + x3);
  rnd(f, g, h, &a, b, c, d, &e, K[4] + x4);
  rnd(e, f, g, &h, a, b, c, &d, K[5] + x5);
  rnd(d, e, f, &g, h, a, b, &c, K[6] + x6);
  rnd(c, d, e, &f, g, h, a, &b, K[7] + x7);
  rnd(b, c, d, &e, f, g, h, &a, 0x5807aa98u /* K[8] + W8 (0x80000000) */);
  rnd(a, b, c, &d, e, f, g, &h, K[9]);
  rnd(h, a, b, &c, d, e, f, &g, K[10]);
  rnd(g, h, a, &b, c, d, e, &f, K[11]);
  rnd(f, g, h, &a, b, c, d, &e, K[12]);
  rnd(e, f, g, &h, a, b, c, &d, K[13]);
  rnd(d, e, f, &g, h, a, b, &c, K[14]);
  rnd(c, d, e, &f, g, h, a, &b, 0xc19bf274u /* K[15] + W15 (256) */);
  let v16 = ssig0(x1) + x0;                              rnd(b, c, d, &e, f, g, h, &a, K[16] + v16);
  let v17 = ssig0(x2) + x1 + 0x00a00000u;                rnd(a, b, c, &d, e, f, g, &h, K[17] + v17);
  let v18 = ssig1(v16) + ssig0(x3) + x2;                 rnd(h, a, b, &c, d, e, f, &g, K[18] + v18);
  let v19 = ssig1(v17) + ssig0(x4) + x3;                 rnd(g, h, a, &b, c, d, e, &f, K[19] + v19);
  let v20 = ssig1(v18) + ssig0(x5) + x4;                 rnd(f, g, h, &a, b, c, d, &e, K[20] + v20);
  let v21 = ssig1(v19) + ssig0(x6) + x5;                 rnd(e, f, g, &h, a, b, c, &d, K[21] + v21);
  let v22 = ssig1(v20) + ssig0(x7) + x6 + 0x00000100u;   rnd(d, e, f, &g, h, a, b, &c, K[22] + v22);
  let v23 = ssig1(v21) + v16 + x7 + 0x11002000u;         rnd(c, d, e, &f, g, h, a, &b, K[23] + v23);
  let v24 = ssig1(v22) + v17 + 0x80000000u;              rnd(b, c, d, &e, f, g, h, &a, K[24] + v24);
  let v25 = ssig1(v23) + v18;                            rnd(a, b, c, &d, e, f, g, &h, K[25] + v25);
  let v26 = ssig1(v24) + v19;                            rnd(h, a, b, &c, d, e, f, &g, K[26] + v26);
  let v27 = ssig1(v25) + v20;                            rnd(g, h, a, &b, c, d, e, &f, K[27] + v27);
  let v28 = ssig1(v26) + v21;                            rnd(f, g, h, &a, b, c, d, &e, K[28] + v28);
  let v29 = ssig1(v27) + v22;                            rnd(e, f, g, &h, a, b, c, &d, K[29] + v29);
  let v30 = ssig1(v28) + v23 + 0x00400022u;              rnd(d, e, f, &g, h, a, b, &c, K[30] + v30);
  let v31 = ssig1(v29) + v24 + ssig0(v16) + 0x00000100u; rnd(c, d, e, &f, g, h, a, &b, K[31] + v31);
  let v32 = ssig1(v30) + v25 + ssig0(v17) + v16;         rnd(b, c, d, &e, f, g, h, &a, K[32] + v32);
  let v33 = ssig1(v31) + v26 + ssig0(v18) + v17;         rnd(a, b, c, &d, e, f, g, &h, K[33] + v33);
  let v34 = ssig1(v32) + v27 + ssig0(v19) + v18;         rnd(h, a, b, &c, d, e, f, &g, K[34] + v34);
  let v35 = ssig1(v33) + v28 + ssig0(v20) + v19;         rnd(g, h, a, &b, c, d, e, &f, K[35] + v35);
  let v36 = ssig1(v34) + v29 + ssig0(v21) + v20;         rnd(f, g, h, &a, b, c, d, &e, K[36] + v36);
  let v37 = ssig1(v35) + v30 + ssig0(v22) + v21;         rnd(e, f, g, &h, a, b, c, &d, K[37] + v37);
  let v38 = ssig1(v36) + v31 + ssig0(v23) + v22;         rnd(d, e, f, &g, h, a, b, &c, K[38] + v38);
  let v39 = ssig1(v37) + v32 + ssig0(v24) + v23;         rnd(c, d, e, &f, g, h, a, &b, K[39] + v39);
  let v40 = ssig1(v38) + v33 + ssig0(v25) + v24;         rnd(b, c, d, &e, f, g, h, &a, K[40] + v40);
  let v41 = ssig1(v39) + v34 + ssig0(v26) + v25;         rnd(a, b, c, &d, e, f, g, &h, K[41] + v41);
  let v42 = ssig1(v40) + v35 + ssig0(v27) + v26;         rnd(h, a, b, &c, d, e, f, &g, K[42] + v42);
  let v43 = ssig1(v41) + v36 + ssig0(v28) + v27;         rnd(g, h, a, &b, c, d, e, &f, K[43] + v43);
  let v44 = ssig1(v42) + v37 + ssig0(v29) + v28;         rnd(f, g, h, &a, b, c, d, &e, K[44] + v44);
  let v45 = ssig1(v43) + v38 + ssig0(v30) + v29;         rnd(e, f, g, &h, a, b, c, &d, K[45] + v45);
  let v46 = ssig1(v44) + v39 + ssig0(v31) + v30;         rnd(d, e, f, &g, h, a, b, &c, K[46] + v46);
  let v47 = ssig1(v45) + v40 + ssig0(v32) + v31;         rnd(c, d, e, &f, g, h, a, &b, K[47] + v47);
  let v48 = ssig1(v46) + v41 + ssig0(v33) + v32;         rnd(b, c, d, &e, f, g, h, &a, K[48] + v48);
  let v49 = ssig1(v47) + v42 + ssig0(v34) + v33;         rnd(a, b, c, &d, e, f, g, &h, K[49] + v49);
  let v50 = ssig1(v48) + v43 + ssig0(v35) + v34;         rnd(h, a, b, &c, d, e, f, &g, K[50] + v50);
  let v51 = ssig1(v49) + v44 + ssig0(v36) + v35;         rnd(g, h, a, &b, c, d, e, &f, K[51] + v51);
  let v52 = ssig1(v50) + v45 + ssig0(v37) + v36;         rnd(f, g, h, &a, b, c, d, &e, K[52] + v52);
  let v53 = ssig1(v51) + v46 + ssig0(v38) + v37;         rnd(e, f, g, &h, a, b, c, &d, K[53] + v53);
  let v54 = ssig1(v52) + v47 + ssig0(v39) + v38;         rnd(d, e, f, &g, h, a, b, &c, K[54] + v54);
  let v55 = ssig1(v53) + v48 + ssig0(v40) + v39;         rnd(c, d, e, &f, g, h, a, &b, K[55] + v55);
  let v56 = ssig1(v54) + v49 + ssig0(v41) + v40;         rnd(b, c, d, &e, f, g, h, &a, K[56] + v56);
  let v57 = ssig1(v55) + v50 + ssig0(v42) + v41;         rnd(a, b, c, &d, e, f, g, &h, K[57] + v57);
  let v58 = ssig1(v56) + v51 + ssig0(v43) + v42;         rnd(h, a, b, &c, d, e, f, &g, K[58] + v58);
  let v59 = ssig1(v57) + v52 + ssig0(v44) + v43;         rnd(g, h, a, &b, c, d, e, &f, K[59] + v59);
  let v60 = ssig1(v58) + v53 + ssig0(v45) + v44;         rnd(f, g, h, &a, b, c, d, &e, K[60] + v60);

  // The new e of round 60 is in `a` (this hash's roles start at round 1, so round 60 is rotated
  // by 59 mod 8 = 3 and writes its new e into the variable playing d, `a`): h after round 63.
  let top = bswap(a + IV[7]);
  if (top > job.target_hi.x) {
    return; // almost every nonce leaves here
  }
  if (top == job.target_hi.x) {
    // Word 0 ties: finish rounds 61..63 and compare the whole value.
    let v61 = ssig1(v59) + v54 + ssig0(v46) + v45;       rnd(e, f, g, &h, a, b, c, &d, K[61] + v61);
    let v62 = ssig1(v60) + v55 + ssig0(v47) + v46;       rnd(d, e, f, &g, h, a, b, &c, K[62] + v62);
    let v63 = ssig1(v61) + v56 + ssig0(v48) + v47;       rnd(c, d, e, &f, g, h, a, &b, K[63] + v63);
    // After round 63 the roles are rotated by 63 mod 8 = 7: b holds a (H0 - IV[0]), c holds b, ...,
    // a holds h (H7 - IV[7]).
    let display = array<u32, 8>(
      bswap(a + IV[7]), bswap(h + IV[6]), bswap(g + IV[5]), bswap(f + IV[4]),
      bswap(e + IV[3]), bswap(d + IV[2]), bswap(c + IV[1]), bswap(b + IV[0]),
    );
    if (!at_or_below_target(display)) {
      return;
    }
  }
  let slot = atomicAdd(&found.count, 1u);
  if (slot < arrayLength(&found.nonces)) {
    found.nonces[slot] = nonce;
  }
}
