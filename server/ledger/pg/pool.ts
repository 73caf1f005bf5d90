import pg from 'pg';
import { redact } from '../../config.js';

/**
 * Opens the connection pool of a gateway to the shared PostgreSQL ledger and checks that the
 * server answers. The URL may hold a password: every message names it through redact().
 */

export interface PgPoolOptions {
  /** Names the connections `dao-gateway-<instanceId>` in pg_stat_activity. */
  instanceId: number;
  /** Connections at most (default 10): the ledger's reads, settlement and the API share them (the ledger's batches have one of their own). */
  max?: number;
  /** A statement running longer fails (default 30 s): a stuck query must not hold a batch forever. */
  statementTimeoutMs?: number;
  /** Waiting longer than this for a lock fails the statement (default 5 s, like SQLite's busy timeout). */
  lockTimeoutMs?: number;
  /** Giving up on a connection attempt (default 5 s). */
  connectTimeoutMs?: number;
  logger?: { warn(obj: object, msg: string): void };
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;

export class PgUnavailableError extends Error {
  override readonly name = 'PgUnavailableError';
}

/** Resolves once one connection has been made and answered; rejects with a PgUnavailableError naming the redacted URL. */
export async function openPgPool(url: string, options: PgPoolOptions): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: `dao-gateway-${options.instanceId}`,
    statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    lock_timeout: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    // A transaction left open by a crashed code path must not hold its locks forever.
    idle_in_transaction_session_timeout: 60_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  // An idle connection that dies (server restart, network) emits 'error' on the pool; without a
  // listener that would crash the process. The next query simply opens a new connection.
  pool.on('error', (err) => options.logger?.warn({ err: describePgError(err) }, `an idle connection to the ledger ${redact(url)} failed`));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw new PgUnavailableError(`the PostgreSQL ledger at ${redact(url)} does not answer: ${describePgError(err)}`);
  }
  return pool;
}

/** An error's message with its SQLSTATE, without anything the driver may have copied from the URL. */
export function describePgError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  const text = redactAll(err.message);
  return typeof code === 'string' && code !== '' ? `${text} (${code})` : text;
}

/** Redacts every URL-looking piece of a message. */
function redactAll(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, (m) => redact(m));
}
