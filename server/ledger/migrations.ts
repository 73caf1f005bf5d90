import type Database from 'better-sqlite3';

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
        db.pragma(`user_version = ${target}`);
        return true;
      })
      .immediate();
    if (ran) applied.push(target);
  }
  return { fromVersion, toVersion: userVersion(db), applied };
}
