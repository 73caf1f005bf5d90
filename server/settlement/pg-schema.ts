// The settlement's tables in a shared PostgreSQL ledger: migration component 'settlement', run by
// the ledger's runner (schema_versions, one step per transaction under an advisory lock, so
// gateways starting together never both run a step).
import type pg from 'pg';
import type { Logger } from 'pino';
import { migratePg, type PgMigration } from '../ledger/pg/migrations.js';

export const SETTLEMENT_COMPONENT = 'settlement';

/** Migration component 'settlement'. Steps are append-only once shipped. */
export const SETTLEMENT_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    description: 'settlement epochs with their Merkle leaves',
    sql: `
      -- One row per closed epoch; its shares are the rows of shares with this epoch. Amounts are
      -- numeric(78,0): uint256 on-chain, beyond 2^53.
      CREATE TABLE epochs (
        epoch             INTEGER PRIMARY KEY CHECK (epoch >= 1),
        start_ms          BIGINT  NOT NULL,
        end_ms            BIGINT  NOT NULL CHECK (end_ms >= start_ms),
        -- How many share rows the close gave this epoch.
        shares            INTEGER NOT NULL CHECK (shares > 0),
        epoch_work        NUMERIC(78, 0) NOT NULL,
        total_work        NUMERIC(78, 0) NOT NULL,
        reward            NUMERIC(78, 0) NOT NULL,
        reinvested        NUMERIC(78, 0) NOT NULL,
        reinvestment_bps  INTEGER NOT NULL CHECK (reinvestment_bps BETWEEN 0 AND 10000),
        root              TEXT    NOT NULL,
        -- built: stored, not yet seen on-chain; sent: a transaction was sent (tx_hash);
        -- published: the chain holds this root for this epoch.
        status            TEXT    NOT NULL CHECK (status IN ('built', 'sent', 'published')),
        tx_hash           TEXT,
        block_number      BIGINT,
        created_at_ms     BIGINT  NOT NULL,
        published_at_ms   BIGINT
      );
      CREATE INDEX epochs_unpublished ON epochs (epoch) WHERE status <> 'published';

      -- Every member's cumulative leaf in every epoch, with its proof (a JSON array of hex).
      CREATE TABLE epoch_leaves (
        epoch              INTEGER NOT NULL REFERENCES epochs (epoch),
        member             TEXT    NOT NULL,
        epoch_work         NUMERIC(78, 0) NOT NULL,
        epoch_reward       NUMERIC(78, 0) NOT NULL,
        cumulative_work    NUMERIC(78, 0) NOT NULL,
        cumulative_reward  NUMERIC(78, 0) NOT NULL,
        proof              JSONB   NOT NULL,
        PRIMARY KEY (epoch, member)
      );
      CREATE INDEX epoch_leaves_member ON epoch_leaves (member, epoch);
    `,
  },
];


/**
 * Brings the settlement's tables up to date and checks that the ledger's shares carry an epoch
 * (the ledger component's own migration adds it; the settlement never alters the ledger's tables).
 */
export async function preparePgSettlement(pool: pg.Pool, log: Logger, where = 'ledger'): Promise<void> {
  const result = await migratePg(pool, SETTLEMENT_COMPONENT, SETTLEMENT_PG_MIGRATIONS, where);
  if (result.applied.length > 0) log.info(result, 'settlement tables migrated');
  const { rows } = await pool.query(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'shares' AND column_name = 'epoch'`,
  );
  if (rows.length === 0) {
    throw new Error(`${where}: table shares has no column epoch; the PostgreSQL ledger must be opened (and migrated) before the settlement starts`);
  }
}
