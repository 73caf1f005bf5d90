import type pg from 'pg';

/**
 * Schema migrations of the shared PostgreSQL ledger. Each component (the ledger, settlement, the
 * relayer...) has its own ordered, append-only list of steps and its version in
 * `schema_versions`. Step i (0-based) brings the component from version i to i + 1.
 *
 * Every step runs in its own transaction together with its version bump, under a transaction-level
 * advisory lock: gateways starting together serialize here, and the second one re-reads the version
 * under the lock and skips what the first already did. A crash mid-step rolls the step back whole.
 */

export interface PgMigration {
  description: string;
  sql: string;
  /** What SQL alone cannot do, run after `sql` in the same transaction. */
  run?: (client: pg.PoolClient) => Promise<void>;
}

export interface PgMigrationResult {
  component: string;
  fromVersion: number;
  toVersion: number;
  /** Versions reached by the steps applied now, in order; empty when the schema was up to date. */
  applied: number[];
}

/** The key of pg_advisory_xact_lock for every migration of every component (any constant will do; this is "daomigr" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x64616f6d696772n;

export class PgSchemaTooNewError extends Error {
  override readonly name = 'PgSchemaTooNewError';
  constructor(
    readonly component: string,
    readonly databaseVersion: number,
    readonly knownVersion: number,
    where: string,
  ) {
    super(
      `${where}: the ${component} schema is at version ${databaseVersion}, newer than version ${knownVersion} that this ` +
        `gateway knows; refusing to use it (upgrade the gateway, or restore a matching backup)`,
    );
  }
}

/**
 * Brings `component` to version steps.length, or throws PgSchemaTooNewError without touching
 * anything. `where` names the database in messages (a redacted URL).
 */
export async function migratePg(pool: pg.Pool, component: string, steps: readonly PgMigration[], where = 'ledger'): Promise<PgMigrationResult> {
  const latest = steps.length;
  const applied: number[] = [];
  let fromVersion: number | undefined;
  let toVersion = 0;
  const client = await pool.connect();
  let broken: Error | undefined;
  // A connection dying between statements is emitted: listen, or the process would crash.
  const onError = (err: Error) => void (broken = err);
  client.on('error', onError);
  try {
    // One transaction per step; the first pass also learns the starting version.
    for (let target = 1; ; target++) {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
        await client.query('CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INT NOT NULL CHECK (version >= 0))');
        const current = await readVersion(client, component);
        fromVersion ??= current;
        if (current > latest) throw new PgSchemaTooNewError(component, current, latest, where);
        if (target > latest || current >= target) {
          toVersion = current;
          await client.query('COMMIT');
          if (current >= latest) break;
          continue;
        }
        await client.query(steps[target - 1]!.sql);
        await steps[target - 1]!.run?.(client);
        await client.query(
          `INSERT INTO schema_versions (component, version) VALUES ($1, $2)
           ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
          [component, target],
        );
        await client.query('COMMIT');
        applied.push(target);
        toVersion = target;
        if (target >= latest) break;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => void (broken ??= rollbackErr));
        throw err;
      }
    }
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
  return { component, fromVersion: fromVersion ?? 0, toVersion, applied };
}

async function readVersion(client: pg.PoolClient, component: string): Promise<number> {
  const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_versions WHERE component = $1', [component]);
  return rows[0]?.version ?? 0;
}
