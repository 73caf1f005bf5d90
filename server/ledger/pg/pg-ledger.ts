import type pg from 'pg';
import { redact } from '../../config.js';
import {
  checkMemberQuery,
  checkHistoryRange,
  checkShare,
  DEFAULT_RECENT,
  DEFAULT_WINDOW_MS,
  emptyMemberSummary,
  type BlockRecord,
  type HistoryBucketRow,
  type JobRecord,
  type Ledger,
  type MemberQueryOptions,
  type MemberSummary,
  type PoolTotals,
  type ShareRecord,
  type UpstreamResultRecord,
} from '../ledger.js';
import { GroupCommit, type BatchCommitted, type GroupCommitStats, type ItemOutcome } from '../group-commit.js';
import { migratePg, type PgMigrationResult } from './migrations.js';
import { openPgPool, type PgPoolOptions } from './pool.js';
import { LEDGER_COMPONENT, LEDGER_MIGRATIONS } from './schema.js';
import { BATCH_SQL, isItemError, MEMBER_SQL, toMsBound, TOTALS_SQL, WORK_SINCE_SQL, HISTORY_SQL } from './statements.js';

/**
 * The ledger several gateways share: one PostgreSQL database, written through group commit.
 *
 * Durability: a batch's promises resolve after its COMMIT returned, i.e. (with the server's default
 * synchronous_commit = on) after the server flushed its WAL. A batch that fails in any way (lock
 * timeout, connection lost, even during COMMIT) rejects every item, so an acknowledged share is
 * always durable, while a refused one may or may not have been written (harmless: the miner was
 * told no, and its shareKey keeps it from being counted twice if it comes back).
 *
 * Every gateway writes its own shares (the instance id partitions the extranonce space, and so
 * the share keys), adds its per-member deltas to member_totals in the same transaction (members
 * locked in sorted order, so two gateways' batches never deadlock), and keeps its own row of
 * pool_totals. Reads see what every gateway committed.
 */

export interface PgLedgerOptions extends Omit<PgPoolOptions, 'logger'> {
  /** Largest batch per transaction (default 1000). */
  maxBatch?: number;
  logger?: { warn(obj: object, msg: string): void };
}

export interface PgLedgerStats extends GroupCommitStats {
  sharesInserted: number;
  duplicateShares: number;
}

type LedgerOp =
  | { kind: 'share'; share: ShareRecord }
  | { kind: 'block'; block: BlockRecord }
  | { kind: 'job'; job: JobRecord }
  | { kind: 'upstream'; result: UpstreamResultRecord };

/** Connects, brings the ledger's tables up to date, and returns the ledger; the URL may hold a password (never logged as is). */
export async function openPgLedger(url: string, options: PgLedgerOptions): Promise<PgLedger> {
  const label = redact(url);
  const pool = await openPgPool(url, options);
  let writer: pg.Pool | undefined;
  try {
    const schema = await migratePg(pool, LEDGER_COMPONENT, LEDGER_MIGRATIONS, `ledger ${label}`);
    // One batch is in flight at a time (GroupCommit), so one connection; of its own, so that reads,
    // settlement and the API holding every pooled connection cannot hold up share commits.
    writer = await openPgPool(url, { ...options, max: 1 });
    return new PgLedger(pool, writer, schema, label, options);
  } catch (err) {
    await pool.end().catch(() => {});
    await writer?.end().catch(() => {});
    throw err;
  }
}

export class PgLedger implements Ledger {
  private readonly queue: GroupCommit<LedgerOp, boolean>;
  private readonly instanceId: number;
  private readonly logger: PgLedgerOptions['logger'];
  private sharesInserted = 0;
  private duplicateShares = 0;
  private closing: Promise<void> | null = null;

  /**
   * Use openPgLedger. `pool` serves the reads and is shared with settlement and the relayer (their
   * own tables); `writer` is the batches' own connection.
   */
  constructor(
    readonly pool: pg.Pool,
    private readonly writer: pg.Pool,
    /** What opening did to the schema (for logs and tests). */
    readonly schema: PgMigrationResult,
    /** The database's URL without its password, for messages. */
    readonly label: string,
    options: PgLedgerOptions,
  ) {
    this.instanceId = options.instanceId;
    this.logger = options.logger;
    this.queue = new GroupCommit<LedgerOp, boolean>({
      commitBatch: (ops) => this.commitBatch(ops),
      maxBatch: options.maxBatch,
      closedMessage: `ledger ${label} is closed; nothing more can be recorded`,
      onBatchError: (err, batchSize) =>
        this.logger?.warn({ err, batchSize }, 'ledger transaction failed; every record of the batch was refused'),
    });
  }

  observeCommits(observer: (batch: BatchCommitted) => void): void {
    this.queue.observe(observer);
  }

  get stats(): PgLedgerStats {
    return { ...this.queue.stats, sharesInserted: this.sharesInserted, duplicateShares: this.duplicateShares };
  }

  /** Resolves true once the share is committed, false if its shareKey was already recorded (by any gateway). */
  appendShare(share: ShareRecord): Promise<boolean> {
    try {
      checkShare(share);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.queue.submit({ kind: 'share', share });
  }

  async recordBlock(block: BlockRecord): Promise<void> {
    await this.queue.submit({ kind: 'block', block });
  }

  async recordJob(job: JobRecord): Promise<void> {
    await this.queue.submit({ kind: 'job', job });
  }

  async recordUpstreamResult(result: UpstreamResultRecord): Promise<void> {
    await this.queue.submit({ kind: 'upstream', result });
  }

  /** Committed data of every gateway, read in one statement (one snapshot). */
  async member(
    member: string,
    { recent = DEFAULT_RECENT, windowMs = DEFAULT_WINDOW_MS, nowMs = Date.now() }: MemberQueryOptions = {},
  ): Promise<MemberSummary> {
    this.assertOpen();
    checkMemberQuery(recent, windowMs);
    // The window is (nowMs - windowMs, nowMs], as in the SQLite ledger.
    const { rows } = await this.pool.query<{
      work: number;
      shares: number;
      first_ms: number;
      last_ms: number;
      window_work: number;
      recent: ShareRecord[];
    }>(MEMBER_SQL, [member, toMsBound(nowMs - windowMs, 'floor'), toMsBound(nowMs, 'floor'), recent]);
    const row = rows[0];
    if (row === undefined) return emptyMemberSummary(member);
    return {
      member,
      work: row.work,
      shares: row.shares,
      firstShareAtMs: row.first_ms,
      lastShareAtMs: row.last_ms,
      hashesPerSecond: row.window_work / (windowMs / 1000),
      recent: row.recent,
    };
  }

  async totals(): Promise<PoolTotals> {
    this.assertOpen();
    const { rows } = await this.pool.query<PoolTotals>(TOTALS_SQL);
    return rows[0]!;
  }

  async workSince(sinceMs: number): Promise<number> {
    this.assertOpen();
    const { rows } = await this.pool.query<{ work: number }>(WORK_SINCE_SQL, [toMsBound(sinceMs, 'ceil')]);
    return rows[0]!.work;
  }

  async history(fromMs: number, toMs: number, bucketMs: number): Promise<HistoryBucketRow[]> {
    this.assertOpen();
    checkHistoryRange(fromMs, toMs, bucketMs);
    const { rows } = await this.pool.query<HistoryBucketRow>(HISTORY_SQL, [fromMs, toMs, bucketMs]);
    return rows;
  }

  /** Commits what is queued, then closes both pools. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.queue.close();
      } finally {
        await Promise.all([this.pool.end(), this.writer.end()]);
      }
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== null) throw new Error(`ledger ${this.label} is closed`);
  }

  /**
   * One transaction for the whole batch. If the database refuses one record's data (a CHECK, a
   * NUL byte in a text...), the statement and so the transaction fail: then the batch is replayed
   * record by record, each under a savepoint, so that only the bad record is refused, as SQLite
   * refuses one statement. Any other error fails the batch.
   */
  private async commitBatch(ops: readonly LedgerOp[]): Promise<ItemOutcome<boolean>[]> {
    const client = await this.writer.connect();
    let broken: Error | undefined;
    // The connection dying between two statements is emitted, not thrown: without a listener it
    // would crash the process. The next statement then fails, and the batch with it.
    const onError = (err: Error) => void (broken = err);
    client.on('error', onError);
    const rollback = () => client.query('ROLLBACK').then(() => undefined, (err: Error) => void (broken ??= err));
    try {
      let firstError: unknown;
      try {
        await client.query('BEGIN');
        const outcomes = await this.apply(client, ops);
        await client.query('COMMIT');
        this.count(ops, outcomes);
        return outcomes.map((value) => ({ ok: true, value }));
      } catch (err) {
        await rollback();
        if (broken || !isItemError(err)) throw err;
        firstError = err;
      }
      if (ops.length === 1) {
        this.warnRefused(firstError, ops[0]!);
        return [{ ok: false, error: firstError }];
      }
      const outcomes: ItemOutcome<boolean>[] = [];
      try {
        await client.query('BEGIN');
        for (const op of ops) {
          await client.query('SAVEPOINT record');
          try {
            const [value] = await this.apply(client, [op]);
            await client.query('RELEASE SAVEPOINT record');
            outcomes.push({ ok: true, value: value! });
          } catch (err) {
            if (!isItemError(err)) throw err;
            await client.query('ROLLBACK TO SAVEPOINT record');
            this.warnRefused(err, op);
            outcomes.push({ ok: false, error: err });
          }
        }
        await client.query('COMMIT');
      } catch (err) {
        await rollback();
        throw err;
      }
      this.count(ops, outcomes.map((o) => (o.ok ? o.value : undefined)));
      return outcomes;
    } finally {
      client.off('error', onError);
      // A connection whose state is unknown (dead, or a failed ROLLBACK) is destroyed, not reused.
      client.release(broken);
    }
  }

  /** Writes `ops` inside the open transaction; for each op, whether it was new (shares) or true. */
  private async apply(client: pg.PoolClient, ops: readonly LedgerOp[]): Promise<boolean[]> {
    const shares: ShareRecord[] = [];
    const firstOfKey = new Set<string>();
    const upstream: UpstreamResultRecord[] = [];
    for (const op of ops) {
      // A key twice in one batch: only its first record goes to the database, the rest are duplicates.
      if (op.kind === 'share' && !firstOfKey.has(op.share.shareKey)) {
        firstOfKey.add(op.share.shareKey);
        shares.push(op.share);
      } else if (op.kind === 'upstream') {
        upstream.push(op.result);
      }
    }
    const inserted = new Set<string>();
    if (shares.length > 0) {
      const { rows } = await client.query<{ share_key: string }>(BATCH_SQL.shares, [
        shares.map((s) => s.shareKey),
        shares.map((s) => s.member),
        shares.map((s) => s.worker),
        shares.map((s) => s.sessionId),
        shares.map((s) => s.jobId),
        shares.map((s) => s.difficulty),
        shares.map((s) => s.work),
        shares.map((s) => s.hash),
        shares.map((s) => s.acceptedAtMs),
        this.instanceId,
        shares.map((s) => s.proof ?? null),
      ]);
      for (const row of rows) inserted.add(row.share_key);
    }
    for (const op of ops) {
      if (op.kind === 'job') await client.query(BATCH_SQL.job, [op.job.key, op.job.data, op.job.createdAtMs]);
      if (op.kind !== 'block') continue;
      const b = op.block;
      await client.query(BATCH_SQL.block, [b.hash, b.height, b.member, b.jobId, b.foundAtMs, b.accepted, b.reason]);
    }
    if (upstream.length > 0) {
      await client.query(BATCH_SQL.upstream, [
        upstream.map((u) => u.shareKey),
        upstream.map((u) => u.hash),
        upstream.map((u) => u.accepted),
        upstream.map((u) => u.reason),
        upstream.map((u) => u.atMs),
      ]);
    }
    return ops.map((op) => {
      if (op.kind !== 'share') return true;
      // delete: the first record of a key takes the "new", a repeat of it in the batch does not.
      return inserted.delete(op.share.shareKey);
    });
  }

  /** Counted after the commit: a rolled-back batch inserted nothing. */
  private count(ops: readonly LedgerOp[], outcomes: readonly (boolean | undefined)[]): void {
    ops.forEach((op, i) => {
      const value = outcomes[i];
      if (op.kind !== 'share' || value === undefined) return;
      if (value) this.sharesInserted++;
      else this.duplicateShares++;
    });
  }

  private warnRefused(err: unknown, op: LedgerOp): void {
    try {
      this.logger?.warn({ err, kind: op.kind }, 'ledger refused a record');
    } catch {
      // Logging must not turn one refused record into a failed batch.
    }
  }
}
