// The settlement's tables in a shared PostgreSQL ledger: migration component 'settlement', run by
// the ledger's runner (schema_versions, one step per transaction under an advisory lock, so
// gateways starting together never both run a step).
import type pg from 'pg';
import type { Logger } from 'pino';
import { migratePg, type PgMigration } from '../ledger/pg/migrations.js';
import { chunksOfLeafRows } from './tree-chunks.js';

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
  {
    description: 'compact epoch trees: leaves in chunks, proofs on demand, epoch_leaves only for changed members',
    sql: `
      -- Each epoch's leaves, 84 bytes a leaf in account order (protocol/dao/compact-leaves.ts),
      -- 16,384 leaves a row (tree-chunks.ts); proofs are computed from them on demand. No foreign
      -- key to epochs, on purpose: a close writes these before its epoch row, which makes them
      -- count (rows above the last epoch are a crashed close's, deleted by the next close).
      CREATE TABLE epoch_tree_chunks (
        epoch   INTEGER NOT NULL CHECK (epoch >= 1),
        chunk   INTEGER NOT NULL CHECK (chunk >= 0),
        leaves  BYTEA   NOT NULL,
        PRIMARY KEY (epoch, chunk)
      );
      -- How many leaves the epoch's tree has (the API's members).
      ALTER TABLE epochs ADD COLUMN leaf_count INTEGER NOT NULL DEFAULT 0;
      -- epoch_leaves now keeps only the leaves that changed in their epoch, without proofs, and is
      -- written before the epoch row as the chunks are.
      ALTER TABLE epoch_leaves DROP CONSTRAINT epoch_leaves_epoch_fkey;
    `,
    async run(client) {
      // The epochs closed before this step: their leaves become chunks, so their proofs are still served.
      const { rows: epochs } = await client.query<{ epoch: number }>('SELECT epoch FROM epochs ORDER BY epoch');
      for (const { epoch } of epochs) {
        const { rows } = await client.query<{ member: string; cumulative_work: string; cumulative_reward: string }>(
          'SELECT member, cumulative_work::text, cumulative_reward::text FROM epoch_leaves WHERE epoch = $1',
          [epoch],
        );
        for (const [i, chunk] of chunksOfLeafRows(rows).entries()) {
          await client.query('INSERT INTO epoch_tree_chunks (epoch, chunk, leaves) VALUES ($1, $2, $3)', [epoch, i, chunk]);
        }
        await client.query('UPDATE epochs SET leaf_count = $1 WHERE epoch = $2', [rows.length, epoch]);
      }
      await client.query(`DELETE FROM epoch_leaves WHERE epoch_work = 0 AND epoch_reward = 0`);
      await client.query(`ALTER TABLE epoch_leaves DROP COLUMN proof`);
    },
  },
  {
    description: 'audit bundles: each epoch keeps the sha256 of its bundle',
    sql: `
      -- Computed at close and published with the root (as epochs.bundle_hash in the SQLite ledger).
      ALTER TABLE epochs ADD COLUMN bundle_hash text;
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
