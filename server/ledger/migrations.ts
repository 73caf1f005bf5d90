import type Database from 'better-sqlite3';
import { compactEpochTrees } from './compact-epochs.js';

/**
 * Schema migrations for the SQLite ledger, tracked with `PRAGMA user_version`.
 *
 * Step i (0-based) brings the file from version i to version i + 1. Steps are append-only: once a
 * step has shipped it is never edited (files in the field already ran it); a change is a new step.
 * Each step runs in its own IMMEDIATE transaction together with the user_version bump, so a crash
 * mid-migration leaves the file at the previous version, never half-migrated.
 */
export interface Migration {
  description: string;
  sql: string;
  /** What SQL alone cannot do, run after `sql` in the same transaction. */
  run?: (db: Database.Database) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'shares, member and pool totals, blocks, upstream results',
    sql: `
      CREATE TABLE shares (
        id              INTEGER PRIMARY KEY,
        share_key       TEXT    NOT NULL UNIQUE,
        member          TEXT    NOT NULL,
        worker          TEXT    NOT NULL,
        session_id      TEXT    NOT NULL,
        job_id          TEXT    NOT NULL,
        -- Credit must be positive: a zero or negative row would silently shrink a member's total.
        difficulty      REAL    NOT NULL CHECK (difficulty > 0),
        work            REAL    NOT NULL CHECK (work > 0),
        hash            TEXT    NOT NULL,
        accepted_at_ms  INTEGER NOT NULL CHECK (accepted_at_ms >= 0)
      );
      -- member(): recent shares and windowed work of one member.
      CREATE INDEX shares_member_time ON shares (member, accepted_at_ms);
      -- workSince(): pool hash rate.
      CREATE INDEX shares_time ON shares (accepted_at_ms);

      -- Running totals, so member lookups and pool totals are O(1). Maintained by triggers, i.e.
      -- inside the very statement that inserts the share: they cannot drift from the share rows.
      -- A duplicate (ON CONFLICT DO NOTHING) inserts nothing and so fires nothing.
      CREATE TABLE member_totals (
        member             TEXT    PRIMARY KEY,
        work               REAL    NOT NULL,
        shares             INTEGER NOT NULL,
        first_share_at_ms  INTEGER NOT NULL,
        last_share_at_ms   INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE pool_totals (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        work     REAL    NOT NULL,
        shares   INTEGER NOT NULL,
        members  INTEGER NOT NULL
      );
      INSERT INTO pool_totals (id, work, shares, members) VALUES (1, 0, 0, 0);

      CREATE TRIGGER shares_totals AFTER INSERT ON shares
      BEGIN
        -- Count the member before the upsert below creates its row.
        UPDATE pool_totals
           SET work = work + NEW.work,
               shares = shares + 1,
               members = members + NOT EXISTS (SELECT 1 FROM member_totals WHERE member = NEW.member)
         WHERE id = 1;
        INSERT INTO member_totals (member, work, shares, first_share_at_ms, last_share_at_ms)
        VALUES (NEW.member, NEW.work, 1, NEW.accepted_at_ms, NEW.accepted_at_ms)
        ON CONFLICT (member) DO UPDATE SET
          work = work + excluded.work,
          shares = shares + 1,
          first_share_at_ms = min(first_share_at_ms, excluded.first_share_at_ms),
          last_share_at_ms = max(last_share_at_ms, excluded.last_share_at_ms);
      END;

      -- Keyed by hash: a block is recorded when found and again when its fate is known.
      CREATE TABLE blocks (
        hash         TEXT    PRIMARY KEY,
        height       INTEGER,
        member       TEXT    NOT NULL,
        job_id       TEXT    NOT NULL,
        found_at_ms  INTEGER NOT NULL,
        accepted     INTEGER NOT NULL CHECK (accepted IN (0, 1)),
        reason       TEXT
      );
      CREATE INDEX blocks_member ON blocks (member);

      -- An audit trail of what upstream answered. No foreign key to shares on purpose: an answer
      -- must be kept even for a share whose own append failed, and a share may be answered twice
      -- (resubmitted after an upstream reconnect).
      CREATE TABLE upstream_results (
        id         INTEGER PRIMARY KEY,
        share_key  TEXT    NOT NULL,
        hash       TEXT    NOT NULL,
        accepted   INTEGER NOT NULL CHECK (accepted IN (0, 1)),
        reason     TEXT,
        at_ms      INTEGER NOT NULL
      );
      CREATE INDEX upstream_results_share ON upstream_results (share_key);
      CREATE INDEX upstream_results_time ON upstream_results (at_ms);
    `,
  },
  {
    description: 'settlement epochs with their Merkle leaves, and the relayer queue',
    sql: `
      -- One row per closed epoch. An epoch covers the share rows with id in
      -- (first_share_id, last_share_id]: row ids are handed out in commit order by the one writer,
      -- so every committed share falls in exactly one epoch however late in a batch it was
      -- acknowledged. Amounts are decimal TEXT: they are uint256 on-chain and exceed 2^53.
      CREATE TABLE epochs (
        epoch             INTEGER PRIMARY KEY CHECK (epoch >= 1),
        start_ms          INTEGER NOT NULL,
        end_ms            INTEGER NOT NULL CHECK (end_ms >= start_ms),
        first_share_id    INTEGER NOT NULL,
        last_share_id     INTEGER NOT NULL CHECK (last_share_id > first_share_id),
        epoch_work        TEXT    NOT NULL,
        total_work        TEXT    NOT NULL,
        reward            TEXT    NOT NULL,
        reinvested        TEXT    NOT NULL,
        reinvestment_bps  INTEGER NOT NULL CHECK (reinvestment_bps BETWEEN 0 AND 10000),
        root              TEXT    NOT NULL,
        -- built: stored, not yet seen on-chain; sent: a transaction was sent (tx_hash);
        -- published: the chain holds this root for this epoch.
        status            TEXT    NOT NULL CHECK (status IN ('built', 'sent', 'published')),
        tx_hash           TEXT,
        block_number      INTEGER,
        created_at_ms     INTEGER NOT NULL,
        published_at_ms   INTEGER
      );

      -- Every member's cumulative leaf in every epoch, with its proof (JSON array of hex).
      CREATE TABLE epoch_leaves (
        epoch              INTEGER NOT NULL REFERENCES epochs (epoch),
        member             TEXT    NOT NULL,
        epoch_work         TEXT    NOT NULL,
        epoch_reward       TEXT    NOT NULL,
        cumulative_work    TEXT    NOT NULL,
        cumulative_reward  TEXT    NOT NULL,
        proof              TEXT    NOT NULL,
        PRIMARY KEY (epoch, member)
      ) WITHOUT ROWID;
      CREATE INDEX epoch_leaves_member ON epoch_leaves (member, epoch);

      -- Signed requests the relayer submits on-chain (votes, claims, proposals). request_key makes
      -- a request idempotent (a vote: proposal and voter; a claim: account and epoch).
      CREATE TABLE relay_requests (
        id              INTEGER PRIMARY KEY,
        kind            TEXT    NOT NULL CHECK (kind IN ('vote', 'claim', 'proposal')),
        request_key     TEXT    NOT NULL UNIQUE,
        account         TEXT    NOT NULL,
        payload         TEXT    NOT NULL,
        -- queued: waiting for the next batch; sent: in a transaction (tx_hash); confirmed: mined
        -- and effective; failed: refused by the chain (error says why).
        status          TEXT    NOT NULL CHECK (status IN ('queued', 'sent', 'confirmed', 'failed')),
        tx_hash         TEXT,
        error           TEXT,
        created_at_ms   INTEGER NOT NULL,
        updated_at_ms   INTEGER NOT NULL
      );
      CREATE INDEX relay_requests_status ON relay_requests (status, id);
      CREATE INDEX relay_requests_account ON relay_requests (account, id);
    `,
  },
  {
    description: 'compact epoch trees: leaves in chunks, proofs on demand, epoch_leaves only for changed members',
    sql: `
      -- Each epoch's leaves, 84 bytes a leaf in account order (protocol/dao/compact-leaves.ts),
      -- 16,384 leaves a row (server/settlement/tree-chunks.ts); proofs are computed from them on
      -- demand. No foreign key to epochs, on purpose: a close writes these before its epoch row,
      -- which makes them count (rows above the last epoch are a crashed close's, deleted by the next).
      CREATE TABLE epoch_tree_chunks (
        epoch   INTEGER NOT NULL CHECK (epoch >= 1),
        chunk   INTEGER NOT NULL CHECK (chunk >= 0),
        leaves  BLOB    NOT NULL,
        PRIMARY KEY (epoch, chunk)
      );
      -- How many leaves the epoch's tree has (the API's members).
      ALTER TABLE epochs ADD COLUMN leaf_count INTEGER NOT NULL DEFAULT 0;

      -- The leaves that changed in their epoch (the member did work), for a member's history; no
      -- proofs, no foreign key (written before the epoch row, as the chunks are).
      CREATE TABLE epoch_changed_leaves (
        epoch              INTEGER NOT NULL,
        member             TEXT    NOT NULL,
        epoch_work         TEXT    NOT NULL,
        epoch_reward       TEXT    NOT NULL,
        cumulative_work    TEXT    NOT NULL,
        cumulative_reward  TEXT    NOT NULL,
        PRIMARY KEY (epoch, member)
      ) WITHOUT ROWID;
    `,
    run(db) {
      compactEpochTrees(db);
      db.exec(`
        INSERT INTO epoch_changed_leaves (epoch, member, epoch_work, epoch_reward, cumulative_work, cumulative_reward)
        SELECT epoch, member, epoch_work, epoch_reward, cumulative_work, cumulative_reward FROM epoch_leaves
         WHERE epoch_work <> '0' OR epoch_reward <> '0';
        DROP TABLE epoch_leaves;
        ALTER TABLE epoch_changed_leaves RENAME TO epoch_leaves;
        CREATE INDEX epoch_leaves_member ON epoch_leaves (member, epoch);
      `);
    },
  },
  {
    description: 'audit bundles: each share keeps its proof, jobs are kept, each epoch its bundle hash',
    sql: `
      -- JSON of the share's ShareProof (protocol/dao/audit-bundle.ts); NULL for older shares, which
      -- an audit bundle lists as unverifiable.
      ALTER TABLE shares ADD COLUMN proof TEXT;
      -- The jobs shares were mined on, keyed by the hash of their data (ids repeat across gateways
      -- and restarts). Written once per issued job, never read on the share path.
      CREATE TABLE jobs (
        job_key        TEXT    PRIMARY KEY,
        data           TEXT    NOT NULL,
        created_at_ms  INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- sha256 of the epoch's audit bundle, computed at close and published with the root.
      ALTER TABLE epochs ADD COLUMN bundle_hash TEXT;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

export interface MigrationResult {
  fromVersion: number;
  toVersion: number;
  /** Versions reached by the steps applied now, in order; empty when the file was up to date. */
  applied: number[];
}

export class SchemaTooNewError extends Error {
  constructor(
    readonly fileVersion: number,
    readonly knownVersion: number,
    file: string,
  ) {
    super(
      `ledger ${file} has schema version ${fileVersion}, newer than version ${knownVersion} that this ` +
        `gateway knows; refusing to open it (upgrade the gateway, or restore a matching backup)`,
    );
    this.name = 'SchemaTooNewError';
  }
}

function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings `db` to LATEST_SCHEMA_VERSION, or throws SchemaTooNewError without touching it. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): MigrationResult {
  const fromVersion = userVersion(db);
  const latest = migrations.length;
  if (fromVersion > latest) throw new SchemaTooNewError(fromVersion, latest, db.name);
  const applied: number[] = [];
  for (let target = fromVersion + 1; target <= latest; target++) {
    const step = migrations[target - 1]!;
    // IMMEDIATE takes the write lock first; the version is re-read under it, so two processes
    // opening the same file at once cannot both run a step.
    const ran = db
      .transaction(() => {
        const current = userVersion(db);
        if (current >= target) return false;
        db.exec(step.sql);
        step.run?.(db);
        db.pragma(`user_version = ${target}`);
        return true;
      })
      .immediate();
    if (ran) applied.push(target);
  }
  return { fromVersion, toVersion: userVersion(db), applied };
}
