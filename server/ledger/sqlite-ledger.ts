import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
} from './ledger.js';
import { migrate, type MigrationResult } from './migrations.js';
import { GroupCommit, type BatchCommitted, type GroupCommitStats, type ItemOutcome } from './group-commit.js';
import { createBatchWriter, type LedgerOp } from './sqlite-batch.js';
import { checkSynchronous, configureConnection, DEFAULT_BUSY_TIMEOUT_MS } from './sqlite-connection.js';
import { SqliteWriterThread } from './sqlite-writer-thread.js';

/**
 * The single-gateway ledger: one SQLite file in WAL mode, written through group commit.
 *
 * Durability: with synchronous=FULL (the default) WAL mode fsyncs the log on every commit, so a
 * resolved `appendShare` survives a process kill AND a power loss. NORMAL only survives a process
 * kill (the fsync moves to checkpoints); it is offered for benchmarks and throwaway nodes.
 *
 * Two connections to the file. Shares, blocks and upstream results are written by a writer thread
 * on a connection of its own (sqlite-writer.ts): better-sqlite3 is synchronous, and a transaction
 * (inserts into random-order indexes, the WAL write, its fsync, the odd checkpoint) would otherwise
 * block the event loop that answers miners. A record's promise settles once the thread's COMMIT
 * returned, so what is acknowledged is committed exactly as before. The main thread's connection
 * (`db`) migrates the file before the thread starts, serves the reads, and carries the settlement
 * and relayer tables; WAL lets it read beside the writer, and its own rare writes wait for the
 * write lock (busy_timeout).
 *
 * The writer thread is the ONLY connection that writes shares. Row ids are handed out under the
 * write lock, so with one share-writing connection they follow commit order, which the settlement
 * relies on (an epoch is the id range after the previous epoch's last share, read in a transaction
 * that holds the write lock). Keep it that way: no other connection may insert shares.
 *
 * A writer from another process holding the lock makes a batch wait up to busyTimeoutMs. This
 * ledger is meant to be the only writer of its file.
 */

export interface SqliteLedgerOptions {
  synchronous?: 'FULL' | 'NORMAL';
  /** Largest batch per transaction (default 1000). */
  maxBatch?: number;
  /** How long a write waits for a lock held by another connection before failing (default 5000). */
  busyTimeoutMs?: number;
  /**
   * Write on a worker thread (default true). False writes on the main thread, blocking the event
   * loop for each transaction: for tests and benchmarks. An in-memory database is always written
   * in-thread (another connection cannot see it).
   */
  writerThread?: boolean;
  logger?: { warn(obj: object, msg: string): void };
}

export interface SqliteLedgerStats extends GroupCommitStats {
  sharesInserted: number;
  duplicateShares: number;
}

/** The reads, prepared once on the main connection (the writes are in sqlite-batch.ts). */
function prepareReads(db: Database.Database) {
  return {
    memberTotals: db.prepare<[string], { work: number; shares: number; firstShareAtMs: number; lastShareAtMs: number }>(
      `SELECT work, shares, first_share_at_ms AS firstShareAtMs, last_share_at_ms AS lastShareAtMs
       FROM member_totals WHERE member = ?`,
    ),
    memberWindowWork: db
      .prepare<[string, number, number], number>(
        `SELECT total(work) FROM shares WHERE member = ? AND accepted_at_ms > ? AND accepted_at_ms <= ?`,
      )
      .pluck(),
    memberRecent: db.prepare<[string, number], ShareRecord>(
      `SELECT member, worker, session_id AS sessionId, job_id AS jobId, difficulty, work, hash,
              accepted_at_ms AS acceptedAtMs, share_key AS shareKey
       FROM shares WHERE member = ? ORDER BY accepted_at_ms DESC, id DESC LIMIT ?`,
    ),
    poolTotals: db.prepare<[], { work: number; shares: number; members: number }>(
      `SELECT work, shares, members FROM pool_totals WHERE id = 1`,
    ),
    blockCount: db.prepare<[], number>(`SELECT count(*) FROM blocks`).pluck(),
    workSince: db.prepare<[number], number>(`SELECT total(work) FROM shares WHERE accepted_at_ms >= ?`).pluck(),
    history: db.prepare<{ from: number; to: number; bucket: number }, HistoryBucketRow>(
      `SELECT CAST((accepted_at_ms - @from) / @bucket AS INTEGER) AS bucket, count(*) AS shares, total(work) AS work
       FROM shares WHERE accepted_at_ms >= @from AND accepted_at_ms < @to GROUP BY 1 ORDER BY 1`,
    ),
  };
}

export function openSqliteLedger(file: string, options: SqliteLedgerOptions = {}): SqliteLedger {
  if (file !== ':memory:' && file !== '') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  try {
    return new SqliteLedger(db, options);
  } catch (error) {
    db.close();
    throw error;
  }
}

export class SqliteLedger implements Ledger {
  /** What opening did to the schema (for logs and tests). */
  readonly schema: MigrationResult;
  private readonly queue: GroupCommit<LedgerOp, boolean>;
  /** Null in the in-thread mode. */
  private readonly writer: SqliteWriterThread | null;
  private readonly logger: SqliteLedgerOptions['logger'];
  private sharesInserted = 0;
  private duplicateShares = 0;
  private closing: Promise<void> | null = null;
  private readonly stmt: ReturnType<typeof prepareReads>;

  /**
   * Use openSqliteLedger. `db` is the main thread's connection, exposed for tests, backups,
   * maintenance and the settlement and relayer tables; never for shares (see above).
   */
  constructor(
    readonly db: Database.Database,
    options: SqliteLedgerOptions = {},
  ) {
    this.logger = options.logger;
    const settings = {
      synchronous: checkSynchronous(options.synchronous ?? 'FULL'),
      busyTimeoutMs: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    };
    configureConnection(db, settings);
    // Before the writer thread opens the file: it expects the latest schema.
    this.schema = migrate(db);
    this.stmt = prepareReads(db);

    const inThread = options.writerThread === false || db.memory ? createBatchWriter(db) : null;
    // The next batch goes to the thread as soon as the previous one is answered, never after a
    // pause. A 5 ms minimum interval between batches (to make them larger) was tried: under load
    // its timer fires a loop turn late while the writer sits idle, and at 20,000 connections and
    // 5,000 shares/s the ack p50 went from 11 to 31 ms and the p99 from 0.48 to 1.1 s.
    this.queue = new GroupCommit<LedgerOp, boolean>({
      commitBatch: async (ops) => {
        const outcomes = this.writer ? await this.writer.commit(ops) : inThread!(ops);
        this.countAndLog(ops, outcomes);
        return outcomes;
      },
      maxBatch: options.maxBatch,
      closedMessage: `ledger ${db.name} is closed; nothing more can be recorded`,
      onBatchError: (err, batchSize) =>
        this.logger?.warn({ err, batchSize }, 'ledger transaction failed; every record of the batch was refused'),
    });
    // Last: nothing after it can throw and leave a thread behind.
    this.writer = inThread
      ? null
      : new SqliteWriterThread({ file: path.resolve(db.name), ...settings }, (err) =>
          this.logger?.warn({ err }, 'ledger writer thread stopped; the next batch starts a new one'),
        );
  }

  /**
   * Resolves once the writer thread has opened its connection (at once in-thread); rejects with
   * why it could not, so that a gateway can refuse to start rather than refuse every share.
   */
  async ready(): Promise<void> {
    await this.writer?.ready();
  }

  /**
   * Runs a PRAGMA on the connection that writes the records: per-connection settings such as
   * max_page_count set on `db` do not reach the writer thread. For tests and maintenance.
   */
  async writerPragma(source: string): Promise<unknown> {
    this.assertOpen();
    return this.writer ? this.writer.pragma(source) : this.db.pragma(source);
  }

  observeCommits(observer: (batch: BatchCommitted) => void): void {
    this.queue.observe(observer);
  }

  get stats(): SqliteLedgerStats {
    return { ...this.queue.stats, sharesInserted: this.sharesInserted, duplicateShares: this.duplicateShares };
  }

  /** Resolves true once the share is durable, false if its shareKey was already recorded. */
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

  /**
   * Reads see committed data only: records still queued are not counted yet. The work is done
   * synchronously (better-sqlite3); the promise only matches the Ledger interface, and an error
   * (bad options, a closed file) becomes a rejection.
   */
  async member(
    member: string,
    { recent = DEFAULT_RECENT, windowMs = DEFAULT_WINDOW_MS, nowMs = Date.now() }: MemberQueryOptions = {},
  ): Promise<MemberSummary> {
    this.assertOpen();
    checkMemberQuery(recent, windowMs);
    const totals = this.stmt.memberTotals.get(member);
    if (totals === undefined) return emptyMemberSummary(member);
    // The window is (nowMs - windowMs, nowMs]: exactly windowMs long, and includes a share
    // accepted in the very millisecond of the query.
    const windowWork = this.stmt.memberWindowWork.get(member, nowMs - windowMs, nowMs) ?? 0;
    return {
      member,
      ...totals,
      hashesPerSecond: windowWork / (windowMs / 1000),
      recent: recent === 0 ? [] : this.stmt.memberRecent.all(member, recent),
    };
  }

  async totals(): Promise<PoolTotals> {
    this.assertOpen();
    const pool = this.stmt.poolTotals.get()!;
    return { shares: pool.shares, work: pool.work, members: pool.members, blocks: this.stmt.blockCount.get() ?? 0 };
  }

  async workSince(sinceMs: number): Promise<number> {
    this.assertOpen();
    return this.stmt.workSince.get(sinceMs) ?? 0;
  }

  async history(fromMs: number, toMs: number, bucketMs: number): Promise<HistoryBucketRow[]> {
    this.assertOpen();
    checkHistoryRange(fromMs, toMs, bucketMs);
    return this.stmt.history.all({ from: fromMs, to: toMs, bucket: bucketMs });
  }

  /** Commits what is queued, then stops the writer thread, then closes the file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.queue.close();
        await this.writer?.close();
      } finally {
        this.db.close();
      }
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (!this.db.open) throw new Error(`ledger ${this.db.name} is closed`);
  }

  /** After the commit: a rolled-back batch inserted nothing and refused nothing on its own. */
  private countAndLog(ops: readonly LedgerOp[], outcomes: readonly ItemOutcome<boolean>[]): void {
    ops.forEach((op, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) return;
      if (!outcome.ok) {
        try {
          this.logger?.warn({ err: outcome.error, kind: op.kind }, 'ledger refused a record');
        } catch {
          // Logging must not turn one refused record into a failed batch.
        }
      } else if (op.kind === 'share') {
        if (outcome.value) this.sharesInserted++;
        else this.duplicateShares++;
      }
    });
  }
}
