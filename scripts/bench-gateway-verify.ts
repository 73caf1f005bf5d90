// Part 1 of `npm run bench:gateway`: share validations per second in this process, on one core,
// with the one share verifier (protocol/share.ts) on a mainnet-sized job, next to the peers that
// show where its time goes.
import { createHash } from 'node:crypto';
import { serializeHeader } from '../protocol/header.js';
import { bigIntToBytes } from '../protocol/hex.js';
import { sha256d } from '../protocol/sha256.js';
import { shareMerkleRoot, verifyShare } from '../protocol/share.js';
import type { ShareSubmission, StratumJob } from '../protocol/stratum-job.js';
import { difficultyToTarget } from '../protocol/target.js';
import { realisticTemplate } from './bench-gateway-shares.js';

export interface RateRow {
  key: string;
  name: string;
  perSecond: number;
  /** The figure the row is held to, when it has one. */
  target?: number;
}

/** The difficulty the gateway benchmark pins: about one nonce in four is a share. */
export const BENCH_DIFFICULTY = 1e-9;
/** The share target the gateway keeps per job (sessions compute it once, not per share). */
const shareTarget = difficultyToTarget(BENCH_DIFFICULTY);

const EXTRANONCE2_COUNT = 64;
const SHARES_PER_EXTRANONCE2 = 64;
const ROUNDS = 3;

/** The verifier's job as the gateway's JobManager builds it from a template. */
export function realisticJob(): StratumJob {
  const t = realisticTemplate();
  return { jobId: '1', prevhash: t.prevhash, coinb1: t.coinb1, coinb2: t.coinb2, merkleBranch: t.merkleBranch, version: t.version, bits: t.bits, ntime: t.ntime, cleanJobs: true };
}

/** Each subject checks share `i` of a fixed set: 64 extranonce2 values, 64 nonces each. */
interface Subject {
  row: Omit<RateRow, 'perSecond'>;
  check(i: number): boolean;
}

function subjects(): Subject[] {
  const job = realisticJob();
  const extranonce1 = Uint8Array.of(0x12, 0x34, 0x56, 0x78);
  const extranonce2s = Array.from({ length: EXTRANONCE2_COUNT }, (_, i) => Uint8Array.of(0, 0, i >> 8, i & 0xff));
  // What the session's merkle-root cache holds: one root per (job, extranonce2).
  const roots = extranonce2s.map((en2) => shareMerkleRoot(job, extranonce1, en2));
  const submissions: ShareSubmission[] = [];
  for (let e = 0; e < EXTRANONCE2_COUNT; e++) {
    for (let n = 0; n < SHARES_PER_EXTRANONCE2; n++) {
      submissions.push({ worker: 'w', jobId: job.jobId, extranonce2: extranonce2s[e]!, ntime: job.ntime, nonce: (e * 7919 + n * 104729) >>> 0 });
    }
  }
  const mask = submissions.length - 1;
  const en2Of = (i: number) => (i & mask) >>> 6;
  const targetBytes = Buffer.from(bigIntToBytes(difficultyToTarget(BENCH_DIFFICULTY), 32));
  const header = (i: number) => {
    const s = submissions[i & mask]!;
    return serializeHeader({ version: job.version, prevhash: job.prevhash, merkleRoot: roots[en2Of(i)]!, ntime: s.ntime, bits: job.bits, nonce: s.nonce });
  };

  return [
    {
      row: { key: 'verifyCached', name: 'verifyShare, merkle root cached per (job, extranonce2): the gateway path', target: 50_000 },
      // The context object is built per share, as StratumSession.submit does.
      check: (i) => verifyShare({ job, extranonce1, versionMask: 0, difficulty: BENCH_DIFFICULTY, shareTarget, merkleRoot: roots[en2Of(i)]! }, submissions[i & mask]!).meetsDifficulty,
    },
    {
      row: { key: 'verifyUncached', name: 'verifyShare, merkle root rebuilt for every share (coinbase + 12 branch hashes)' },
      check: (i) => verifyShare({ job, extranonce1, versionMask: 0, difficulty: BENCH_DIFFICULTY }, submissions[i & mask]!).meetsDifficulty,
    },
    {
      // The hashing inside the cached path: the rest of verifyShare's cost is hex, BigInt and objects.
      row: { key: 'headerSha256d', name: 'header build + @noble/hashes sha256d only (the hashing inside verifyShare)' },
      check: (i) => sha256d(header(i))[31] === 0,
    },
    {
      // What a pool written directly on OpenSSL pays per share: build, two createHash, compare.
      row: { key: 'nodeCrypto', name: 'peer: header build + node:crypto createHash x2 + compare (OpenSSL)' },
      check: (i) => {
        const first = createHash('sha256').update(header(i)).digest();
        const hash = createHash('sha256').update(first).digest().reverse();
        return Buffer.compare(hash, targetBytes) <= 0;
      },
    },
  ];
}

/** Calls `check` for about `ms` milliseconds; returns calls per second. */
function measure(check: (i: number) => boolean, ms: number): number {
  let calls = 0;
  let sink = 0;
  const began = performance.now();
  let elapsed = 0;
  do {
    for (let k = 0; k < 256; k++) if (check(calls + k)) sink++;
    calls += 256;
    elapsed = performance.now() - began;
  } while (elapsed < ms);
  // Read sink so the checks cannot be optimised away.
  if (sink < 0) console.log(sink);
  return (calls / elapsed) * 1000;
}

/**
 * Rounds interleave the subjects and each figure is the median of its rounds, so a slow spell of
 * this shared machine lands on one round of every subject rather than on one subject.
 */
export function benchVerify(msPerRound = 600, log: (line: string) => void = () => {}): RateRow[] {
  const list = subjects();
  for (const s of list) measure(s.check, 100); // warm up: JIT, caches
  const rates = list.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    list.forEach((s, i) => {
      const rate = measure(s.check, msPerRound);
      rates[i]!.push(rate);
      log(`  round ${round + 1}/${ROUNDS}: ${s.row.key} ${Math.round(rate).toLocaleString('en-US')}/s`);
    });
  }
  return list.map((s, i) => ({ ...s.row, perSecond: median(rates[i]!) }));
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
