import type Database from 'better-sqlite3';

/**
 * The settings every connection to a ledger file gets: the main thread's (migrations, reads, the
 * settlement and relayer tables) and the writer thread's (shares, blocks, upstream results). Both
 * must agree, or a share acknowledged by one would be less durable than the configuration says.
 */

export type SqliteSynchronous = 'FULL' | 'NORMAL';

export interface SqliteConnectionSettings {
  synchronous: SqliteSynchronous;
  /** How long a statement waits for a lock held by another connection before SQLITE_BUSY. */
  busyTimeoutMs: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export function checkSynchronous(value: unknown): SqliteSynchronous {
  if (value !== 'FULL' && value !== 'NORMAL') throw new RangeError(`synchronous must be FULL or NORMAL, got ${String(value)}`);
  return value;
}

export function configureConnection(db: Database.Database, settings: SqliteConnectionSettings): void {
  // Set first, so that switching to WAL and migrating also wait for a lock instead of failing.
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(settings.busyTimeoutMs))}`);
  if (!db.memory) {
    // Persistent in the file: a no-op for the second connection, kept so that either may open first.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new Error(`ledger ${db.name}: could not enable WAL mode (got ${String(mode)})`);
  }
  // Per connection: the one that commits decides whether its commit waits for an fsync.
  db.pragma(`synchronous = ${checkSynchronous(settings.synchronous)}`);
  db.pragma('foreign_keys = ON');
}
