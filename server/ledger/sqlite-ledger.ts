import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  checkMemberQuery,
  checkShare,
  DEFAULT_RECENT,
  DEFAULT_WINDOW_MS,
  emptyMemberSummary,
  type BlockRecord,
  type Ledger,
  type MemberQueryOptions,
  type MemberSummary,
  type PoolTotals,
  type ShareRecord,
  type UpstreamResultRecord,
} from './ledger.js';
import { GroupCommit, type GroupCommitStats, type ItemOutcome } from './group-commit.js';
import { migrate, type MigrationResult } from './migrations.js';

/**
 * The single-gateway ledger: one SQLite file in WAL mode, written through group commit.
 *
 * Durability: with synchronous=FULL (the default) WAL mode fsyncs the log on every commit, so a
 * resolved `appendShare` survives a process kill AND a power loss. NORMAL only survives a process
 * kill (the fsync moves to checkpoints); it is offered for benchmarks and throwaway nodes.
 *
 * better-sqlite3 is synchronous: each batch blocks the event loop for one transaction (one fsync),
 * and a writer from another process holding the lock blocks it up to busyTimeoutMs. This ledger is
 * meant to be the only writer of its file.
 */

export interface SqliteLedgerOptions {
  synchronous?: 'FULL' | 'NORMAL';
  /** Largest batch per transaction (default 1000). */
  maxBatch?: number;
  /** How long a write waits for a lock held by another connection before failing (default 5000). */
  busyTimeoutMs?: number;
  logger?: { warn(obj: object, msg: string): void };
}

export interface SqliteLedgerStats extends GroupCommitStats {
  sharesInserted: number;
  duplicateShares: number;
}

type LedgerOp =
  | { kind: 'share'; share: ShareRecord }
  | { kind: 'block'; block: BlockRecord }
  | { kind: 'upstream'; result: UpstreamResultRecord };

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * Errors that concern one record only: SQLite aborts just the failing statement (its trigger work
 * included) and the transaction stays usable, so the rest of the batch can still commit. Anything
 * else (SQLITE_FULL, SQLITE_BUSY, SQLITE_IOERR, SQLITE_CORRUPT...) fails the whole batch.
 */
function isItemError(error: unknown): boolean {
  if (error instanceof Database.SqliteError) return error.code.startsWith('SQLITE_CONSTRAINT');
  // Thrown by better-sqlite3 while binding (a value of the wrong type), before the statement runs.
  return error instanceof TypeError || error instanceof RangeError;
}

/** Prepared once: better-sqlite3 statements are reusable and cheap to run. */
function prepareStatements(db: Database.Database) {
  return {
    insertShare: db.prepare<[ShareRecord]>(
      `INSERT INTO shares (share_key, member, worker, session_id, job_id, difficulty, work, hash, accepted_at_ms)
       VALUES (@shareKey, @member, @worker, @sessionId, @jobId, @difficulty, @work, @hash, @acceptedAtMs)
       ON CONFLICT (share_key) DO NOTHING`,
    ),
    upsertBlock: db.prepare<[Omit<BlockRecord, 'accepted'> & { accepted: 0 | 1 }]>(
      // Recorded when found and again when its fate is known: keep the first sighting, update the fate.
      `INSERT INTO blocks (hash, height, member, job_id, found_at_ms, accepted, reason)
       VALUES (@hash, @height, @member, @jobId, @foundAtMs, @accepted, @reason)
       ON CONFLICT (hash) DO UPDATE SET
         height = coalesce(excluded.height, height), accepted = excluded.accepted, reason = excluded.reason`,
    ),
    insertUpstream: db.prepare<[Omit<UpstreamResultRecord, 'accepted'> & { accepted: 0 | 1 }]>(
      `INSERT INTO upstream_results (share_key, hash, accepted, reason, at_ms)
       VALUES (@shareKey, @hash, @accepted, @reason, @atMs)`,
    ),
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
  private readonly logger: SqliteLedgerOptions['logger'];
  private sharesInserted = 0;
  private duplicateShares = 0;
  private closing: Promise<void> | null = null;
  private readonly stmt: ReturnType<typeof prepareStatements>;

  /** Use openSqliteLedger. `db` is exposed for tests, backups and maintenance, not for writes. */
  constructor(
    readonly db: Database.Database,
    options: SqliteLedgerOptions = {},
  ) {
    this.logger = options.logger;
    const synchronous = options.synchronous ?? 'FULL';
    if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
      throw new RangeError(`synchronous must be FULL or NORMAL, got ${String(synchronous)}`);
    }
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    // Set first, so that switching to WAL and migrating also wait for a lock instead of failing.
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    if (!db.memory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`ledger ${db.name}: could not enable WAL mode (got ${String(mode)})`);
    }
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('foreign_keys = ON');
    this.schema = migrate(db);

    this.stmt = prepareStatements(db);

    // IMMEDIATE takes the write lock at BEGIN, where busy_timeout applies, rather than failing
    // at the first write of a deferred transaction.
    const commitBatch = db.transaction((ops: readonly LedgerOp[]) => ops.map((op) => this.apply(op))).immediate;
    this.queue = new GroupCommit<LedgerOp, boolean>({
      commitBatch: (ops) => {
        const outcomes = commitBatch(ops);
        // Counted after the commit: a rolled-back batch inserted nothing.
        ops.forEach((op, i) => {
          const outcome = outcomes[i];
          if (op.kind !== 'share' || !outcome?.ok) return;
          if (outcome.value) this.sharesInserted++;
          else this.duplicateShares++;
        });
        return outcomes;
      },
      maxBatch: options.maxBatch,
      closedMessage: `ledger ${db.name} is closed; nothing more can be recorded`,
      onBatchError: (err, batchSize) =>
        this.logger?.warn({ err, batchSize }, 'ledger transaction failed; every record of the batch was refused'),
    });
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

  /** Commits what is queued, then closes the file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      try {
        this.queue.close();
      } finally {
        this.db.close();
      }
      resolve();
    });
    return this.closing;
  }

  private assertOpen(): void {
    if (!this.db.open) throw new Error(`ledger ${this.db.name} is closed`);
  }

  /** Runs inside the batch transaction. */
  private apply(op: LedgerOp): ItemOutcome<boolean> {
    try {
      switch (op.kind) {
        case 'share': {
          // ON CONFLICT DO NOTHING: a duplicate changes nothing (trigger rows are not counted).
          return { ok: true, value: this.stmt.insertShare.run(op.share).changes === 1 };
        }
        case 'block':
          this.stmt.upsertBlock.run({ ...op.block, accepted: op.block.accepted ? 1 : 0 });
          return { ok: true, value: true };
        case 'upstream':
          this.stmt.insertUpstream.run({ ...op.result, accepted: op.result.accepted ? 1 : 0 });
          return { ok: true, value: true };
      }
    } catch (error) {
      if (!isItemError(error)) throw error;
      try {
        this.logger?.warn({ err: error, kind: op.kind }, 'ledger refused a record');
      } catch {
        // Logging must not turn one refused record into a failed batch.
      }
      return { ok: false, error };
    }
  }
}
