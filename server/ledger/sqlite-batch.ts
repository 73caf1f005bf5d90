import Database from 'better-sqlite3';
import type { ItemOutcome } from './group-commit.js';
import type { BlockRecord, JobRecord, ShareRecord, UpstreamResultRecord } from './ledger.js';

/**
 * How one batch of ledger records is written to the SQLite file: one IMMEDIATE transaction, one
 * statement per record. The one copy of this logic, run by the writer thread (sqlite-writer.ts) and
 * by the in-thread mode of SqliteLedger alike.
 */

export type LedgerOp =
  | { kind: 'share'; share: ShareRecord }
  | { kind: 'block'; block: BlockRecord }
  | { kind: 'job'; job: JobRecord }
  | { kind: 'upstream'; result: UpstreamResultRecord };

/** Per record: true if written, false for a share whose shareKey was already recorded. */
export type BatchWriter = (ops: readonly LedgerOp[]) => ItemOutcome<boolean>[];

/**
 * Errors that concern one record only: SQLite aborts just the failing statement (its trigger work
 * included) and the transaction stays usable, so the rest of the batch can still commit. Anything
 * else (SQLITE_FULL, SQLITE_BUSY, SQLITE_IOERR, SQLITE_CORRUPT...) fails the whole batch.
 */
export function isItemError(error: unknown): boolean {
  if (error instanceof Database.SqliteError) return error.code.startsWith('SQLITE_CONSTRAINT');
  // Thrown by better-sqlite3 while binding (a value of the wrong type), before the statement runs.
  return error instanceof TypeError || error instanceof RangeError;
}

/** Prepared once: better-sqlite3 statements are reusable and cheap to run. */
function prepareWrites(db: Database.Database) {
  return {
    insertShare: db.prepare<[Omit<ShareRecord, 'proof'> & { proof: string | null }]>(
      `INSERT INTO shares (share_key, member, worker, session_id, job_id, difficulty, work, hash, accepted_at_ms, proof)
       VALUES (@shareKey, @member, @worker, @sessionId, @jobId, @difficulty, @work, @hash, @acceptedAtMs, @proof)
       ON CONFLICT (share_key) DO NOTHING`,
    ),
    upsertBlock: db.prepare<[Omit<BlockRecord, 'accepted'> & { accepted: 0 | 1 }]>(
      // Recorded when found and again when its fate is known: keep the first sighting, update the fate.
      `INSERT INTO blocks (hash, height, member, job_id, found_at_ms, accepted, reason)
       VALUES (@hash, @height, @member, @jobId, @foundAtMs, @accepted, @reason)
       ON CONFLICT (hash) DO UPDATE SET
         height = coalesce(excluded.height, height), accepted = excluded.accepted, reason = excluded.reason`,
    ),
    insertJob: db.prepare<[JobRecord]>(
      `INSERT INTO jobs (job_key, data, created_at_ms) VALUES (@key, @data, @createdAtMs) ON CONFLICT (job_key) DO NOTHING`,
    ),
    insertUpstream: db.prepare<[Omit<UpstreamResultRecord, 'accepted'> & { accepted: 0 | 1 }]>(
      `INSERT INTO upstream_results (share_key, hash, accepted, reason, at_ms)
       VALUES (@shareKey, @hash, @accepted, @reason, @atMs)`,
    ),
  };
}

/**
 * A function that writes a batch on `db`, which must already be migrated. It throws (after the
 * rollback) when the batch failed as a whole, and otherwise returns one outcome per op, in order.
 */
export function createBatchWriter(db: Database.Database): BatchWriter {
  const stmt = prepareWrites(db);

  const apply = (op: LedgerOp): ItemOutcome<boolean> => {
    try {
      switch (op.kind) {
        case 'share':
          // ON CONFLICT DO NOTHING: a duplicate changes nothing (trigger rows are not counted).
          return { ok: true, value: stmt.insertShare.run({ ...op.share, proof: op.share.proof ?? null }).changes === 1 };
        case 'job':
          stmt.insertJob.run(op.job);
          return { ok: true, value: true };
        case 'block':
          stmt.upsertBlock.run({ ...op.block, accepted: op.block.accepted ? 1 : 0 });
          return { ok: true, value: true };
        case 'upstream':
          stmt.insertUpstream.run({ ...op.result, accepted: op.result.accepted ? 1 : 0 });
          return { ok: true, value: true };
      }
    } catch (error) {
      if (!isItemError(error)) throw error;
      return { ok: false, error };
    }
  };

  // IMMEDIATE takes the write lock at BEGIN, where busy_timeout applies, rather than failing
  // at the first write of a deferred transaction.
  return db.transaction((ops: readonly LedgerOp[]) => ops.map(apply)).immediate;
}
