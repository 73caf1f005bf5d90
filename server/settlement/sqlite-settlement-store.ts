// The settlement's tables in the SQLite ledger file (migration step 2: `epochs`, `epoch_leaves`).
// The ledger's writer thread is the only connection that inserts shares, so row ids are handed out
// in commit order; a close runs in an IMMEDIATE transaction (it holds the write lock, so no share
// batch commits in the middle of it) and an epoch is the id range after the previous epoch's last
// share.
import type Database from 'better-sqlite3';
import {
  checkFollows,
  type EpochBuild,
  type EpochRecord,
  type EpochStatus,
  type EpochSummary,
  type LeafRecord,
  type NewEpoch,
  type PendingWork,
  type SettlementStorage,
} from './settlement-store.js';

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
    pendingShares: db.prepare<[number, number], { shares: number; first_at: number | null }>(
      `SELECT count(*) AS shares, min(accepted_at_ms) AS first_at FROM shares WHERE id > ? AND id <= ?`,
    ),
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

export class SqliteSettlementStore implements SettlementStorage {
  private readonly stmt: ReturnType<typeof prepareStatements>;

  constructor(private readonly db: Database.Database) {
    this.stmt = prepareStatements(db);
  }

  async lastEpoch(): Promise<EpochRecord | undefined> {
    return this.lastEpochNow();
  }

  async pendingWork(): Promise<PendingWork> {
    return this.db.transaction(() => this.pendingNow()).immediate();
  }

  /**
   * One IMMEDIATE transaction from reading the pending shares to storing the epoch: the write lock
   * is taken first, so no share batch and no other close can come in between.
   */
  async close(build: EpochBuild): Promise<EpochRecord | undefined> {
    return this.db
      .transaction((): EpochRecord | undefined => {
        const last = this.lastEpochNow();
        const built = build({
          epoch: (last?.epoch ?? 0) + 1,
          pending: this.pendingNow(),
          previous: last ? this.stmt.leavesOf.all(last.epoch).map(toLeaf) : [],
          previousEndMs: last?.endMs,
        });
        if (!built) return undefined;
        this.insert(built.record, built.leaves, last);
        return { ...built.record, status: 'built', txHash: null, blockNumber: null, publishedAtMs: null };
      })
      .immediate();
  }

  async leaves(epoch: number): Promise<LeafRecord[]> {
    return this.stmt.leavesOf.all(epoch).map(toLeaf);
  }

  async markSent(epoch: number, txHash: string): Promise<void> {
    this.stmt.markSent.run(txHash, epoch);
  }

  async markPublished(epoch: number, txHash: string, blockNumber: number, atMs: number): Promise<void> {
    this.stmt.markPublished.run(txHash, blockNumber, atMs, epoch);
  }

  async epoch(epoch: number): Promise<EpochSummary | undefined> {
    const row = this.stmt.epoch.get(epoch);
    return row && toSummary(row);
  }

  async epochs(limit: number, offset = 0): Promise<EpochSummary[]> {
    return this.stmt.epochs.all(limit, offset).map(toSummary);
  }

  async unpublished(): Promise<EpochRecord[]> {
    return this.stmt.unpublished.all().map(toEpoch);
  }

  async latestPublished(): Promise<EpochSummary | undefined> {
    const row = this.stmt.latestPublished.get();
    return row && toSummary(row);
  }

  async leaf(epoch: number, member: string): Promise<LeafRecord | undefined> {
    const row = this.stmt.leaf.get(epoch, member);
    return row && toLeaf(row);
  }

  async memberLeaves(member: string, limit: number, offset = 0): Promise<(LeafRecord & { status: EpochStatus })[]> {
    return this.stmt.memberLeaves.all(member, limit, offset).map((row) => ({ ...toLeaf(row), status: row.status }));
  }

  private lastEpochNow(): EpochRecord | undefined {
    const row = this.stmt.lastEpoch.get();
    return row && toEpoch(row);
  }

  /** The shares after the latest epoch's range. Call inside a transaction to close on it. */
  private pendingNow(): PendingWork {
    const afterShareId = this.stmt.lastEpoch.get()?.last_share_id ?? 0;
    const maxShareId = Math.max(afterShareId, this.stmt.maxShareId.get() ?? 0);
    const workByMember = new Map<string, number>();
    const shareIds = { afterShareId, maxShareId };
    if (maxShareId === afterShareId) return { shares: 0, firstShareAtMs: null, workByMember, shareIds };
    for (const { member, work } of this.stmt.workByMember.all(afterShareId, maxShareId)) workByMember.set(member, work);
    const { shares, first_at } = this.stmt.pendingShares.get(afterShareId, maxShareId)!;
    return { shares, firstShareAtMs: first_at, workByMember, shareIds };
  }

  /** Stores a built epoch and all its leaves (inside close's transaction: never half-written). */
  private insert(epoch: NewEpoch, leaves: readonly LeafRecord[], last: EpochRecord | undefined): void {
    checkFollows(epoch, last);
    // Share ranges adjoin: every share row is in exactly one epoch.
    if (epoch.firstShareId === null || epoch.lastShareId === null || epoch.firstShareId !== (last?.lastShareId ?? 0)) {
      throw new Error(`epoch ${epoch.epoch} (shares after ${epoch.firstShareId}) does not start where epoch ${last?.epoch ?? 0} ends (shares up to ${last?.lastShareId ?? 0})`);
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
  }
}
