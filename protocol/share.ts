import { ProtocolError } from './errors.js';
import { bytesToHex, concatBytes, reverseBytes, u32ToHex, type Hex } from './hex.js';
import { headerHash, serializeHeader } from './header.js';
import { merkleRootFromBranch } from './merkle.js';
import { sha256d } from './sha256.js';
import type { ShareSubmission, StratumJob } from './stratum-job.js';
import { bitsToTarget, difficultyToTarget, targetToDifficulty, type Difficulty, type Target } from './target.js';

/** coinb1 || extranonce1 || extranonce2 || coinb2: the coinbase's non-witness serialisation. */
export function buildCoinbase(job: StratumJob, extranonce1: Uint8Array, extranonce2: Uint8Array): Uint8Array {
  return concatBytes(job.coinb1, extranonce1, extranonce2, job.coinb2);
}

/** BIP310: the rolled bits replace the job's version bits inside the negotiated mask only. */
export function rollVersion(jobVersion: number, versionBits: number | undefined, versionMask: number): number {
  if (versionBits === undefined) return jobVersion >>> 0;
  if ((versionBits & ~versionMask) !== 0) {
    throw new ProtocolError('version_bits', `${u32ToHex(versionBits)} sets bits outside the negotiated mask ${u32ToHex(versionMask)}`);
  }
  return ((jobVersion & ~versionMask) | (versionBits & versionMask)) >>> 0;
}

export interface ShareContext {
  job: StratumJob;
  extranonce1: Uint8Array;
  /** The extranonce2 length the session was told; checked when given. */
  extranonce2Size?: number;
  /** The BIP310 mask negotiated with this session; 0 (the default) means no version rolling. */
  versionMask?: number;
  /** The share difficulty in force when the job was sent. */
  difficulty: Difficulty | string;
  /** difficultyToTarget(difficulty), when the caller keeps it per job: it is the same for every share. */
  shareTarget?: Target;
  /**
   * The merkle root for this extranonce, when the caller already has it: a miner submits many
   * shares per extranonce2, and the coinbase and branch hashing is most of a share's cost.
   */
  merkleRoot?: Uint8Array;
}

export interface VerifiedShare {
  header: Uint8Array;
  /** The block hash, display order. */
  hash: Hex;
  /** The hash as the integer compared against targets. */
  hashValue: bigint;
  shareDifficulty: Difficulty;
  meetsDifficulty: boolean;
  /** The share is also a valid block for the job's nBits. */
  meetsNetworkTarget: boolean;
}

/** The merkle root of a job's block with this session's extranonce1 and the miner's extranonce2. */
export function shareMerkleRoot(job: StratumJob, extranonce1: Uint8Array, extranonce2: Uint8Array): Uint8Array {
  return merkleRootFromBranch(sha256d(buildCoinbase(job, extranonce1, extranonce2)), job.merkleBranch);
}

/** Rebuilds the 80-byte header a submission claims to have hashed, from the job the pool issued. */
export function buildShareHeader(ctx: Omit<ShareContext, 'difficulty'>, submission: ShareSubmission): Uint8Array {
  if (ctx.extranonce2Size !== undefined && submission.extranonce2.length !== ctx.extranonce2Size) {
    throw new ProtocolError('extranonce2', `expected ${ctx.extranonce2Size} bytes, got ${submission.extranonce2.length}`);
  }
  return serializeHeader({
    version: rollVersion(ctx.job.version, submission.versionBits, ctx.versionMask ?? 0),
    prevhash: ctx.job.prevhash,
    merkleRoot: ctx.merkleRoot ?? shareMerkleRoot(ctx.job, ctx.extranonce1, submission.extranonce2),
    ntime: submission.ntime,
    bits: ctx.job.bits,
    nonce: submission.nonce,
  });
}

/**
 * The one share verifier: the gateway, the CLI's share calculator and the tests all call this.
 * Job-policy checks that need session state (staleness, duplicates, ntime window) stay with the
 * caller; everything that follows from the bytes is decided here.
 */
export function verifyShare(ctx: ShareContext, submission: ShareSubmission): VerifiedShare {
  const header = buildShareHeader(ctx, submission);
  const hash = bytesToHex(reverseBytes(headerHash(header)));
  // The display-order digits are the hash's big-endian value (what hashValue() computes from the raw bytes).
  const value = BigInt(`0x${hash}`);
  return {
    header,
    hash,
    hashValue: value,
    shareDifficulty: targetToDifficulty(value),
    meetsDifficulty: value <= (ctx.shareTarget ?? difficultyToTarget(ctx.difficulty)),
    meetsNetworkTarget: value <= bitsToTarget(ctx.job.bits),
  };
}
