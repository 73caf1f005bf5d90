// The settlement's tables in a PostgreSQL ledger shared by several gateways. Share row ids come
// from a sequence and are NOT commit-ordered across gateways (a row with a lower id may commit
// after one with a higher id), so an id range would lose shares. Each share row carries its epoch
// instead (shares.epoch, NULL until settled): closing epoch n runs
//   UPDATE shares SET epoch = n WHERE epoch IS NULL
// in the transaction that stores the epoch row. Under READ COMMITTED that statement sees exactly
// the shares committed before it; one committed later keeps NULL for the next epoch. So every
// committed share lands in exactly one epoch. The transaction blocks no share INSERT; the tree is
// built in the worker meanwhile, and its chunks and changed leaves are written on other
// connections in small statements before the epoch row commits, which makes them count (rows above
// the last epoch are a crashed close's leftovers, deleted at the next close, under its lock).
import type pg from 'pg';
import { concatBytes } from '../../protocol/hex.js';
import { auditBundleLines, hashBundle, type AuditSource, type ShareRow } from './audit-bundle-lines.js';
import { changedRowBatches } from './changed-leaves.js';
import { EpochTrees } from './epoch-trees.js';
import { provenLeaf } from './proven-leaf.js';
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
import { asBuffer, checkChunks, splitIntoChunks } from './tree-chunks.js';

/** pg_advisory_xact_lock key serializing closes ("DAOCLOS"): two closers never interleave. */
export const SETTLEMENT_CLOSE_LOCK = 0x44414f434c4f53n;
/** Statement timeout inside a close's transaction. */
const CLOSE_STATEMENT_TIMEOUT_MS = 10 * 60_000;
/** Changed leaves per INSERT statement. */
const ROWS_PER_STATEMENT = 5_000;

/** node-postgres returns BIGINT, NUMERIC and count(*) as strings; each is converted where read. */
interface EpochRow {
  epoch: number;
  start_ms: string;
  end_ms: string;
  epoch_work: string;
  total_work: string;
  reward: string;
  reinvested: string;
  reinvestment_bps: number;
  root: string;
  status: EpochStatus;
  tx_hash: string | null;
  block_number: string | null;
  created_at_ms: string;
  published_at_ms: string | null;
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

const LEAF_COLUMNS = 'epoch, member, epoch_work, epoch_reward, cumulative_work, cumulative_reward';
const PENDING_BY_MEMBER = `member, sum(work) AS work, count(*)::int AS shares, min(accepted_at_ms)::text AS first_at`;

const nullableNumber = (text: string | null): number | null => (text === null ? null : Number(text));

function toEpoch(row: EpochRow): EpochRecord {
  return {
    epoch: row.epoch,
    startMs: Number(row.start_ms),
    endMs: Number(row.end_ms),
    firstShareId: null,
    lastShareId: null,
    epochWork: BigInt(row.epoch_work),
    totalWork: BigInt(row.total_work),
    reward: BigInt(row.reward),
    reinvested: BigInt(row.reinvested),
    reinvestmentBps: row.reinvestment_bps,
    root: row.root,
    status: row.status,
    txHash: row.tx_hash,
    blockNumber: nullableNumber(row.block_number),
    createdAtMs: Number(row.created_at_ms),
    publishedAtMs: nullableNumber(row.published_at_ms),
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

/** Per-member rows of pending shares → PendingWork. */
function toPending(rows: readonly { member: string; work: number; shares: number; first_at: string | null }[]): PendingWork {
  const workByMember = new Map<string, number>();
  let shares = 0;
  let firstShareAtMs: number | null = null;
  for (const row of rows) {
    workByMember.set(row.member, Number(row.work));
    shares += row.shares;
    const at = nullableNumber(row.first_at);
    if (at !== null && (firstShareAtMs === null || at < firstShareAtMs)) firstShareAtMs = at;
  }
  return { shares, firstShareAtMs, workByMember, shareIds: null };
}

export class PgSettlementStore implements SettlementStorage {
  /** Where proofs come from: each epoch's tree, rebuilt from its chunks on first use. */
  readonly trees: EpochTrees;

  constructor(
    private readonly pool: pg.Pool,
    options: { cachedEpochs?: number } = {},
  ) {
    this.trees = new EpochTrees((epoch) => this.compactLeaves(this.pool, epoch), options.cachedEpochs);
  }

  async lastEpoch(): Promise<EpochRecord | undefined> {
    const { rows } = await this.pool.query<EpochRow>('SELECT * FROM epochs ORDER BY epoch DESC LIMIT 1');
    return rows[0] && toEpoch(rows[0]);
  }

  async pendingWork(): Promise<PendingWork> {
    const { rows } = await this.pool.query(`SELECT ${PENDING_BY_MEMBER} FROM shares WHERE epoch IS NULL GROUP BY member`);
    return toPending(rows);
  }

  async close(build: EpochBuild): Promise<EpochRecord | undefined> {
    const client = await this.pool.connect();
    let released = false;
    try {
      await client.query('BEGIN');
      // The pool's statement timeout is sized for share batches; marking a long epoch's shares
      // may take longer, and failing it would only repeat the same work at the next try.
      await client.query(`SET LOCAL statement_timeout = ${CLOSE_STATEMENT_TIMEOUT_MS}`);
      // Closes are serialized across gateways (normally only the leader closes; this also holds
      // while a deposed leader finishes a close it began).
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [SETTLEMENT_CLOSE_LOCK.toString()]);
      const lastRows = await client.query<EpochRow>('SELECT * FROM epochs ORDER BY epoch DESC LIMIT 1');
      const last = lastRows.rows[0] && toEpoch(lastRows.rows[0]);
      const epoch = (last?.epoch ?? 0) + 1;
      // Takes the committed pending shares for this epoch; rolled back when nothing is built.
      const claimed = await client.query(
        `WITH claimed AS (UPDATE shares SET epoch = $1 WHERE epoch IS NULL RETURNING member, work, accepted_at_ms)
         SELECT ${PENDING_BY_MEMBER} FROM claimed GROUP BY member`,
        [epoch],
      );
      const previous = last ? await this.compactLeaves(client, last.epoch) : [];
      const pending = toPending(claimed.rows);
      // Leftovers of a crashed close, deleted on another connection: the rows of this epoch are
      // written on other connections too, and a delete pending in this transaction would block them.
      await this.pool.query('DELETE FROM epoch_tree_chunks WHERE epoch > $1', [last?.epoch ?? 0]);
      await this.pool.query('DELETE FROM epoch_leaves WHERE epoch > $1', [last?.epoch ?? 0]);
      const built = await build({ epoch, pending, previous, previousEndMs: last?.endMs });
      if (!built) {
        await client.query('ROLLBACK');
        return undefined;
      }
      checkFollows(built.record, last);
      await this.writeTree(epoch, built.tree.leaves, built.changed);
      await this.insertEpoch(client, built.record, pending.shares, built.tree.leafCount);
      await client.query('COMMIT');
      this.trees.seed(epoch, built.tree);
      // Kept with the epoch so the publisher, a restarted gateway and the API all use one hash.
      await this.bundleHash(epoch);
      return { ...built.record, status: 'built', txHash: null, blockNumber: null, publishedAtMs: null };
    } catch (err) {
      // A connection that cannot even roll back is broken: it is destroyed, not pooled again.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        client.release(rollbackError instanceof Error ? rollbackError : true);
        released = true;
      });
      throw err;
    } finally {
      if (!released) client.release();
    }
  }

  async markSent(epoch: number, txHash: string): Promise<void> {
    await this.pool.query(`UPDATE epochs SET status = 'sent', tx_hash = $1 WHERE epoch = $2 AND status <> 'published'`, [txHash, epoch]);
  }

  async markPublished(epoch: number, txHash: string, blockNumber: number, atMs: number): Promise<void> {
    await this.pool.query(`UPDATE epochs SET status = 'published', tx_hash = $1, block_number = $2, published_at_ms = $3 WHERE epoch = $4`, [
      txHash,
      blockNumber,
      atMs,
      epoch,
    ]);
  }

  async epoch(epoch: number): Promise<EpochSummary | undefined> {
    const { rows } = await this.pool.query<EpochRow>(`SELECT * FROM epochs WHERE epoch = $1`, [epoch]);
    return rows[0] && toSummary(rows[0]);
  }

  async epochs(limit: number, offset = 0): Promise<EpochSummary[]> {
    const { rows } = await this.pool.query<EpochRow>(`SELECT * FROM epochs ORDER BY epoch DESC LIMIT $1 OFFSET $2`, [limit, offset]);
    return rows.map(toSummary);
  }

  async unpublished(): Promise<EpochRecord[]> {
    const { rows } = await this.pool.query<EpochRow>(`SELECT * FROM epochs WHERE status <> 'published' ORDER BY epoch`);
    return rows.map(toEpoch);
  }

  async latestPublished(): Promise<EpochSummary | undefined> {
    const { rows } = await this.pool.query<EpochRow>(`SELECT * FROM epochs WHERE status = 'published' ORDER BY epoch DESC LIMIT 1`);
    return rows[0] && toSummary(rows[0]);
  }

  async leaf(epoch: number, member: string): Promise<ProvenLeaf | undefined> {
    const { rows } = await this.pool.query<EpochRow>('SELECT * FROM epochs WHERE epoch = $1', [epoch]);
    if (!rows[0]) return undefined;
    return provenLeaf(this.trees, toEpoch(rows[0]), member, async (n, account) => {
      const changed = await this.pool.query<LeafRow>(`SELECT ${LEAF_COLUMNS} FROM epoch_leaves WHERE epoch = $1 AND member = $2`, [n, account]);
      return changed.rows[0] && toLeaf(changed.rows[0]);
    });
  }

  async memberLeaves(member: string, limit: number, offset = 0): Promise<(LeafRecord & { status: EpochStatus })[]> {
    const { rows } = await this.pool.query<LeafRow & { status: EpochStatus }>(
      `SELECT l.epoch, l.member, l.epoch_work, l.epoch_reward, l.cumulative_work, l.cumulative_reward, e.status
         FROM epoch_leaves l JOIN epochs e ON e.epoch = l.epoch
        WHERE l.member = $1 ORDER BY l.epoch DESC LIMIT $2 OFFSET $3`,
      [member, limit, offset],
    );
    return rows.map((row) => ({ ...toLeaf(row), status: row.status }));
  }

  auditBundle(epoch: number): AsyncGenerator<string> | undefined {
    return this.auditLines(epoch);
  }

  private async *auditLines(epoch: number): AsyncGenerator<string> {
    const { rows } = await this.pool.query<EpochRow>('SELECT * FROM epochs WHERE epoch = $1', [epoch]);
    if (!rows[0]) throw new Error(`epoch ${epoch} is not closed`);
    yield* auditBundleLines(this.auditSource, toEpoch(rows[0]));
  }

  async bundleHash(epoch: number): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ bundle_hash: string | null }>('SELECT bundle_hash FROM epochs WHERE epoch = $1', [epoch]);
    if (!rows[0]) return undefined;
    if (rows[0].bundle_hash !== null) return rows[0].bundle_hash;
    const hash = await hashBundle(this.auditLines(epoch));
    await this.pool.query('UPDATE epochs SET bundle_hash = $1 WHERE epoch = $2 AND bundle_hash IS NULL', [hash, epoch]);
    return hash;
  }

  /** The epoch's shares carry its number (set at close). Members in byte order, whatever the database's collation. */
  private readonly auditSource: AuditSource = {
    previousLeaves: async (n) => this.compactLeaves(this.pool, n),
    members: async (n, after, limit) =>
      (
        await this.pool.query(
          `SELECT member, epoch_work::text, epoch_reward::text FROM epoch_leaves WHERE epoch = $1 AND member COLLATE "C" > $2 ORDER BY member COLLATE "C" LIMIT $3`,
          [n, after, limit],
        )
      ).rows,
    shares: async (epoch, afterId, limit) =>
      (
        await this.pool.query<ShareRow>(
          `SELECT id::float8 AS id, member, difficulty, work, hash, proof FROM shares WHERE epoch = $1 AND id > $2 ORDER BY id LIMIT $3`,
          [epoch.epoch, afterId, limit],
        )
      ).rows,
    job: async (key) => (await this.pool.query<{ data: string }>('SELECT data FROM jobs WHERE job_key = $1', [key])).rows[0]?.data,
  };

  /** An epoch's compact leaves, read on `db` (the close's transaction, or the pool). */
  private async compactLeaves(db: pg.Pool | pg.PoolClient, epoch: number): Promise<Uint8Array[]> {
    const { rows: epochs } = await db.query<{ leaf_count: number }>('SELECT leaf_count FROM epochs WHERE epoch = $1', [epoch]);
    if (!epochs[0]) throw new Error(`epoch ${epoch} does not exist`);
    const { rows } = await db.query<{ chunk: number; leaves: Buffer }>('SELECT chunk, leaves FROM epoch_tree_chunks WHERE epoch = $1 ORDER BY chunk', [epoch]);
    return checkChunks(epoch, rows, epochs[0].leaf_count);
  }

  /** The epoch's chunks and changed leaves, a small autocommitted statement at a time (invisible until the epoch row commits). */
  private async writeTree(epoch: number, leaves: Uint8Array, changed: string): Promise<void> {
    for (const [i, chunk] of splitIntoChunks(leaves).entries()) {
      await this.pool.query('INSERT INTO epoch_tree_chunks (epoch, chunk, leaves) VALUES ($1, $2, $3)', [epoch, i, asBuffer(chunk)]);
    }
    for (const rows of changedRowBatches(changed, ROWS_PER_STATEMENT)) {
      await this.pool.query(
        `INSERT INTO epoch_leaves (epoch, member, epoch_work, epoch_reward, cumulative_work, cumulative_reward)
         SELECT $1, x.member, x."epochWork"::numeric, x."epochReward"::numeric, x."cumulativeWork"::numeric, x."cumulativeReward"::numeric
           FROM jsonb_to_recordset($2::jsonb) AS x(member text, "epochWork" text, "epochReward" text, "cumulativeWork" text, "cumulativeReward" text)`,
        [epoch, JSON.stringify(rows)],
      );
    }
  }

  /** The epoch row, inside close's transaction: its commit makes the epoch and its shares count. Amounts travel as decimal text. */
  private async insertEpoch(client: pg.PoolClient, epoch: NewEpoch, shares: number, leafCount: number): Promise<void> {
    await client.query(
      `INSERT INTO epochs (epoch, start_ms, end_ms, shares, epoch_work, total_work, reward, reinvested,
                           reinvestment_bps, root, status, created_at_ms, leaf_count)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'built', $11, $12)`,
      [
        epoch.epoch,
        epoch.startMs,
        epoch.endMs,
        shares,
        epoch.epochWork.toString(),
        epoch.totalWork.toString(),
        epoch.reward.toString(),
        epoch.reinvested.toString(),
        epoch.reinvestmentBps,
        epoch.root,
        epoch.createdAtMs,
        leafCount,
      ],
    );
  }
}
