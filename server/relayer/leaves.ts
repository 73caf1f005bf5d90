// The relayer's read of the settlement's leaves. The proofs are no longer rows: the settlement
// computes them on demand from each epoch's compact tree (server/settlement/epoch-trees.ts), so
// the relayer is handed a PublishedLeaves source (the settlement's) rather than reading SQL. Only
// 'published' epochs count: a leaf is worth relaying only once the chain holds its root.
import type Database from 'better-sqlite3';

/** A member's cumulative leaf in one published epoch, with its proof: the WorkGovernor.Leaf and more. */
export interface PublishedLeaf {
  epoch: bigint;
  /** Checksummed. */
  account: string;
  cumulativeWork: bigint;
  cumulativeReward: bigint;
  proof: string[];
}

/** Where the relayer finds a member's leaf and proof. */
export interface PublishedLeaves {
  /** `member`'s leaf in `epoch` when that epoch is published; undefined otherwise. */
  publishedLeaf(epoch: bigint | number, member: string): Promise<PublishedLeaf | undefined>;
}

/** The highest published epoch, or undefined before the first. */
export function latestPublishedEpoch(db: Database.Database): bigint | undefined {
  const row = db.prepare<[], { epoch: number | null }>(`SELECT max(epoch) AS epoch FROM epochs WHERE status = 'published'`).get();
  return row?.epoch == null ? undefined : BigInt(row.epoch);
}
