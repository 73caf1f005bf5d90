// The settlement's tables in the ledger file (migration step 2: `epochs`, `epoch_leaves`). The
// ledger's group commit is the only other writer of this file and better-sqlite3 is synchronous,
// so a transaction run here never interleaves with a share batch.
import type Database from 'better-sqlite3';

/** built: stored, no transaction seen; sent: a transaction was sent; published: the chain holds the root. */
export type EpochStatus = 'built' | 'sent' | 'published';

/** One closed epoch. Amounts are bigints (uint256 on-chain); they are stored as decimal TEXT. */
export interface EpochRecord {
  epoch: number;
  startMs: number;
  endMs: number;
  /** The epoch covers the share rows with id in (firstShareId, lastShareId]. */
  firstShareId: number;
  lastShareId: number;
  /** Work of this epoch's shares, in whole expected hashes (the sum of the members' rounded work). */
  epochWork: bigint;
  /** Sum of every leaf's cumulativeWork: the root's `totalWork` on-chain. */
  totalWork: bigint;
  /** The members' part of the epoch reward, as `publishRoot` takes it (stays in the distributor). */
  reward: bigint;
  /** The treasury's part; reward + reinvested is the whole epoch reward. */
  reinvested: bigint;
  reinvestmentBps: number;
  root: string;
  status: EpochStatus;
  txHash: string | null;
  blockNumber: number | null;
  createdAtMs: number;
  publishedAtMs: number | null;
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
  proof: string[];
}

/** A share range ready to close: the shares after the last epoch, summed per member. */
export interface PendingWork {
  /** last_share_id of the latest epoch (0 before the first). */
  afterShareId: number;
  /** The highest share id now (equal to afterShareId when nothing is new). */
  maxShareId: number;
  /** When the first new share was accepted (null when nothing is new). */
  firstShareAtMs: number | null;
  /** Real (unrounded) expected hashes per checksummed member. */
  workByMember: Map<string, number>;
}

interface EpochRow {
  epoch: number;
  start_ms: number;
  end_ms: number;
  first_share_id: number;
  last_share_id: number;
  epoch_work: string;
  total_work: string;
  reward: string;
  reinvested: string;
  reinvestment_bps: number;
  root: string;
  status: EpochStatus;
  tx_hash: string | null;
  block_number: number | null;
  created_at_ms: number;
  published_at_ms: number | null;
  members?: number;
}

interface LeafRow {
  epoch: number;
  member: string;
  epoch_work: string;
  epoch_reward: string;
  cumulative_work: string;
  cumulative_reward: string;
  proof?: string;
}

const EPOCH_SUMMARY = `SELECT e.*, (SELECT count(*) FROM epoch_leaves l WHERE l.epoch = e.epoch) AS members FROM epochs e`;

function prepareStatements(db: Database.Database) {
  return {
    lastEpoch: db.prepare<[], EpochRow>(`SELECT * FROM epochs ORDER BY epoch DESC LIMIT 1`),
    maxShareId: db.prepare<[], number>(`SELECT coalesce(max(id), 0) FROM shares`).pluck(),
    firstShareAt: db.prepare<[number, number], number | null>(`SELECT min(accepted_at_ms) FROM shares WHERE id > ? AND id <= ?`).pluck(),
    workByMember: db.prepare<[number, number], { member: string; work: number }>(
      `SELECT member, sum(work) AS work FROM shares WHERE id > ? AND id <= ? GROUP BY member`,
    ),
    leavesOf: db.prepare<[number], LeafRow>(`SELECT * FROM epoch_leaves WHERE epoch = ? ORDER BY member`),
    insertEpoch: db.prepare(
      `INSERT INTO epochs (epoch, start_ms, end_ms, first_share_id, last_share_id, epoch_work, total_work, reward,
                           reinvested, reinvestment_bps, root, status, tx_hash, block_number, created_at_ms, published_at_ms)
       VALUES (@epoch, @startMs, @endMs, @firstShareId, @lastShareId, @epochWork, @totalWork, @reward,
               @reinvested, @reinvestmentBps, @root, 'built', NULL, NULL, @createdAtMs, NULL)`,
    ),
    insertLeaf: db.prepare(
      `INSERT INTO epoch_leaves (epoch, member, epoch_work, epoch_reward, cumulative_work, cumulative_reward, proof)
       VALUES (@epoch, @member, @epochWork, @epochReward, @cumulativeWork, @cumulativeReward, @proof)`,
    ),
    markSent: db.prepare<[string, number]>(`UPDATE epochs SET status = 'sent', tx_hash = ? WHERE epoch = ? AND status <> 'published'`),
    markPublished: db.prepare<[string, number, number, number]>(
      `UPDATE epochs SET status = 'published', tx_hash = ?, block_number = ?, published_at_ms = ? WHERE epoch = ?`,
    ),
    epoch: db.prepare<[number], EpochRow>(`${EPOCH_SUMMARY} WHERE e.epoch = ?`),
    epochs: db.prepare<[number, number], EpochRow>(`${EPOCH_SUMMARY} ORDER BY e.epoch DESC LIMIT ? OFFSET ?`),
    unpublished: db.prepare<[], EpochRow>(`SELECT * FROM epochs WHERE status <> 'published' ORDER BY epoch`),
    latestPublished: db.prepare<[], EpochRow>(`${EPOCH_SUMMARY} WHERE e.status = 'published' ORDER BY e.epoch DESC LIMIT 1`),
    leaf: db.prepare<[number, string], LeafRow>(`SELECT * FROM epoch_leaves WHERE epoch = ? AND member = ?`),
    memberLeaves: db.prepare<[string, number, number], LeafRow & { status: EpochStatus }>(
      `SELECT l.epoch, l.member, l.epoch_work, l.epoch_reward, l.cumulative_work, l.cumulative_reward, e.status
       FROM epoch_leaves l JOIN epochs e ON e.epoch = l.epoch
       WHERE l.member = ? ORDER BY l.epoch DESC LIMIT ? OFFSET ?`,
    ),
  };
}

function toEpoch(row: EpochRow): EpochRecord {
  return {
    epoch: row.epoch,
    startMs: row.start_ms,
    endMs: row.end_ms,
    firstShareId: row.first_share_id,
    lastShareId: row.last_share_id,
    epochWork: BigInt(row.epoch_work),
    totalWork: BigInt(row.total_work),
    reward: BigInt(row.reward),
    reinvested: BigInt(row.reinvested),
    reinvestmentBps: row.reinvestment_bps,
    root: row.root,
    status: row.status,
    txHash: row.tx_hash,
    blockNumber: row.block_number,
    createdAtMs: row.created_at_ms,
    publishedAtMs: row.published_at_ms,
  };
}

function toSummary(row: EpochRow): EpochSummary {
  return { ...toEpoch(row), members: row.members ?? 0 };
}

function toLeaf(row: LeafRow): LeafRecord {
  return {
    epoch: row.epoch,
    member: row.member,
    epochWork: BigInt(row.epoch_work),
    epochReward: BigInt(row.epoch_reward),
    cumulativeWork: BigInt(row.cumulative_work),
    cumulativeReward: BigInt(row.cumulative_reward),
    proof: row.proof === undefined ? [] : (JSON.parse(row.proof) as string[]),
  };
}

export type NewEpoch = Omit<EpochRecord, 'status' | 'txHash' | 'blockNumber' | 'publishedAtMs'>;

export class SettlementStore {
  private readonly stmt: ReturnType<typeof prepareStatements>;

  constructor(private readonly db: Database.Database) {
    this.stmt = prepareStatements(db);
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction: the write lock is taken first, so what `fn` reads
   * (pending work, the previous leaves) is still true when it writes the epoch.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** The latest closed epoch, whatever its status. */
  lastEpoch(): EpochRecord | undefined {
    const row = this.stmt.lastEpoch.get();
    return row && toEpoch(row);
  }

  /** The shares after the latest epoch, summed per member. Call inside `transaction` to close on it. */
  pendingWork(): PendingWork {
    return this.transaction(() => {
      const afterShareId = this.stmt.lastEpoch.get()?.last_share_id ?? 0;
      const maxShareId = Math.max(afterShareId, this.stmt.maxShareId.get() ?? 0);
      const workByMember = new Map<string, number>();
      if (maxShareId === afterShareId) return { afterShareId, maxShareId, firstShareAtMs: null, workByMember };
      for (const { member, work } of this.stmt.workByMember.all(afterShareId, maxShareId)) workByMember.set(member, work);
      return { afterShareId, maxShareId, firstShareAtMs: this.stmt.firstShareAt.get(afterShareId, maxShareId) ?? null, workByMember };
    });
  }

  /** Every leaf of `epoch` (with proofs), by member. */
  leaves(epoch: number): LeafRecord[] {
    return this.stmt.leavesOf.all(epoch).map(toLeaf);
  }

  /** Stores a built epoch and all its leaves at once: an epoch is never half-written. */
  insertEpoch(epoch: NewEpoch, leaves: readonly LeafRecord[]): void {
    this.transaction(() => {
      const previous = this.stmt.lastEpoch.get();
      // Guards against two writers closing at once: epochs are consecutive and their share ranges adjoin.
      if ((previous?.epoch ?? 0) + 1 !== epoch.epoch || (previous?.last_share_id ?? 0) !== epoch.firstShareId) {
        throw new Error(`epoch ${epoch.epoch} (shares after ${epoch.firstShareId}) does not follow epoch ${previous?.epoch ?? 0} (shares up to ${previous?.last_share_id ?? 0})`);
      }
      this.stmt.insertEpoch.run({
        ...epoch,
        epochWork: epoch.epochWork.toString(),
        totalWork: epoch.totalWork.toString(),
        reward: epoch.reward.toString(),
        reinvested: epoch.reinvested.toString(),
      });
      for (const leaf of leaves) {
        this.stmt.insertLeaf.run({
          epoch: leaf.epoch,
          member: leaf.member,
          epochWork: leaf.epochWork.toString(),
          epochReward: leaf.epochReward.toString(),
          cumulativeWork: leaf.cumulativeWork.toString(),
          cumulativeReward: leaf.cumulativeReward.toString(),
          proof: JSON.stringify(leaf.proof),
        });
      }
    });
  }

  markSent(epoch: number, txHash: string): void {
    this.stmt.markSent.run(txHash, epoch);
  }

  markPublished(epoch: number, txHash: string, blockNumber: number, atMs: number): void {
    this.stmt.markPublished.run(txHash, blockNumber, atMs, epoch);
  }

  epoch(epoch: number): EpochSummary | undefined {
    const row = this.stmt.epoch.get(epoch);
    return row && toSummary(row);
  }

  /** Newest first. */
  epochs(limit: number, offset = 0): EpochSummary[] {
    return this.stmt.epochs.all(limit, offset).map(toSummary);
  }

  /** Oldest first: the order they must be published in. */
  unpublished(): EpochRecord[] {
    return this.stmt.unpublished.all().map(toEpoch);
  }

  latestPublished(): EpochSummary | undefined {
    const row = this.stmt.latestPublished.get();
    return row && toSummary(row);
  }

  /** `member` (checksummed) in `epoch`, with its proof. */
  leaf(epoch: number, member: string): LeafRecord | undefined {
    const row = this.stmt.leaf.get(epoch, member);
    return row && toLeaf(row);
  }

  /** The member's leaves, newest epoch first, without proofs, with their epoch's status. */
  memberLeaves(member: string, limit: number, offset = 0): (LeafRecord & { status: EpochStatus })[] {
    return this.stmt.memberLeaves.all(member, limit, offset).map((row) => ({ ...toLeaf(row), status: row.status }));
  }
}
