// The relayer's read of the settlement's Merkle leaves (tables epochs and epoch_leaves) in the
// SQLite ledger; pg-request-store.ts reads the same tables in PostgreSQL. A tiny reader of its own
// rather than the settlement's API, so the relayer depends only on the schema. Only 'published'
// epochs count: a leaf is worth relaying only once the chain holds its root.
import type Database from 'better-sqlite3';
import { getAddress } from 'ethers';

/** A member's cumulative leaf in one published epoch, with its proof: the WorkGovernor.Leaf and more. */
export interface PublishedLeaf {
  epoch: bigint;
  /** Checksummed. */
  account: string;
  cumulativeWork: bigint;
  cumulativeReward: bigint;
  proof: string[];
}

/** An epoch_leaves row; the proof is JSON text (SQLite) or an already parsed array (PostgreSQL jsonb). */
export interface LeafRow {
  epoch: number;
  member: string;
  cumulative_work: string;
  cumulative_reward: string;
  proof: unknown;
}

export const LEAF_COLUMNS = 'l.epoch, l.member, l.cumulative_work, l.cumulative_reward, l.proof';

export function toPublishedLeaf(row: LeafRow): PublishedLeaf {
  const proof = typeof row.proof === 'string' ? (JSON.parse(row.proof) as unknown) : row.proof;
  if (!Array.isArray(proof) || !proof.every((p) => typeof p === 'string')) {
    throw new Error(`epoch_leaves row (${row.epoch}, ${row.member}) has a malformed proof`);
  }
  return {
    epoch: BigInt(row.epoch),
    account: getAddress(row.member),
    cumulativeWork: BigInt(row.cumulative_work),
    cumulativeReward: BigInt(row.cumulative_reward),
    proof: proof as string[],
  };
}

/** The ledger stores checksummed addresses; the lowercase spelling is tried too so a hand-written row still matches. */
export function spellings(member: string): [string, string] {
  const checksummed = getAddress(member);
  return [checksummed, checksummed.toLowerCase()];
}

/** `member`'s leaf in `epoch` when that epoch is published; undefined otherwise. */
export function leafFor(db: Database.Database, epoch: bigint | number, member: string): PublishedLeaf | undefined {
  const n = Number(epoch);
  if (!Number.isSafeInteger(n) || n < 1) return undefined;
  const row = db
    .prepare<[number, string, string], LeafRow>(
      `SELECT ${LEAF_COLUMNS} FROM epoch_leaves l JOIN epochs e ON e.epoch = l.epoch
        WHERE l.epoch = ? AND e.status = 'published' AND l.member IN (?, ?)`,
    )
    .get(n, ...spellings(member));
  return row && toPublishedLeaf(row);
}

/** The highest published epoch, or undefined before the first. */
export function latestPublishedEpoch(db: Database.Database): bigint | undefined {
  const row = db.prepare<[], { epoch: number | null }>(`SELECT max(epoch) AS epoch FROM epochs WHERE status = 'published'`).get();
  return row?.epoch == null ? undefined : BigInt(row.epoch);
}

/**
 * `member`'s leaf in the latest published epoch (leaves are cumulative, so that one settles all that
 * is owed), or undefined when nothing is published or the member has no leaf in it.
 */
export function latestPublishedLeaf(db: Database.Database, member: string): PublishedLeaf | undefined {
  const epoch = latestPublishedEpoch(db);
  return epoch === undefined ? undefined : leafFor(db, epoch, member);
}
