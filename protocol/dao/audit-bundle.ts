// The audit bundle of one epoch (README, "Audit bundles"): everything an outsider needs to recompute
// the epoch's root, as NDJSON. One header line, the previous epoch's cumulative leaves, the work and
// reward the gateway credited each member this epoch, then each credited share preceded (the first
// time it is used) by the job it was mined on, then a trailer
// that counts the lines so a truncated download is told from a short epoch. The bundle's identity
// is sha256 over the exact bytes served (every line ends in "\n"), committed on-chain with the root.
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { bytesToHex, hexToBytes } from '../hex.js';
import { verifyShare, type VerifiedShare } from '../share.js';
import type { StratumJob } from '../stratum-job.js';

export const AUDIT_FORMAT = 'dao-audit/1';

/** The job data a share's header is rebuilt from; the key is sha256 of these fields, so ids never collide across gateways. */
export interface AuditJob {
  /** Internal byte order, as hashed in the header. */
  prevhash: string;
  coinb1: string;
  coinb2: string;
  merkleBranch: string[];
  version: number;
  nbits: number;
}

/** What a share adds to its job to rebuild the header it claims (protocol/share.ts). */
export interface ShareProof {
  /** auditJobKey() of the job. */
  job: string;
  extranonce1: string;
  extranonce2: string;
  ntime: number;
  nonce: number;
  /** BIP310 rolled bits, null without version rolling. */
  versionBits: number | null;
  versionMask: number;
}

export interface BundleHeader {
  type: 'header';
  format: typeof AUDIT_FORMAT;
  epoch: number;
  /** The whole epoch reward in token base units (members' part + reinvested), decimal. */
  reward: string;
  reinvestmentBps: number;
  /** What the gateway published: the auditor recomputes each and compares. */
  root: string;
  epochWork: string;
  totalWork: string;
  membersReward: string;
  reinvested: string;
  /** How many `leaf` lines follow: the previous epoch's cumulative leaves, in account order. */
  previousLeaves: number;
}

export interface BundleLeaf {
  type: 'leaf';
  account: string;
  cumulativeWork: string;
  cumulativeReward: string;
}

/**
 * What the gateway credited a member this epoch. epochWork is the member's summed share work rounded
 * to whole expected hashes, summed in floating point by the database: an auditor allows it to differ
 * from the exact sum of the shares by at most 1.
 */
export interface BundleMember {
  type: 'member';
  member: string;
  epochWork: string;
  epochReward: string;
}

export interface BundleJob extends AuditJob {
  type: 'job';
  key: string;
}

export interface BundleShare extends ShareProof {
  type: 'share';
  /** The ledger's row id: the order of the epoch. */
  id: number;
  member: string;
  difficulty: number;
  work: number;
  /** Display-order block hash, as the gateway recorded it. */
  hash: string;
}

export interface BundleTrailer {
  type: 'trailer';
  leaves: number;
  members: number;
  jobs: number;
  shares: number;
}

export type BundleLine = BundleHeader | BundleLeaf | BundleMember | BundleJob | BundleShare | BundleTrailer;

/** The key jobs are stored and referenced under (hex sha256 of the canonical JSON of the job's fields). */
export function auditJobKey(job: AuditJob): string {
  const canonical = JSON.stringify([job.prevhash, job.coinb1, job.coinb2, job.merkleBranch, job.version, job.nbits]);
  return bytesToHex(sha256(utf8ToBytes(canonical)));
}

/** One line of the bundle, with its newline: the exact bytes that are hashed. */
export function encodeBundleLine(line: BundleLine): string {
  return `${JSON.stringify(line)}\n`;
}

/** The hash committed on-chain: sha256 over the bundle's bytes, 0x-prefixed. */
export class BundleHasher {
  private readonly hash = sha256.create();
  update(text: string): void {
    this.hash.update(utf8ToBytes(text));
  }
  updateBytes(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }
  digest(): string {
    return `0x${bytesToHex(this.hash.digest())}`;
  }
}

/** The share verifier's view of a bundle job. */
export function stratumJobOf(job: AuditJob): StratumJob {
  return {
    jobId: '',
    prevhash: hexToBytes(job.prevhash, 'prevhash', 32),
    coinb1: hexToBytes(job.coinb1, 'coinb1'),
    coinb2: hexToBytes(job.coinb2, 'coinb2'),
    merkleBranch: job.merkleBranch.map((h, i) => hexToBytes(h, `merkleBranch[${i}]`, 32)),
    version: job.version,
    bits: job.nbits,
    ntime: 0,
    cleanJobs: false,
  };
}

/** Re-runs the one share verifier (protocol/share.ts) on a share of the bundle. */
export function reverifyShare(job: StratumJob, share: BundleShare): VerifiedShare {
  return verifyShare(
    { job, extranonce1: hexToBytes(share.extranonce1, 'extranonce1'), versionMask: share.versionMask, difficulty: share.difficulty },
    {
      worker: '',
      jobId: '',
      extranonce2: hexToBytes(share.extranonce2, 'extranonce2'),
      ntime: share.ntime,
      nonce: share.nonce,
      ...(share.versionBits === null ? {} : { versionBits: share.versionBits }),
    },
  );
}

export class BundleFormatError extends Error {
  override readonly name = 'BundleFormatError';
}

/** Parses one NDJSON line; throws BundleFormatError naming the line when it is not a bundle line. */
export function parseBundleLine(text: string, lineNumber: number): BundleLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BundleFormatError(`line ${lineNumber} is not JSON`);
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (type !== 'header' && type !== 'leaf' && type !== 'member' && type !== 'job' && type !== 'share' && type !== 'trailer') {
    throw new BundleFormatError(`line ${lineNumber} has no known type`);
  }
  return value as BundleLine;
}
