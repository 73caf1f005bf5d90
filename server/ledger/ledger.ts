import type { BatchCommitted } from './group-commit.js';
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
  /**
   * JSON of the share's ShareProof (protocol/dao/audit-bundle.ts): what the epoch's audit bundle
   * needs to re-verify it. Absent for shares recorded before it was kept.
   */
  proof?: string;
}

/** A job's verifiable data, written once when the job is issued; shares reference it by key. */
export interface JobRecord {
  /** auditJobKey() of the job. */
  key: string;
  /** JSON of the AuditJob. */
  data: string;
  createdAtMs: number;
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

export interface MemberQueryOptions {
  /** How many of the member's newest shares to return (default 20; 0 for none). */
  recent?: number;
  /** Length of the hash-rate window ending at nowMs (default 10 minutes). */
  windowMs?: number;
  nowMs?: number;
}

/** One bucket of Ledger.history(). */
export interface HistoryBucketRow {
  /** Index from the range's start. */
  bucket: number;
  shares: number;
  work: Work;
}

/** Integer milliseconds, toMs after fromMs, bucketMs positive: what history() queries with. */
export function checkHistoryRange(fromMs: number, toMs: number, bucketMs: number): void {
  if (![fromMs, toMs, bucketMs].every(Number.isSafeInteger) || bucketMs <= 0 || toMs <= fromMs) {
    throw new RangeError(`history needs integer ms with fromMs < toMs and bucketMs > 0, got ${fromMs}, ${toMs}, ${bucketMs}`);
  }
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
  /** Idempotent: a job already recorded (by any gateway) is kept. */
  recordJob(job: JobRecord): Promise<void>;
  recordUpstreamResult(result: UpstreamResultRecord): Promise<void>;
  /**
   * Reads are asynchronous because a shared ledger (PostgreSQL) answers over the network; they see
   * committed data only. Bad options reject with a RangeError.
   */
  member(member: string, options?: MemberQueryOptions): Promise<MemberSummary>;
  totals(): Promise<PoolTotals>;
  /** Work accepted in [sinceMs, now): for the pool hash rate. */
  workSince(sinceMs: number): Promise<Work>;
  /** Calls `observer` after each group-commit transaction (metrics); optional for ledgers without one. */
  observeCommits?(observer: (batch: BatchCommitted) => void): void;
  /**
   * Accepted shares and work in [fromMs, toMs) summed per bucket of bucketMs (bucket i covers
   * [fromMs + i*bucketMs, ...)): one indexed range query (shares_time). Only buckets with shares
   * are returned, in order. The caller bounds the range (GET /api/history: at most 24 h).
   */
  history(fromMs: number, toMs: number, bucketMs: number): Promise<HistoryBucketRow[]>;
  close(): Promise<void>;
}

export const DEFAULT_RECENT = 20;
export const DEFAULT_WINDOW_MS = 10 * 60 * 1000;

/**
 * Refuses what a database would store without complaint but would corrupt the totals (SQLite
 * keeps NaN as NULL, PostgreSQL sorts NaN above every number, so `work > 0` lets it through).
 */
export function checkShare(share: ShareRecord): void {
  if (!Number.isFinite(share.difficulty) || !Number.isFinite(share.work)) {
    throw new RangeError(`share ${share.shareKey}: difficulty and work must be finite numbers`);
  }
  if (!Number.isSafeInteger(share.acceptedAtMs)) {
    throw new RangeError(`share ${share.shareKey}: acceptedAtMs must be an integer number of ms`);
  }
}

/** The options of Ledger.member() every implementation refuses alike. */
export function checkMemberQuery(recent: number, windowMs: number): void {
  if (!Number.isInteger(recent) || recent < 0) throw new RangeError(`recent must be a non-negative integer, got ${recent}`);
  if (!(windowMs > 0) || !Number.isFinite(windowMs)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
}

/** What member() answers for an address with no share. */
export function emptyMemberSummary(member: string): MemberSummary {
  return { member, work: 0, shares: 0, firstShareAtMs: null, lastShareAtMs: null, hashesPerSecond: 0, recent: [] };
}
