import type { Difficulty, Work } from '../../protocol/target.js';

/** One accepted share, as the ledger keeps it. */
export interface ShareRecord {
  /** Checksummed EVM address of the member (from the Stratum username `0x<address>[.worker]`). */
  member: string;
  worker: string;
  /** Gateway-unique session id. */
  sessionId: string;
  jobId: string;
  /** The difficulty the share was credited at (the session's difficulty for that job). */
  difficulty: Difficulty;
  /** difficulty * 2^32 expected hashes. */
  work: Work;
  /** Display-order block hash of the share. */
  hash: string;
  /** Milliseconds since the epoch when the gateway accepted it. */
  acceptedAtMs: number;
  /** The unique identity of the share (job, extranonce, ntime, nonce, version), for exactly-once. */
  shareKey: string;
}

export interface BlockRecord {
  hash: string;
  height: number | null;
  member: string;
  jobId: string;
  foundAtMs: number;
  accepted: boolean;
  reason: string | null;
}

export interface UpstreamResultRecord {
  shareKey: string;
  hash: string;
  accepted: boolean;
  reason: string | null;
  atMs: number;
}

export interface MemberSummary {
  member: string;
  /** Total credited work (expected hashes). */
  work: Work;
  shares: number;
  firstShareAtMs: number | null;
  lastShareAtMs: number | null;
  /** Work in the trailing window divided by its length: the member's effective hash rate. */
  hashesPerSecond: number;
  recent: ShareRecord[];
}

export interface PoolTotals {
  shares: number;
  work: Work;
  members: number;
  blocks: number;
}

/**
 * The system of record for every member's work. `appendShare` resolves only once the row is
 * durable (committed to disk); the gateway acknowledges a share to the miner only then.
 * Implementations batch concurrent appends into one transaction (group commit). A share whose
 * shareKey is already recorded is not recorded twice (resolves with false).
 */
export interface Ledger {
  appendShare(share: ShareRecord): Promise<boolean>;
  recordBlock(block: BlockRecord): Promise<void>;
  recordUpstreamResult(result: UpstreamResultRecord): Promise<void>;
  member(member: string, options?: { recent?: number; windowMs?: number; nowMs?: number }): MemberSummary;
  totals(): PoolTotals;
  /** Work accepted in [sinceMs, now): for the pool hash rate. */
  workSince(sinceMs: number): Work;
  close(): Promise<void>;
}
