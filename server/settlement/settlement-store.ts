// What the settlement keeps: closed epochs with their Merkle leaves. Two implementations: the
// SQLite ledger file (sqlite-settlement-store.ts, one writer, share-id ranges) and a PostgreSQL
// ledger shared by several gateways (pg-settlement-store.ts, shares carry their epoch). Both are
// behind this asynchronous interface, so the settlement, the publisher and the API never care.

import type { EpochInfo, EpochStatus } from '../../protocol/api.js';
import type { EpochTree } from './tree-protocol.js';

export type { EpochStatus };

/**
 * One closed epoch: what the API shows of it (less the leaf count, which is counted when listed)
 * and where its shares are (the challenge window and veto are the chain's, read by RootChallenges). Amounts are bigints (uint256 on-chain); they are stored as decimals.
 */
export interface EpochRecord extends Omit<EpochInfo, 'members' | 'challengeEndsAtMs' | 'vetoed'> {
  /**
   * SQLite: the epoch covers the share rows with id in (firstShareId, lastShareId]. PostgreSQL:
   * null (row ids are not commit-ordered across gateways; every share row carries its epoch instead).
   */
  firstShareId: number | null;
  lastShareId: number | null;
  createdAtMs: number;
}

/** An epoch as listed: the record and how many leaves its tree has. */
export interface EpochSummary extends EpochRecord {
  members: number;
}

/** A member's cumulative leaf in one epoch, with what this epoch added. */
export interface LeafRecord {
  epoch: number;
  member: string;
  epochWork: bigint;
  epochReward: bigint;
  cumulativeWork: bigint;
  cumulativeReward: bigint;
}

/** A leaf with its proof against the epoch's root (computed on demand from the epoch's tree). */
export interface ProvenLeaf extends LeafRecord {
  proof: string[];
}

/** The shares not yet in any epoch, summed per member. */
export interface PendingWork {
  /** How many share rows are pending (0: nothing new since the last epoch). */
  shares: number;
  /** When the first pending share was accepted (null when nothing is pending). */
  firstShareAtMs: number | null;
  /** Real (unrounded) expected hashes per checksummed member. */
  workByMember: Map<string, number>;
  /**
   * SQLite only: the pending shares are the rows with id in (afterShareId, maxShareId]
   * (afterShareId is the last epoch's last_share_id, 0 before the first). Null with PostgreSQL.
   */
  shareIds: { afterShareId: number; maxShareId: number } | null;
}

export type NewEpoch = Omit<EpochRecord, 'status' | 'txHash' | 'blockNumber' | 'publishedAtMs'>;

/**
 * An epoch ready to store: the record, its whole tree (compact leaves, in account order, and nodes)
 * and the leaves of the members whose work or reward changed (the member history keeps those).
 */
export interface BuiltEpoch {
  record: NewEpoch;
  tree: EpochTree;
  /** The changed leaves in changed-leaves.ts's text form (read with changedRowBatches). */
  changed: string;
  /** Milliseconds the tree worker spent merging and hashing. */
  buildMs: number;
}

/** What a close sees: the snapshot it builds on. */
export interface CloseInput {
  /** The number the new epoch gets: the last epoch's + 1. */
  epoch: number;
  pending: PendingWork;
  /** The previous epoch's compact leaves as its checked chunks (none before the first); the build may transfer them. */
  previous: Uint8Array[];
  /** The previous epoch's end, or undefined for the first epoch. */
  previousEndMs: number | undefined;
}

/**
 * Builds the epoch from what the close read; undefined stores nothing and leaves the shares
 * pending (no new work, or work that rounds to zero). Deterministic, and asynchronous: the tree is
 * built in a worker thread while the store holds no lock that shares wait on.
 */
export type EpochBuild = (input: CloseInput) => Promise<BuiltEpoch | undefined>;

export interface SettlementStorage {
  /** The latest closed epoch, whatever its status. */
  lastEpoch(): Promise<EpochRecord | undefined>;
  /** The shares not in any epoch yet (a snapshot: shares keep coming). */
  pendingWork(): Promise<PendingWork>;
  /**
   * Closes the next epoch: reads the pending shares and the last epoch's leaves, calls `build`,
   * stores the epoch's tree and changed leaves, and last the epoch row, which makes exactly the
   * shares it read belong to it. A share committed after the read is left for the next epoch;
   * none is counted twice or lost. Resolves with the stored record, or undefined when `build`
   * returned undefined (then nothing changed). Throws when another closer stored the epoch first.
   */
  close(build: EpochBuild): Promise<EpochRecord | undefined>;
  /** Records a sent root transaction (unless the epoch is already published). */
  markSent(epoch: number, txHash: string): Promise<void>;
  markPublished(epoch: number, txHash: string, blockNumber: number, atMs: number): Promise<void>;
  epoch(epoch: number): Promise<EpochSummary | undefined>;
  /** Newest first. */
  epochs(limit: number, offset?: number): Promise<EpochSummary[]>;
  /** Oldest first: the order they must be published in. */
  unpublished(): Promise<EpochRecord[]>;
  latestPublished(): Promise<EpochSummary | undefined>;
  /**
   * `member` in `epoch`, with its proof (from the epoch's tree, rebuilt on first use). Rejects with
   * EpochTreeError when the epoch's stored leaves do not give its root.
   */
  leaf(epoch: number, member: string): Promise<ProvenLeaf | undefined>;
  /** The member's leaves in the epochs that changed them, newest first, without proofs, with their epoch's status. */
  memberLeaves(member: string, limit: number, offset?: number): Promise<(LeafRecord & { status: EpochStatus })[]>;
  /**
   * The epoch's audit bundle (protocol/dao/audit-bundle.ts), line by line, or undefined when the
   * epoch is not closed. Optional: a store without bundles publishes a zero bundle hash.
   */
  auditBundle?(epoch: number): AsyncGenerator<string> | undefined;
  /** sha256 of the epoch's audit bundle, computed once and kept; undefined when the epoch is not closed. */
  bundleHash?(epoch: number): Promise<string | undefined>;
}

/** The first epoch must start at 1 and each one follow the last; a guard both stores share. */
export function checkFollows(next: NewEpoch, last: EpochRecord | undefined): void {
  if ((last?.epoch ?? 0) + 1 !== next.epoch) {
    throw new Error(`epoch ${next.epoch} does not follow the last stored epoch ${last?.epoch ?? 0} (two closers at once?)`);
  }
}
