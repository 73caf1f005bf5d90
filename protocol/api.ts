// The gateway's HTTP API, as one set of types: server/http/*.ts builds these and
// web/chain/gateway-api.ts reads them. Types only.
//
// Numbers: a uint of the chain (work, rewards, amounts, proposal ids) is a bigint here and travels
// as a decimal string (OnWire); counts, milliseconds and floats (pool work in expected hashes)
// are JSON numbers. Absent values are null, never left out, except where a field says otherwise.
import type { ProposalView } from './dao/proposals.js';
import type { TreasuryView } from './dao/treasury.js';

/** T as JSON carries it: bigints become decimal strings (uint256 values exceed 2^53). */
export type OnWire<T> = T extends bigint
  ? string
  : T extends readonly (infer U)[]
    ? OnWire<U>[]
    : T extends object
      ? { [K in keyof T]: OnWire<T[K]> }
      : T;

/** Every refusal: 4xx/5xx with a readable message. */
export interface ApiError {
  error: string;
}

// ---------------------------------------------------------------- pool: /healthz, /api/stats, /api/members

export interface WorkSourceInfo {
  kind: string;
  label: string;
  connected: boolean;
  /** A made-up chain: shares are real work, but no coin is mined. */
  practice: boolean;
}

/** GET /healthz (200 ok, 503 degraded). */
export interface HealthResponse {
  status: 'ok' | 'degraded';
  problems: string[];
  workSource: WorkSourceInfo;
  /** Only on a gateway that settles. */
  settlement?: {
    leader: boolean;
    /** A guardian's veto of the latest published root (a later root supersedes it); absent when none. */
    latestVeto?: RootVetoInfo;
  };
}

/** A guardian's veto of an epoch's root (RewardDistributor.RootVetoed). */
export interface RootVetoInfo {
  epoch: number;
  reason: string;
  guardian: string;
  txHash: string;
}

export interface PoolTotals {
  shares: number;
  /** Expected hashes. */
  work: number;
  members: number;
  blocks: number;
}

/** GET /api/stats. */
export interface StatsResponse {
  workSource: WorkSourceInfo;
  /**
   * Accepted work per second over the last 5 minutes at this gateway (over its uptime when shorter):
   * what the pool mines now. Each rate names its window: a long average is not the current rate.
   */
  hashesPerSecond5m: number;
  /** Accepted work in the ledger (every gateway of the pool) over the last hour, per second of that hour. */
  hashesPerSecond1h: number;
  /** Over the last minute (the uptime when shorter). */
  sharesPerSecond: number;
  /** Over the last minute (the uptime when shorter). */
  rejectedPerSecond: number;
  connections: number;
  miners: number;
  workers: number;
  difficulty: { start: number; min: number; median: number | null };
  /** Left out before the first job. */
  currentJob?: {
    id: string;
    height: number | null;
    prevhash: string;
    ntime: number;
    networkDifficulty: number;
    ageSeconds: number;
  };
  totals: PoolTotals;
  uptimeSeconds: number;
}

/** One bucket of GET /api/history. */
export interface HistoryBucket {
  startMs: number;
  /** Accepted shares in [startMs, startMs + bucketMs). */
  shares: number;
  /** Their work, in expected hashes: work / (bucketMs / 1000) is the pool's hash rate in the bucket. */
  work: number;
}

/**
 * GET /api/history?hours=N (1 to 24, default 24): the pool's accepted shares from the ledger (every
 * gateway), in 5-minute buckets ending with the one in progress; every bucket present, empty ones
 * with zeros. Cached about 30 s.
 */
export interface HistoryResponse {
  hours: number;
  bucketMs: number;
  fromMs: number;
  toMs: number;
  buckets: HistoryBucket[];
}

/** One of a member's accepted shares. */
export interface MemberShare {
  member: string;
  worker: string;
  sessionId: string;
  jobId: string;
  difficulty: number;
  /** difficulty x 2^32 expected hashes. */
  work: number;
  hash: string;
  acceptedAtMs: number;
  shareKey: string;
}

/** GET /api/members/:address: the member's credit at this pool. */
export interface MemberResponse {
  member: string;
  /** Credited work, in expected hashes (a float). */
  work: number;
  shares: number;
  firstShareAtMs: number | null;
  lastShareAtMs: number | null;
  /**
   * The member's work over the last 5 minutes per second of the time it mined in them: from its
   * first share when that came less than 5 minutes ago (at least 10 s), so a
   * miner that started a minute ago shows its rate, not a fifth of it.
   */
  hashesPerSecond5m: number;
  /** The same over the last hour. */
  hashesPerSecond1h: number;
  recent: MemberShare[];
  /** The member's connected workers now. */
  workers: { worker: string; difficulty: number }[];
}

// ---------------------------------------------------------------- chain: /api/chain

export interface TokenInfo {
  address: string;
  symbol: string;
  decimals: number;
}

/** Which chain the DAO settles on. */
export interface ChainConfig {
  chainId: number;
  /**
   * The JSON-RPC URL browsers read the chain from; absent when the operator publishes none (the
   * gateway's own RPC URL may carry an API key): the web app then reads through the member's wallet.
   */
  rpcUrl?: string;
  token: TokenInfo;
  distributor: string;
  governor: string;
  /** The Treasury: holds the reinvested share, pays passed spending proposals. */
  treasury: string;
  /** Block of the deployment: where event scans start. */
  deployBlock: number;
  epochSeconds: number;
  /** The address that pays the gas of relayed votes and claims. */
  relayer: string;
}

/** GET /api/chain. */
export type ChainInfo = { enabled: false; reason: string } | ({ enabled: true } & ChainConfig);

// ---------------------------------------------------------------- epochs: /api/epochs...

/** built: stored, no transaction seen; sent: a transaction was sent; published: the chain holds the root. */
export type EpochStatus = 'built' | 'sent' | 'published';

/** The epoch still open. */
export interface CurrentEpoch {
  /** The number the next close will get. */
  epoch: number;
  startMs: number;
  /**
   * The next scheduled close. An epoch with no share does not close (no root, no gas spent): when
   * pendingWork is false it closes at this boundary only if a share comes in before it, else the
   * epoch stays open to a later boundary.
   */
  endsAtMs: number;
  /** Always false: empty epochs do not close. */
  closesWhenEmpty: false;
  /** Whether shares accepted since startMs wait for the close: false means endsAtMs closes only if work comes in. */
  pendingWork: boolean;
}

/** GET /api/epochs/:n, and each of GET /api/epochs's list. */
export interface EpochInfo {
  epoch: number;
  startMs: number;
  endMs: number;
  /** Work of this epoch's shares, in whole expected hashes. */
  epochWork: bigint;
  /** The root's totalWork: the sum of every leaf's cumulative work. */
  totalWork: bigint;
  /** The members' part of the epoch reward. */
  reward: bigint;
  /** The treasury's part. */
  reinvested: bigint;
  reinvestmentBps: number;
  root: string;
  status: EpochStatus;
  txHash: string | null;
  blockNumber: number | null;
  /** Leaves in the epoch's tree. */
  members: number;
  publishedAtMs: number | null;
  /**
   * From when the published root is final (claimable, and pinned by new proposals) unless vetoed
   * before, in ms on the chain's clock; null before it is on-chain (or when the chain did not answer).
   */
  challengeEndsAtMs: number | null;
  /** The guardian's veto of this root: it never becomes final, the next root supersedes it. */
  vetoed: RootVetoInfo | null;
}

/** GET /api/epochs: the open epoch and closed ones, newest first. */
export interface EpochsResponse {
  current: CurrentEpoch;
  epochs: EpochInfo[];
}

/** A member's leaf in one epoch, without its proof. */
export interface MemberLeaf {
  epoch: number;
  status: EpochStatus;
  epochWork: bigint;
  epochReward: bigint;
  cumulativeWork: bigint;
  cumulativeReward: bigint;
}

/** GET /api/epochs/members/:address: newest first. */
export interface MemberLeavesResponse {
  account: string;
  leaves: MemberLeaf[];
}

/** GET /api/epochs/:n/proof/:address: what a claim or a vote submits. */
export interface ProofResponse extends MemberLeaf {
  /** The root the gateway built: the chain's root is the one that counts. */
  root: string;
  account: string;
  proof: string[];
}

// ---------------------------------------------------------------- relayer: /api/votes, /api/claims, /api/proposals

export type RelayStatus = 'queued' | 'sent' | 'confirmed' | 'failed';

/** POST /api/votes (202). */
export interface AcceptedVote {
  id: number;
  status: 'queued';
}

/** POST /api/claims (202). */
export interface AcceptedClaim extends AcceptedVote {
  epoch: bigint;
  /** What the claim will pay: the leaf's cumulative reward less what the account already claimed. */
  amount: bigint;
}

/** POST /api/proposals (202). */
export interface AcceptedProposal extends AcceptedVote {
  /** The governor nonce the request was signed with. */
  nonce: bigint;
}

interface RelayedRequest {
  id: number;
  status: RelayStatus;
  txHash: string | null;
  error: string | null;
  /**
   * For a confirmed request that another transaction did first (a member's own claim, a copy of
   * the ballot): why the relayer's batch skipped it, e.g. "already done: AlreadyVoted (…)".
   */
  skipped: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface RelayedVote extends RelayedRequest {
  proposalId: bigint;
  support: number;
  epoch: bigint;
  /** The voter's cumulative work in that epoch. */
  weight: bigint;
}

export interface RelayedClaim extends RelayedRequest {
  epoch: bigint;
  amount: bigint;
  cumulativeReward: bigint;
  /** Unix seconds. */
  deadline: bigint;
}

export interface RelayedProposal extends RelayedRequest {
  nonce: bigint;
  kind: number;
  epoch: bigint;
  parameter: string;
  value: bigint;
  description: string;
  /** Once created on-chain. */
  proposalId: bigint | null;
}

/** GET /api/votes/:address, /api/claims/:address, /api/proposals/requests/:address: newest first. */
export interface RelayedRequests<R extends RelayedRequest> {
  account: string;
  requests: R[];
}

/** GET /api/proposals: every proposal on-chain, oldest first. */
export interface ProposalsResponse {
  proposals: ProposalView[];
}

/** GET /api/treasury: the treasury's balance now, and its inflows and payments, oldest first. */
export type TreasuryResponse = TreasuryView;
