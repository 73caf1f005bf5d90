import Database from 'better-sqlite3';
import type { ItemOutcome } from './group-commit.js';
import type { SqliteConnectionSettings } from './sqlite-connection.js';
import type { LedgerOp } from './sqlite-batch.js';

/**
 * The messages between SqliteLedger (main thread) and its writer thread (sqlite-writer.ts).
 *
 * Errors cross as plain data: structured cloning keeps an Error's message but drops `code` and
 * the SqliteError class, and both matter here: `code` tells an item error (SQLITE_CONSTRAINT_*)
 * from a batch error (SQLITE_BUSY, SQLITE_FULL...), and the message ("database is locked",
 * "database or disk is full") is what /healthz shows.
 */

export interface WriterData extends SqliteConnectionSettings {
  file: string;
}

export type ToWriter =
  | { type: 'batch'; id: number; ops: readonly LedgerOp[] }
  | { type: 'pragma'; id: number; source: string }
  | { type: 'close' };

export type FromWriter =
  | { type: 'ready' }
  /** The connection could not be opened; the thread ends after this message. */
  | { type: 'open-failed'; error: WireError }
  /** Per op: whether it was written (a share: false for a duplicate key), or why it alone was refused. */
  | { type: 'committed'; id: number; results: (boolean | WireError)[] }
  /** The transaction failed as a whole and was rolled back. */
  | { type: 'failed'; id: number; error: WireError }
  | { type: 'pragma-result'; id: number; value: unknown };

export interface WireError {
  name: string;
  message: string;
  code?: string;
}

export function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

/** The error as the in-thread mode would have thrown it: same class, message and code. */
export function fromWire(wire: WireError): Error {
  if (wire.name === 'SqliteError' && wire.code !== undefined) return new Database.SqliteError(wire.message, wire.code);
  if (wire.name === 'TypeError') return new TypeError(wire.message);
  if (wire.name === 'RangeError') return new RangeError(wire.message);
  const error = new Error(wire.message) as Error & { code?: string };
  error.name = wire.name;
  if (wire.code !== undefined) error.code = wire.code;
  return error;
}

export function outcomesToWire(outcomes: readonly ItemOutcome<boolean>[]): (boolean | WireError)[] {
  return outcomes.map((o) => (o.ok ? o.value : toWire(o.error)));
}

export function outcomesFromWire(results: readonly (boolean | WireError)[]): ItemOutcome<boolean>[] {
  return results.map((r) => (typeof r === 'boolean' ? { ok: true, value: r } : { ok: false, error: fromWire(r) }));
}
