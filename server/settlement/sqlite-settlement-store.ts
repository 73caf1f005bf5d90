// The settlement's tables in the SQLite ledger file: `epochs`, `epoch_tree_chunks` (each epoch's
// compact leaves) and `epoch_leaves` (the leaves that changed in each epoch; see migrations.ts).
// The ledger's writer thread is the only connection that inserts shares, so row ids are handed out
// in commit order, and an epoch is the id range after the previous epoch's last share.
//
// A close never holds the write lock for long, so the writer thread's share commits wait a few
// milliseconds at most: it reads a snapshot (the last epoch and the highest share id, in one short
// transaction; the rows in that id range and the previous epoch's chunks never change afterwards),
// builds the tree in the worker with no lock held, writes the chunks and changed leaves in small
// transactions, and last commits the epoch row, which makes them count. Rows of an epoch number
// above the last epoch are a crashed close's leftovers: the next close deletes them first.
import type Database from 'better-sqlite3';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { concatBytes } from '../../protocol/hex.js';
import { changedRowBatches } from './changed-leaves.js';
import { EpochTrees } from './epoch-trees.js';
import { provenLeaf } from './proven-leaf.js';
import { auditBundleLines, hashBundle, type AuditSource, type ShareRow } from './audit-bundle-lines.js';
import {
  checkFollows,
  type EpochBuild,
  type EpochRecord,
  type EpochStatus,
  type EpochSummary,
  type LeafRecord,
  type NewEpoch,
  type PendingWork,
  type ProvenLeaf,
  type SettlementStorage,
} from './settlement-store.js';
import { CHUNK_LEAVES, asBuffer, checkChunks, splitIntoChunks } from './tree-chunks.js';

/** Share ids summed per read: the GROUP BY of a long epoch is split so the event loop keeps turning. */
const PENDING_PAGE_IDS = 16_384;
/** Changed leaves (or leftover rows deleted) per write transaction. */
const ROWS_PER_TRANSACTION = 500;

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
  leaf_count: number;
}

interface LeafRow {
  epoch: number;
  member: string;
  epoch_work: string;
  epoch_reward: string;
  cumulative_work: string;
  cumulative_reward: string;
}

function prepareStatements(db: Database.Database) {
  return {
    lastEpoch: db.prepare<[], EpochRow>(`SELECT * FROM epochs ORDER BY epoch DESC LIMIT 1`),
    maxShareId: db.prepare<[], number>(`SELECT coalesce(max(id), 0) FROM shares`).pluck(),
    pendingPage: db.prepare<[number, number], { member: string; work: number; shares: number; first_at: number }>(
      `SELECT member, sum(work) AS work, count(*) AS shares, min(accepted_at_ms) AS first_at FROM shares WHERE id > ? AND id <= ? GROUP BY member`,
    ),
    chunk: db.prepare<[number, number], { chunk: number; leaves: Buffer }>(`SELECT chunk, leaves FROM epoch_tree_chunks WHERE epoch = ? AND chunk = ?`),
    chunkStats: db.prepare<[number], { chunks: number; bytes: number | null }>(
      `SELECT count(*) AS chunks, sum(length(leaves)) AS bytes FROM epoch_tree_chunks WHERE epoch = ?`,
    ),
    insertChunk: db.prepare<[number, number, Buffer]>(`INSERT INTO epoch_tree_chunks (epoch, chunk, leaves) VALUES (?, ?, ?)`),
    deleteChunksAbove: db.prepare<[number]>(`DELETE FROM epoch_tree_chunks WHERE epoch > ?`),
    deleteLeavesAbove: db.prepare<[number, number]>(
      `DELETE FROM epoch_leaves WHERE (epoch, member) IN (SELECT epoch, member FROM epoch_leaves WHERE epoch > ? LIMIT ?)`,
    ),
    insertEpoch: db.prepare(
      `INSERT INTO epochs (epoch, start_ms, end_ms, first_share_id, last_share_id, epoch_work, total_work, reward,
                           reinvested, reinvestment_bps, root, status, tx_hash, block_number, created_at_ms, published_at_ms, leaf_count)
       VALUES (@epoch, @startMs, @endMs, @firstShareId, @lastShareId, @epochWork, @totalWork, @reward,
               @reinvested, @reinvestmentBps, @root, 'built', NULL, NULL, @createdAtMs, NULL, @leafCount)`,
    ),
    insertLeaf: db.prepare(
      `INSERT INTO epoch_leaves (epoch, member, epoch_work, epoch_reward, cumulative_work, cumulative_reward)
       VALUES (@epoch, @member, @epochWork, @epochReward, @cumulativeWork, @cumulativeReward)`,
    ),
    auditMembers: db.prepare<[number, string, number], { member: string; epoch_work: string; epoch_reward: string }>(
      `SELECT member, epoch_work, epoch_reward FROM epoch_leaves WHERE epoch = ? AND member > ? ORDER BY member LIMIT ?`,
    ),
    auditShares: db.prepare<[number, number, number], ShareRow>(
      `SELECT id, member, difficulty, work, hash, proof FROM shares WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`,
    ),
    auditJob: db.prepare<[string], string>(`SELECT data FROM jobs WHERE job_key = ?`).pluck(),
    bundleHash: db.prepare<[number], string | null>(`SELECT bundle_hash FROM epochs WHERE epoch = ?`).pluck(),
    setBundleHash: db.prepare<[string, number]>(`UPDATE epochs SET bundle_hash = ? WHERE epoch = ? AND bundle_hash IS NULL`),
    markSent: db.prepare<[string, number]>(`UPDATE epochs SET status = 'sent', tx_hash = ? WHERE epoch = ? AND status <> 'published'`),
    markPublished: db.prepare<[string, number, number, number]>(
      `UPDATE epochs SET status = 'published', tx_hash = ?, block_number = ?, published_at_ms = ? WHERE epoch = ?`,
    ),
    epoch: db.prepare<[number], EpochRow>(`SELECT * FROM epochs WHERE epoch = ?`),
    epochs: db.prepare<[number, number], EpochRow>(`SELECT * FROM epochs ORDER BY epoch DESC LIMIT ? OFFSET ?`),
    unpublished: db.prepare<[], EpochRow>(`SELECT * FROM epochs WHERE status <> 'published' ORDER BY epoch`),
    latestPublished: db.prepare<[], EpochRow>(`SELECT * FROM epochs WHERE status = 'published' ORDER BY epoch DESC LIMIT 1`),
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
  return { ...toEpoch(row), members: row.leaf_count };
}

function toLeaf(row: LeafRow): LeafRecord {
  return {
    epoch: row.epoch,
    member: row.member,
    epochWork: BigInt(row.epoch_work),
    epochReward: BigInt(row.epoch_reward),
    cumulativeWork: BigInt(row.cumulative_work),
    cumulativeReward: BigInt(row.cumulative_reward),
  };
}

export class SqliteSettlementStore implements SettlementStorage {
  private readonly stmt: ReturnType<typeof prepareStatements>;
  /** Where proofs come from: each epoch's tree, rebuilt from its chunks on first use. */
  readonly trees: EpochTrees;

  constructor(
    private readonly db: Database.Database,
    options: { cachedEpochs?: number } = {},
  ) {
    this.stmt = prepareStatements(db);
    this.trees = new EpochTrees((epoch) => this.compactLeaves(epoch), options.cachedEpochs);
  }

  async lastEpoch(): Promise<EpochRecord | undefined> {
    return this.lastEpochNow();
  }

  async pendingWork(): Promise<PendingWork> {
    const { afterShareId, maxShareId } = this.snapshot();
    return this.pendingIn(afterShareId, maxShareId);
  }

  async close(build: EpochBuild): Promise<EpochRecord | undefined> {
    await this.deleteLeftovers();
    const { last, afterShareId, maxShareId } = this.snapshot();
    const epoch = (last?.epoch ?? 0) + 1;
    const pending = await this.pendingIn(afterShareId, maxShareId);
    const previous = last ? await this.compactLeaves(last.epoch) : [];
    const built = await build({ epoch, pending, previous, previousEndMs: last?.endMs });
    if (!built) return undefined;
    const record = built.record;
    this.checkAdjoins(record, last);

    const chunks = splitIntoChunks(built.tree.leaves);
    for (const [i, chunk] of chunks.entries()) {
      this.stmt.insertChunk.run(epoch, i, asBuffer(chunk));
      await yieldToEventLoop();
    }
    for (const batch of changedRowBatches(built.changed, ROWS_PER_TRANSACTION)) {
      this.db.transaction(() => {
        for (const row of batch) this.stmt.insertLeaf.run({ epoch, ...row });
      })();
      await yieldToEventLoop();
    }
    // The epoch row commits last and only if nothing moved meanwhile: the same last epoch (no
    // second closer) and every chunk still there (no second closer deleted them as leftovers).
    this.db
      .transaction(() => {
        const now = this.lastEpochNow();
        if ((now?.epoch ?? 0) !== (last?.epoch ?? 0)) {
          throw new Error(`epoch ${epoch}: the last epoch became ${now?.epoch ?? 0} while this close built on ${last?.epoch ?? 0} (two closers at once?); nothing stored`);
        }
        const stats = this.stmt.chunkStats.get(epoch)!;
        if (stats.chunks !== chunks.length || (stats.bytes ?? 0) !== built.tree.leaves.length) {
          throw new Error(`epoch ${epoch}: its tree chunks changed while it was closing (two closers at once?); nothing stored`);
        }
        this.stmt.insertEpoch.run({
          ...record,
          epochWork: record.epochWork.toString(),
          totalWork: record.totalWork.toString(),
          reward: record.reward.toString(),
          reinvested: record.reinvested.toString(),
          leafCount: built.tree.leafCount,
        });
      })
      .immediate();
    this.trees.seed(epoch, built.tree);
    // Kept with the epoch so the publisher, a restarted gateway and the API all use one hash.
    await this.bundleHash(epoch);
    return { ...record, status: 'built', txHash: null, blockNumber: null, publishedAtMs: null };
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

  async leaf(epoch: number, member: string): Promise<ProvenLeaf | undefined> {
    const row = this.stmt.epoch.get(epoch);
    if (!row) return undefined;
    return provenLeaf(this.trees, row, member, async (n, account) => {
      const changed = this.stmt.leaf.get(n, account);
      return changed && toLeaf(changed);
    });
  }

  async memberLeaves(member: string, limit: number, offset = 0): Promise<(LeafRecord & { status: EpochStatus })[]> {
    return this.stmt.memberLeaves.all(member, limit, offset).map((row) => ({ ...toLeaf(row), status: row.status }));
  }

  auditBundle(epoch: number): AsyncGenerator<string> | undefined {
    const row = this.stmt.epoch.get(epoch);
    return row && auditBundleLines(this.auditSource, toEpoch(row));
  }

  /** The epoch's shares are the rows with id in (firstShareId, lastShareId]. */
  private readonly auditSource: AuditSource = {
    previousLeaves: async (n) => this.compactLeaves(n),
    members: async (n, after, limit) => this.stmt.auditMembers.all(n, after, limit),
    shares: async (epoch, afterId, limit) => this.stmt.auditShares.all(Math.max(afterId, epoch.firstShareId ?? 0), epoch.lastShareId ?? 0, limit),
    job: async (key) => this.stmt.auditJob.get(key),
  };

  async bundleHash(epoch: number): Promise<string | undefined> {
    const stored = this.stmt.bundleHash.get(epoch);
    if (stored !== null && stored !== undefined) return stored;
    const lines = this.auditBundle(epoch);
    if (!lines) return undefined;
    const hash = await hashBundle(lines);
    this.stmt.setBundleHash.run(hash, epoch);
    return hash;
  }

  private lastEpochNow(): EpochRecord | undefined {
    const row = this.stmt.lastEpoch.get();
    return row && toEpoch(row);
  }

  /** The last epoch and the pending id range, read together: shares keep committing meanwhile. */
  private snapshot(): { last: EpochRecord | undefined; afterShareId: number; maxShareId: number } {
    return this.db
      .transaction(() => {
        const last = this.lastEpochNow();
        const afterShareId = last?.lastShareId ?? 0;
        return { last, afterShareId, maxShareId: Math.max(afterShareId, this.stmt.maxShareId.get() ?? 0) };
      })
      .deferred();
  }

  /**
   * The shares with id in (afterShareId, maxShareId], summed per member a page of ids at a time
   * (committed rows in a fixed id range never change, so the pages need no common transaction).
   * The pages are fixed by the range, so a rebuild of the same epoch sums in the same order.
   */
  private async pendingIn(afterShareId: number, maxShareId: number): Promise<PendingWork> {
    const workByMember = new Map<string, number>();
    let shares = 0;
    let firstShareAtMs: number | null = null;
    for (let from = afterShareId; from < maxShareId; from += PENDING_PAGE_IDS) {
      for (const row of this.stmt.pendingPage.all(from, Math.min(from + PENDING_PAGE_IDS, maxShareId))) {
        workByMember.set(row.member, (workByMember.get(row.member) ?? 0) + row.work);
        shares += row.shares;
        if (firstShareAtMs === null || row.first_at < firstShareAtMs) firstShareAtMs = row.first_at;
      }
      if (from + PENDING_PAGE_IDS < maxShareId) await yieldToEventLoop();
    }
    return { shares, firstShareAtMs, workByMember, shareIds: { afterShareId, maxShareId } };
  }

  /** An epoch's compact leaves, a chunk per read. */
  private async compactLeaves(epoch: number): Promise<Uint8Array[]> {
    const row = this.stmt.epoch.get(epoch);
    if (!row) throw new Error(`epoch ${epoch} does not exist`);
    const chunks: { chunk: number; leaves: Uint8Array }[] = [];
    for (let i = 0; i * CHUNK_LEAVES < row.leaf_count; i++) {
      const chunk = this.stmt.chunk.get(epoch, i);
      if (!chunk) break; // checkChunks names what is missing
      chunks.push(chunk);
      await yieldToEventLoop();
    }
    return checkChunks(epoch, chunks, row.leaf_count);
  }

  /** Deletes what a crashed close left (rows of epochs above the last), a small transaction at a time. */
  private async deleteLeftovers(): Promise<void> {
    const last = this.lastEpochNow()?.epoch ?? 0;
    this.stmt.deleteChunksAbove.run(last);
    while (this.stmt.deleteLeavesAbove.run(last, ROWS_PER_TRANSACTION).changes > 0) await yieldToEventLoop();
  }

  /** Share ranges adjoin: every share row is in exactly one epoch. */
  private checkAdjoins(epoch: NewEpoch, last: EpochRecord | undefined): void {
    checkFollows(epoch, last);
    if (epoch.firstShareId === null || epoch.lastShareId === null || epoch.firstShareId !== (last?.lastShareId ?? 0)) {
      throw new Error(`epoch ${epoch.epoch} (shares after ${epoch.firstShareId}) does not start where epoch ${last?.epoch ?? 0} ends (shares up to ${last?.lastShareId ?? 0})`);
    }
  }
}
