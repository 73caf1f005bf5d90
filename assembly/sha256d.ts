// SHA-256d nonce scanner: the hot loop of the whole DAO.
//
// One source, two builds (asconfig.json): `scalar` (--disable simd) hashes one nonce at a time,
// `simd` hashes four nonces per v128 lane group. ASC_FEATURE_SIMD is a compile-time constant, so
// each build contains only its own loop.
//
// The host writes the 80-byte header and the target into linear memory, calls prepare() once per
// job, then scan(start, count) as often as it likes. Mining optimisations, each explained where
// it is done:
//   - the midstate (the first 64 header bytes compressed) is computed once per job;
//   - the second block's first three rounds and the nonce-free schedule words are per-job too;
//   - the second hash stops after round 60: the top word of the block hash is known by then,
//     and almost every nonce is rejected on it;
//   - nothing is allocated: all state lives in locals and in fixed scratch memory.

// ---- memory shared with the host --------------------------------------------------------------

/** Capacity of the found-nonce buffer; a scan stops early rather than lose a nonce. */
const RESULT_CAPACITY: i32 = 1024;

const HEADER = memory.data(80, 16);
/** The target as eight u32 words, most significant first. */
const TARGET = memory.data(32, 16);
const RESULTS = memory.data(RESULT_CAPACITY * 4, 16);
/** Round constants, filled by prepare(): K[i] at 4*i, and K[i] splatted to 4 lanes at K4 + 16*i. */
const K = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const K4 = memory.data(64 * 16, 16);
/** Scratch message schedules: 64 words for the scalar path, 64 x 4 lanes for the SIMD path. */
const W = memory.data(64 * 4, 16);
const W4 = memory.data(64 * 16, 16);
/** Scratch for the plain reference compression (schedule R, output state S). */
const R = memory.data(64 * 4, 16);
const S = memory.data(8 * 4, 16);
/** The per-job second-block schedule (W0..W15 with the nonce slot zero, then W16 and W17). */
const JOB_W = memory.data(18 * 4, 16);

export function headerPtr(): usize {
  return HEADER;
}
export function targetPtr(): usize {
  return TARGET;
}
export function resultsPtr(): usize {
  return RESULTS;
}
export function resultCapacity(): i32 {
  return RESULT_CAPACITY;
}
export function simd(): bool {
  return ASC_FEATURE_SIMD;
}

// ---- SHA-256 pieces ---------------------------------------------------------------------------

const IV0: u32 = 0x6a09e667;
const IV1: u32 = 0xbb67ae85;
const IV2: u32 = 0x3c6ef372;
const IV3: u32 = 0xa54ff53a;
const IV4: u32 = 0x510e527f;
const IV5: u32 = 0x9b05688c;
const IV6: u32 = 0x1f83d9ab;
const IV7: u32 = 0x5be0cd19;

// @ts-ignore: decorator
@inline function S0(x: u32): u32 { return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22); }
// @ts-ignore: decorator
@inline function S1(x: u32): u32 { return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25); }
// @ts-ignore: decorator
@inline function s0(x: u32): u32 { return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3); }
// @ts-ignore: decorator
@inline function s1(x: u32): u32 { return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >>> 10); }
// @ts-ignore: decorator
@inline function ch(e: u32, f: u32, g: u32): u32 { return g ^ (e & (f ^ g)); }
// @ts-ignore: decorator
@inline function maj(a: u32, b: u32, c: u32): u32 { return (b & c) ^ (a & (b ^ c)); }
// @ts-ignore: decorator
@inline function k(i: i32): u32 { return load<u32>(K + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function w(i: i32): u32 { return load<u32>(W + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setW(i: i32, v: u32): void { store<u32>(W + (<usize>i << 2), v); }
// @ts-ignore: decorator
@inline function headerWord(i: i32): u32 { return bswap<u32>(load<u32>(HEADER + (<usize>i << 2))); }

// Per-job state: the midstate, and the second block's state after its three nonce-free rounds.
let m0: u32 = 0, m1: u32 = 0, m2: u32 = 0, m3: u32 = 0, m4: u32 = 0, m5: u32 = 0, m6: u32 = 0, m7: u32 = 0;
let p0: u32 = 0, p1: u32 = 0, p2: u32 = 0, p3: u32 = 0, p4: u32 = 0, p5: u32 = 0, p6: u32 = 0, p7: u32 = 0;
/** The top target word, for the early reject. */
let target0: u32 = 0;
let lastScanned: u32 = 0;

// @ts-ignore: decorator
@inline function ref(i: i32): u32 { return load<u32>(R + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setRef(i: i32, x: u32): void { store<u32>(R + (<usize>i << 2), x); }
// @ts-ignore: decorator
@inline function out(i: i32): u32 { return load<u32>(S + (<usize>i << 2)); }

/** S = (h0..h7) + compress(R[0..16)): a textbook loop, used off the hot path only. */
function compress(h0: u32, h1: u32, h2: u32, h3: u32, h4: u32, h5: u32, h6: u32, h7: u32): void {
  for (let i = 16; i < 64; i++) setRef(i, s1(ref(i - 2)) + ref(i - 7) + s0(ref(i - 15)) + ref(i - 16));
  let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
  for (let i = 0; i < 64; i++) {
    const t1 = h + S1(e) + ch(e, f, g) + k(i) + ref(i);
    const t2 = S0(a) + maj(a, b, c);
    h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  store<u32>(S, h0 + a, 0); store<u32>(S, h1 + b, 4); store<u32>(S, h2 + c, 8); store<u32>(S, h3 + d, 12);
  store<u32>(S, h4 + e, 16); store<u32>(S, h5 + f, 20); store<u32>(S, h6 + g, 24); store<u32>(S, h7 + h, 28);
}

/**
 * A plain, slow, complete SHA-256d of the header with `nonce`, compared in full against the
 * target. Only candidates that passed the early reject get here, so its speed does not matter;
 * its plainness does: it is the check that the fast paths' shortcuts changed nothing.
 */
function meetsTarget(nonce: u32): bool {
  // First hash: block 1 (header bytes 0..64), then block 2 (bytes 64..80 and padding).
  for (let i = 0; i < 16; i++) setRef(i, headerWord(i));
  compress(IV0, IV1, IV2, IV3, IV4, IV5, IV6, IV7);
  const a0 = out(0), a1 = out(1), a2 = out(2), a3 = out(3), a4 = out(4), a5 = out(5), a6 = out(6), a7 = out(7);
  setRef(0, headerWord(16)); setRef(1, headerWord(17)); setRef(2, headerWord(18)); setRef(3, bswap<u32>(nonce));
  setRef(4, 0x80000000);
  for (let i = 5; i < 15; i++) setRef(i, 0);
  setRef(15, 640);
  compress(a0, a1, a2, a3, a4, a5, a6, a7);
  // Second hash over the 32-byte digest.
  for (let i = 0; i < 8; i++) setRef(i, out(i));
  setRef(8, 0x80000000);
  for (let i = 9; i < 15; i++) setRef(i, 0);
  setRef(15, 256);
  compress(IV0, IV1, IV2, IV3, IV4, IV5, IV6, IV7);
  // The display-order hash is the digest reversed: its most significant word is bswap(S[7]).
  for (let i = 0; i < 8; i++) {
    const hashWord = bswap<u32>(out(7 - i));
    const targetWord = load<u32>(TARGET + (<usize>i << 2));
    if (hashWord != targetWord) return hashWord < targetWord;
  }
  return true;
}

/** Per-job precomputation. Call after writing the header and the target. */
export function prepare(): void {
  for (let i = 0; i < 16; i++) setRef(i, headerWord(i));
  compress(IV0, IV1, IV2, IV3, IV4, IV5, IV6, IV7);
  m0 = out(0); m1 = out(1); m2 = out(2); m3 = out(3); m4 = out(4); m5 = out(5); m6 = out(6); m7 = out(7);

  // The second block: W0..W2 are the header tail, W3 the nonce, then fixed padding.
  const w0 = headerWord(16), w1 = headerWord(17), w2 = headerWord(18);
  store<u32>(JOB_W, w0, 0); store<u32>(JOB_W, w1, 4); store<u32>(JOB_W, w2, 8); store<u32>(JOB_W, 0, 12);
  store<u32>(JOB_W, 0x80000000, 16);
  for (let i = 5; i < 15; i++) store<u32>(JOB_W + (<usize>i << 2), 0);
  store<u32>(JOB_W, 640, 60);
  // W16 and W17 read only W0..W2 and the padding: nonce-free.
  store<u32>(JOB_W, s0(w1) + w0, 64);
  store<u32>(JOB_W, s1(640) + s0(w2) + w1, 68);

  // Rounds 0..2 of the second block use W0..W2 only.
  let a = m0, b = m1, c = m2, d = m3, e = m4, f = m5, g = m6, h = m7;
  for (let i = 0; i < 3; i++) {
    const t1 = h + S1(e) + ch(e, f, g) + k(i) + load<u32>(JOB_W + (<usize>i << 2));
    const t2 = S0(a) + maj(a, b, c);
    h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  p0 = a; p1 = b; p2 = c; p3 = d; p4 = e; p5 = f; p6 = g; p7 = h;
  target0 = load<u32>(TARGET);

  if (ASC_FEATURE_SIMD) {
    for (let i = 0; i < 64; i++) v128.store(K4 + (<usize>i << 4), i32x4.splat(k(i)));
  }
}

/** How many nonces the last scan() hashed (less than asked only when the result buffer filled). */
export function scanned(): u32 {
  return lastScanned;
}

/**
 * Hashes `count` nonces from `start` (wrapping at 2^32) and writes those that meet the target to
 * the result buffer. Returns how many it wrote.
 */
export function scan(start: u32, count: u32): i32 {
  if (ASC_FEATURE_SIMD) return scanSimd(start, count);
  return scanScalar(start, count, 0);
}

// ---- the hot loops ----------------------------------------------------------------------------
//
// A round updates only two of the eight working variables (d += t1; h = t1 + t2); the others
// just change roles. So eight rounds are written out with the roles rotated, and no value moves
// between locals:
//
//   t = H + S1(E) + ch(E, F, G) + k + w; D += t; H = t + S0(A) + maj(A, B, C);   roles a=A .. h=H
//   t = G + S1(D) + ch(D, E, F) + k + w; C += t; G = t + S0(H) + maj(H, A, B);   roles a=H .. h=G
//   ... and so on, one step of rotation per line.

/** Second-hash schedule scratch (scalar): W[0..8) the first digest, then fixed padding. */
const V = memory.data(64 * 4, 16);
// @ts-ignore: decorator
@inline function v(i: i32): u32 { return load<u32>(V + (<usize>i << 2)); }

function scanScalar(start: u32, count: u32, found: i32): i32 {
  for (let i = 0; i < 18; i++) setW(i, load<u32>(JOB_W + (<usize>i << 2)));
  store<u32>(V, 0x80000000, 32);
  for (let i = 9; i < 15; i++) store<u32>(V + (<usize>i << 2), 0);
  store<u32>(V, 256, 60);

  let i: u32 = 0;
  for (; i < count; i++) {
    const nonce = start + i;
    // First hash, second block, from the per-job state after round 2.
    setW(3, bswap<u32>(nonce));
    for (let j = 18; j < 64; j++) setW(j, s1(w(j - 2)) + w(j - 7) + s0(w(j - 15)) + w(j - 16));
    let A = p0, B = p1, C = p2, D = p3, E = p4, F = p5, G = p6, H = p7, t: u32;
    for (let r = 3; r < 59; r += 8) {
      t = H + S1(E) + ch(E, F, G) + k(r) + w(r); D += t; H = t + S0(A) + maj(A, B, C);
      t = G + S1(D) + ch(D, E, F) + k(r + 1) + w(r + 1); C += t; G = t + S0(H) + maj(H, A, B);
      t = F + S1(C) + ch(C, D, E) + k(r + 2) + w(r + 2); B += t; F = t + S0(G) + maj(G, H, A);
      t = E + S1(B) + ch(B, C, D) + k(r + 3) + w(r + 3); A += t; E = t + S0(F) + maj(F, G, H);
      t = D + S1(A) + ch(A, B, C) + k(r + 4) + w(r + 4); H += t; D = t + S0(E) + maj(E, F, G);
      t = C + S1(H) + ch(H, A, B) + k(r + 5) + w(r + 5); G += t; C = t + S0(D) + maj(D, E, F);
      t = B + S1(G) + ch(G, H, A) + k(r + 6) + w(r + 6); F += t; B = t + S0(C) + maj(C, D, E);
      t = A + S1(F) + ch(F, G, H) + k(r + 7) + w(r + 7); E += t; A = t + S0(B) + maj(B, C, D);
    }
    t = H + S1(E) + ch(E, F, G) + k(59) + w(59); D += t; H = t + S0(A) + maj(A, B, C);
    t = G + S1(D) + ch(D, E, F) + k(60) + w(60); C += t; G = t + S0(H) + maj(H, A, B);
    t = F + S1(C) + ch(C, D, E) + k(61) + w(61); B += t; F = t + S0(G) + maj(G, H, A);
    t = E + S1(B) + ch(B, C, D) + k(62) + w(62); A += t; E = t + S0(F) + maj(F, G, H);
    t = D + S1(A) + ch(A, B, C) + k(63) + w(63); H += t; D = t + S0(E) + maj(E, F, G);
    // 61 rounds from round 3 leave the roles rotated by 5: a..h = D, E, F, G, H, A, B, C.
    store<u32>(V, m0 + D, 0); store<u32>(V, m1 + E, 4); store<u32>(V, m2 + F, 8); store<u32>(V, m3 + G, 12);
    store<u32>(V, m4 + H, 16); store<u32>(V, m5 + A, 20); store<u32>(V, m6 + B, 24); store<u32>(V, m7 + C, 28);

    // Second hash: one block, rounds 0..60 only.
    for (let j = 16; j < 61; j++) store<u32>(V + (<usize>j << 2), s1(v(j - 2)) + v(j - 7) + s0(v(j - 15)) + v(j - 16));
    A = IV0; B = IV1; C = IV2; D = IV3; E = IV4; F = IV5; G = IV6; H = IV7;
    for (let r = 0; r < 56; r += 8) {
      t = H + S1(E) + ch(E, F, G) + k(r) + v(r); D += t; H = t + S0(A) + maj(A, B, C);
      t = G + S1(D) + ch(D, E, F) + k(r + 1) + v(r + 1); C += t; G = t + S0(H) + maj(H, A, B);
      t = F + S1(C) + ch(C, D, E) + k(r + 2) + v(r + 2); B += t; F = t + S0(G) + maj(G, H, A);
      t = E + S1(B) + ch(B, C, D) + k(r + 3) + v(r + 3); A += t; E = t + S0(F) + maj(F, G, H);
      t = D + S1(A) + ch(A, B, C) + k(r + 4) + v(r + 4); H += t; D = t + S0(E) + maj(E, F, G);
      t = C + S1(H) + ch(H, A, B) + k(r + 5) + v(r + 5); G += t; C = t + S0(D) + maj(D, E, F);
      t = B + S1(G) + ch(G, H, A) + k(r + 6) + v(r + 6); F += t; B = t + S0(C) + maj(C, D, E);
      t = A + S1(F) + ch(F, G, H) + k(r + 7) + v(r + 7); E += t; A = t + S0(B) + maj(B, C, D);
    }
    t = H + S1(E) + ch(E, F, G) + k(56) + v(56); D += t; H = t + S0(A) + maj(A, B, C);
    t = G + S1(D) + ch(D, E, F) + k(57) + v(57); C += t; G = t + S0(H) + maj(H, A, B);
    t = F + S1(C) + ch(C, D, E) + k(58) + v(58); B += t; F = t + S0(G) + maj(G, H, A);
    t = E + S1(B) + ch(B, C, D) + k(59) + v(59); A += t; E = t + S0(F) + maj(F, G, H);
    t = D + S1(A) + ch(A, B, C) + k(60) + v(60); H += t;
    // H now holds e after round 60, which rounds 61..63 only shift into h: the digest's last word
    // is IV7 + H, and byte-swapped it is the most significant word of the block hash.
    if (bswap<u32>(IV7 + H) <= target0 && meetsTarget(nonce)) {
      if (found == RESULT_CAPACITY) break;
      store<u32>(RESULTS + (<usize>found << 2), nonce);
      found++;
    }
  }
  lastScanned = i;
  return found;
}

// ---- SIMD: the same loop on four nonces at once ------------------------------------------------

// @ts-ignore: decorator
@inline function vrotr(x: v128, n: i32): v128 { return v128.or(i32x4.shr_u(x, n), i32x4.shl(x, 32 - n)); }
// @ts-ignore: decorator
@inline function vS0(x: v128): v128 { return v128.xor(v128.xor(vrotr(x, 2), vrotr(x, 13)), vrotr(x, 22)); }
// @ts-ignore: decorator
@inline function vS1(x: v128): v128 { return v128.xor(v128.xor(vrotr(x, 6), vrotr(x, 11)), vrotr(x, 25)); }
// @ts-ignore: decorator
@inline function vs0(x: v128): v128 { return v128.xor(v128.xor(vrotr(x, 7), vrotr(x, 18)), i32x4.shr_u(x, 3)); }
// @ts-ignore: decorator
@inline function vs1(x: v128): v128 { return v128.xor(v128.xor(vrotr(x, 17), vrotr(x, 19)), i32x4.shr_u(x, 10)); }
// ch picks f where e is set, else g; maj picks b where a == b, else c: both are one bitselect.
// @ts-ignore: decorator
@inline function vch(e: v128, f: v128, g: v128): v128 { return v128.bitselect(f, g, e); }
// @ts-ignore: decorator
@inline function vmaj(a: v128, b: v128, c: v128): v128 { return v128.bitselect(c, b, v128.xor(a, b)); }
// @ts-ignore: decorator
@inline function vadd(a: v128, b: v128): v128 { return i32x4.add(a, b); }
// @ts-ignore: decorator
@inline function vk(i: i32): v128 { return v128.load(K4 + (<usize>i << 4)); }
// @ts-ignore: decorator
@inline function vw(i: i32): v128 { return v128.load(W4 + (<usize>i << 4)); }
// @ts-ignore: decorator
@inline function setVw(i: i32, x: v128): void { v128.store(W4 + (<usize>i << 4), x); }
/** Second-hash schedule scratch (4 lanes). */
const V4 = memory.data(64 * 16, 16);
// @ts-ignore: decorator
@inline function vv(i: i32): v128 { return v128.load(V4 + (<usize>i << 4)); }
// @ts-ignore: decorator
@inline function setVv(i: i32, x: v128): void { v128.store(V4 + (<usize>i << 4), x); }
// @ts-ignore: decorator
@inline function vbswap(x: v128): v128 { return i8x16.shuffle(x, x, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12); }

function scanSimd(start: u32, count: u32): i32 {
  for (let i = 0; i < 18; i++) setVw(i, i32x4.splat(load<u32>(JOB_W + (<usize>i << 2))));
  setVv(8, i32x4.splat(0x80000000));
  for (let i = 9; i < 15; i++) setVv(i, i32x4.splat(0));
  setVv(15, i32x4.splat(256));
  const top = i32x4.splat(target0);
  const lanes = i32x4(0, 1, 2, 3);
  let found: i32 = 0;
  let i: u32 = 0;
  const groups = count & ~3;
  for (; i < groups; i += 4) {
    const nonces = vadd(i32x4.splat(start + i), lanes);
    setVw(3, vbswap(nonces));
    for (let j = 18; j < 64; j++) setVw(j, vadd(vadd(vs1(vw(j - 2)), vw(j - 7)), vadd(vs0(vw(j - 15)), vw(j - 16))));
    let A = i32x4.splat(p0), B = i32x4.splat(p1), C = i32x4.splat(p2), D = i32x4.splat(p3);
    let E = i32x4.splat(p4), F = i32x4.splat(p5), G = i32x4.splat(p6), H = i32x4.splat(p7), t: v128;
    for (let r = 3; r < 59; r += 8) {
      t = vadd(vadd(H, vS1(E)), vadd(vch(E, F, G), vadd(vk(r), vw(r)))); D = vadd(D, t); H = vadd(t, vadd(vS0(A), vmaj(A, B, C)));
      t = vadd(vadd(G, vS1(D)), vadd(vch(D, E, F), vadd(vk(r + 1), vw(r + 1)))); C = vadd(C, t); G = vadd(t, vadd(vS0(H), vmaj(H, A, B)));
      t = vadd(vadd(F, vS1(C)), vadd(vch(C, D, E), vadd(vk(r + 2), vw(r + 2)))); B = vadd(B, t); F = vadd(t, vadd(vS0(G), vmaj(G, H, A)));
      t = vadd(vadd(E, vS1(B)), vadd(vch(B, C, D), vadd(vk(r + 3), vw(r + 3)))); A = vadd(A, t); E = vadd(t, vadd(vS0(F), vmaj(F, G, H)));
      t = vadd(vadd(D, vS1(A)), vadd(vch(A, B, C), vadd(vk(r + 4), vw(r + 4)))); H = vadd(H, t); D = vadd(t, vadd(vS0(E), vmaj(E, F, G)));
      t = vadd(vadd(C, vS1(H)), vadd(vch(H, A, B), vadd(vk(r + 5), vw(r + 5)))); G = vadd(G, t); C = vadd(t, vadd(vS0(D), vmaj(D, E, F)));
      t = vadd(vadd(B, vS1(G)), vadd(vch(G, H, A), vadd(vk(r + 6), vw(r + 6)))); F = vadd(F, t); B = vadd(t, vadd(vS0(C), vmaj(C, D, E)));
      t = vadd(vadd(A, vS1(F)), vadd(vch(F, G, H), vadd(vk(r + 7), vw(r + 7)))); E = vadd(E, t); A = vadd(t, vadd(vS0(B), vmaj(B, C, D)));
    }
    t = vadd(vadd(H, vS1(E)), vadd(vch(E, F, G), vadd(vk(59), vw(59)))); D = vadd(D, t); H = vadd(t, vadd(vS0(A), vmaj(A, B, C)));
    t = vadd(vadd(G, vS1(D)), vadd(vch(D, E, F), vadd(vk(60), vw(60)))); C = vadd(C, t); G = vadd(t, vadd(vS0(H), vmaj(H, A, B)));
    t = vadd(vadd(F, vS1(C)), vadd(vch(C, D, E), vadd(vk(61), vw(61)))); B = vadd(B, t); F = vadd(t, vadd(vS0(G), vmaj(G, H, A)));
    t = vadd(vadd(E, vS1(B)), vadd(vch(B, C, D), vadd(vk(62), vw(62)))); A = vadd(A, t); E = vadd(t, vadd(vS0(F), vmaj(F, G, H)));
    t = vadd(vadd(D, vS1(A)), vadd(vch(A, B, C), vadd(vk(63), vw(63)))); H = vadd(H, t); D = vadd(t, vadd(vS0(E), vmaj(E, F, G)));
    setVv(0, vadd(i32x4.splat(m0), D)); setVv(1, vadd(i32x4.splat(m1), E)); setVv(2, vadd(i32x4.splat(m2), F)); setVv(3, vadd(i32x4.splat(m3), G));
    setVv(4, vadd(i32x4.splat(m4), H)); setVv(5, vadd(i32x4.splat(m5), A)); setVv(6, vadd(i32x4.splat(m6), B)); setVv(7, vadd(i32x4.splat(m7), C));

    for (let j = 16; j < 61; j++) setVv(j, vadd(vadd(vs1(vv(j - 2)), vv(j - 7)), vadd(vs0(vv(j - 15)), vv(j - 16))));
    A = i32x4.splat(IV0); B = i32x4.splat(IV1); C = i32x4.splat(IV2); D = i32x4.splat(IV3);
    E = i32x4.splat(IV4); F = i32x4.splat(IV5); G = i32x4.splat(IV6); H = i32x4.splat(IV7);
    for (let r = 0; r < 56; r += 8) {
      t = vadd(vadd(H, vS1(E)), vadd(vch(E, F, G), vadd(vk(r), vv(r)))); D = vadd(D, t); H = vadd(t, vadd(vS0(A), vmaj(A, B, C)));
      t = vadd(vadd(G, vS1(D)), vadd(vch(D, E, F), vadd(vk(r + 1), vv(r + 1)))); C = vadd(C, t); G = vadd(t, vadd(vS0(H), vmaj(H, A, B)));
      t = vadd(vadd(F, vS1(C)), vadd(vch(C, D, E), vadd(vk(r + 2), vv(r + 2)))); B = vadd(B, t); F = vadd(t, vadd(vS0(G), vmaj(G, H, A)));
      t = vadd(vadd(E, vS1(B)), vadd(vch(B, C, D), vadd(vk(r + 3), vv(r + 3)))); A = vadd(A, t); E = vadd(t, vadd(vS0(F), vmaj(F, G, H)));
      t = vadd(vadd(D, vS1(A)), vadd(vch(A, B, C), vadd(vk(r + 4), vv(r + 4)))); H = vadd(H, t); D = vadd(t, vadd(vS0(E), vmaj(E, F, G)));
      t = vadd(vadd(C, vS1(H)), vadd(vch(H, A, B), vadd(vk(r + 5), vv(r + 5)))); G = vadd(G, t); C = vadd(t, vadd(vS0(D), vmaj(D, E, F)));
      t = vadd(vadd(B, vS1(G)), vadd(vch(G, H, A), vadd(vk(r + 6), vv(r + 6)))); F = vadd(F, t); B = vadd(t, vadd(vS0(C), vmaj(C, D, E)));
      t = vadd(vadd(A, vS1(F)), vadd(vch(F, G, H), vadd(vk(r + 7), vv(r + 7)))); E = vadd(E, t); A = vadd(t, vadd(vS0(B), vmaj(B, C, D)));
    }
    t = vadd(vadd(H, vS1(E)), vadd(vch(E, F, G), vadd(vk(56), vv(56)))); D = vadd(D, t); H = vadd(t, vadd(vS0(A), vmaj(A, B, C)));
    t = vadd(vadd(G, vS1(D)), vadd(vch(D, E, F), vadd(vk(57), vv(57)))); C = vadd(C, t); G = vadd(t, vadd(vS0(H), vmaj(H, A, B)));
    t = vadd(vadd(F, vS1(C)), vadd(vch(C, D, E), vadd(vk(58), vv(58)))); B = vadd(B, t); F = vadd(t, vadd(vS0(G), vmaj(G, H, A)));
    t = vadd(vadd(E, vS1(B)), vadd(vch(B, C, D), vadd(vk(59), vv(59)))); A = vadd(A, t); E = vadd(t, vadd(vS0(F), vmaj(F, G, H)));
    t = vadd(vadd(D, vS1(A)), vadd(vch(A, B, C), vadd(vk(60), vv(60)))); H = vadd(H, t);
    // As in the scalar loop: H is e after round 60, so IV7 + H is the digest's last word.
    const candidates = i32x4.le_u(vbswap(vadd(H, i32x4.splat(IV7))), top);
    if (v128.any_true(candidates)) {
      // Rare: finish each flagged lane with the full check, in nonce order.
      for (let lane: u32 = 0; lane < 4; lane++) {
        const nonce = start + i + lane;
        if (!meetsTarget(nonce)) continue;
        if (found == RESULT_CAPACITY) {
          lastScanned = i + lane;
          return found;
        }
        store<u32>(RESULTS + (<usize>found << 2), nonce);
        found++;
      }
    }
  }
  // The last count % 4 nonces go through the scalar loop.
  if (i < count) {
    found = scanScalar(start + i, count - i, found);
    lastScanned += i;
  } else {
    lastScanned = i;
  }
  return found;
}
