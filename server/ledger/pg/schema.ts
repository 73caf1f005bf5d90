import type { PgMigration } from './migrations.js';

/** The component of the ledger's tables in schema_versions. */
export const LEDGER_COMPONENT = 'ledger';

/**
 * The ledger's tables in the shared PostgreSQL database. Append-only like the SQLite steps: once
 * shipped, a step is never edited; a change is a new step.
 */
export const LEDGER_MIGRATIONS: readonly PgMigration[] = [
  {
    description: 'shares, member and pool totals, blocks, upstream results, live gateways',
    sql: `
      CREATE TABLE shares (
        id              bigserial        PRIMARY KEY,
        share_key       text             NOT NULL UNIQUE,
        member          text             NOT NULL,
        worker          text             NOT NULL,
        session_id      text             NOT NULL,
        job_id          text             NOT NULL,
        -- Credit must be positive: a zero or negative row would silently shrink a member's total.
        difficulty      double precision NOT NULL CHECK (difficulty > 0),
        work            double precision NOT NULL CHECK (work > 0),
        hash            text             NOT NULL,
        accepted_at_ms  bigint           NOT NULL CHECK (accepted_at_ms >= 0),
        -- The instance id of the gateway that accepted it.
        gateway_id      smallint         NOT NULL CHECK (gateway_id BETWEEN 0 AND 255),
        -- The settlement epoch the share was counted in; NULL until an epoch closes over it. Row
        -- ids are not commit-ordered across gateways, so epochs cannot be id ranges as in SQLite:
        -- closing an epoch sets this column on exactly the committed shares that still have NULL.
        epoch           integer          CHECK (epoch >= 1)
      );
      -- member(): recent shares and windowed work of one member.
      CREATE INDEX shares_member_time ON shares (member, accepted_at_ms);
      -- workSince(): pool hash rate.
      CREATE INDEX shares_time ON shares (accepted_at_ms);
      -- Closing an epoch finds the unsettled shares without scanning the settled ones.
      CREATE INDEX shares_unsettled ON shares (id) WHERE epoch IS NULL;

      -- Running totals, so member lookups and pool totals are O(1). Each batch adds its per-member
      -- deltas in the same transaction that inserts its shares: they cannot drift from the rows.
      CREATE TABLE member_totals (
        member             text             PRIMARY KEY,
        work               double precision NOT NULL,
        shares             bigint           NOT NULL,
        first_share_at_ms  bigint           NOT NULL,
        last_share_at_ms   bigint           NOT NULL
      );

      -- One row per gateway (its instance id): the pool totals are their sum. A single row would
      -- serialize the commits of every gateway on its lock. members counts the members a gateway
      -- saw first; each member is first once, so the sum is the number of distinct members.
      CREATE TABLE pool_totals (
        gateway_id  smallint         PRIMARY KEY CHECK (gateway_id BETWEEN 0 AND 255),
        work        double precision NOT NULL,
        shares      bigint           NOT NULL,
        members     bigint           NOT NULL
      );

      -- Keyed by hash: a block is recorded when found and again when its fate is known.
      CREATE TABLE blocks (
        hash         text     PRIMARY KEY,
        height       integer,
        member       text     NOT NULL,
        job_id       text     NOT NULL,
        found_at_ms  bigint   NOT NULL,
        accepted     boolean  NOT NULL,
        reason       text
      );
      CREATE INDEX blocks_member ON blocks (member);

      -- What upstream answered. No foreign key to shares on purpose (see the SQLite schema).
      CREATE TABLE upstream_results (
        id         bigserial PRIMARY KEY,
        share_key  text      NOT NULL,
        hash       text      NOT NULL,
        accepted   boolean   NOT NULL,
        reason     text,
        at_ms      bigint    NOT NULL
      );
      CREATE INDEX upstream_results_share ON upstream_results (share_key);
      CREATE INDEX upstream_results_time ON upstream_results (at_ms);

      -- The gateways sharing this ledger. instance_id partitions the extranonce1 space, so two
      -- live gateways must never have the same one: a gateway registers here at start, refreshes
      -- heartbeat_at (server time) every few seconds, and deletes its row when it stops.
      CREATE TABLE gateways (
        instance_id   smallint     PRIMARY KEY CHECK (instance_id BETWEEN 0 AND 255),
        host          text         NOT NULL,
        pid           integer      NOT NULL,
        started_at    timestamptz  NOT NULL,
        heartbeat_at  timestamptz  NOT NULL
      );
    `,
  },
  {
    description: 'audit bundles: each share keeps its proof, jobs are kept',
    sql: `
      -- As in the SQLite ledger (migrations.ts): the share's ShareProof as JSON, and its job by key.
      ALTER TABLE shares ADD COLUMN proof text;
      -- An epoch's bundle reads its shares in id order. Partial: a share is indexed when its epoch
      -- is set at close, never on the share path (new shares have none).
      CREATE INDEX shares_epoch_id ON shares (epoch, id) WHERE epoch IS NOT NULL;
      CREATE TABLE jobs (
        job_key        text    PRIMARY KEY,
        data           text    NOT NULL,
        created_at_ms  bigint  NOT NULL
      );
    `,
  },
];
