// The SQLite ledger: the behaviour every ledger shares (test/helpers/ledger-cases.ts, also run
// against PostgreSQL by test/pg-ledger.test.ts), then what only the SQLite file has: WAL, its
// migrations, a full disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { openSqliteLedger, type SqliteLedger, type SqliteLedgerOptions } from '../server/ledger/sqlite-ledger.js';
import { LATEST_SCHEMA_VERSION, migrate, SchemaTooNewError, type Migration } from '../server/ledger/migrations.js';
import { ALICE, ledgerCases, share, type LedgerInspector, type LedgerKind } from './helpers/ledger-cases.js';

/** A fresh directory per test, removed afterwards. */
function tempFile(t: TestContext, name = 'ledger.sqlite'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, name);
}

function open(t: TestContext, file: string, options?: SqliteLedgerOptions): SqliteLedger {
  const ledger = openSqliteLedger(file, options);
  t.after(() => ledger.close());
  return ledger;
}

function count(db: Database.Database, sql: string, ...params: unknown[]): number {
  return db.prepare(sql).pluck().get(...params) as number;
}

/** member_totals and pool_totals must equal what the share rows say. */
function assertTotalsConsistent(db: Database.Database): void {
  const fromRows = db
    .prepare(
      `SELECT member, total(work) AS work, count(*) AS shares, min(accepted_at_ms) AS firstShareAtMs,
              max(accepted_at_ms) AS lastShareAtMs FROM shares GROUP BY member ORDER BY member`,
    )
    .all();
  const kept = db
    .prepare(
      `SELECT member, work, shares, first_share_at_ms AS firstShareAtMs, last_share_at_ms AS lastShareAtMs
       FROM member_totals ORDER BY member`,
    )
    .all();
  assert.deepEqual(kept, fromRows);
  const pool = db.prepare('SELECT work, shares, members FROM pool_totals').get();
  assert.deepEqual(pool, {
    work: count(db, 'SELECT total(work) FROM shares'),
    shares: count(db, 'SELECT count(*) FROM shares'),
    members: count(db, 'SELECT count(DISTINCT member) FROM shares'),
  });
}

/** Reads the file on a connection of its own, opened at first use. */
function inspectFile(t: TestContext, file: string): LedgerInspector {
  let db: Database.Database | undefined;
  const conn = () => {
    if (!db) {
      db = new Database(file);
      t.after(() => db!.close());
    }
    return db;
  };
  return {
    countShares: async (prefix = '') => count(conn(), "SELECT count(*) FROM shares WHERE substr(share_key, 1, ?) = ?", prefix.length, prefix),
    keyCounts: async (keys) => {
      const one = conn().prepare('SELECT count(*) FROM shares WHERE share_key = ?').pluck();
      return new Map(keys.map((key) => [key, one.get(key) as number]));
    },
    blocks: async () =>
      conn()
        .prepare<[], { hash: string; height: number | null; member: string; foundAtMs: number; accepted: number; reason: string | null }>(
          'SELECT hash, height, member, found_at_ms AS foundAtMs, accepted, reason FROM blocks ORDER BY hash',
        )
        .all()
        .map((b) => ({ ...b, accepted: b.accepted === 1 })),
    upstreamResults: async () =>
      conn()
        .prepare<[], { shareKey: string; accepted: number; reason: string | null; atMs: number }>(
          'SELECT share_key AS shareKey, accepted, reason, at_ms AS atMs FROM upstream_results ORDER BY id',
        )
        .all()
        .map((u) => ({ ...u, accepted: u.accepted === 1 })),
    assertTotalsConsistent: async () => assertTotalsConsistent(conn()),
    auditRows: async () => ({
      proofs: conn().prepare<[], { shareKey: string; proof: string | null }>('SELECT share_key AS shareKey, proof FROM shares ORDER BY id').all(),
      jobs: conn().prepare<[], { key: string; data: string }>('SELECT job_key AS key, data FROM jobs ORDER BY job_key').all(),
    }),
  };
}

const sqlite: LedgerKind = {
  name: 'SQLite',
  createStore: async (t, hint) => tempFile(t, hint === 'nested' ? 'nested/dir/ledger.sqlite' : 'ledger.sqlite'),
  open: async (t, file, options = {}) =>
    open(t, file, {
      ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
      ...(options.lockWaitMs !== undefined ? { busyTimeoutMs: options.lockWaitMs } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    }),
  inspect: inspectFile,
  holdWriteLock: async (t, file) => {
    const other = new Database(file);
    t.after(() => other.close());
    other.exec('BEGIN IMMEDIATE');
    return async () => void other.exec('ROLLBACK');
  },
  errorCodes: { lockTimeout: 'SQLITE_BUSY', checkViolation: 'SQLITE_CONSTRAINT_CHECK' },
  checkAfterCrash: async (file) => {
    const db = new Database(file);
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      db.close();
    }
  },
};

ledgerCases(sqlite);
// The same behaviour when the batches are written on the main thread (tests and benchmarks only).
ledgerCases({
  ...sqlite,
  name: 'SQLite in-thread',
  open: async (t, file, options = {}) =>
    open(t, file, {
      writerThread: false,
      ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
      ...(options.lockWaitMs !== undefined ? { busyTimeoutMs: options.lockWaitMs } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    }),
});

test('migrations: a fresh file gets the latest version; reopening applies nothing', (t) => {
  const file = tempFile(t);
  const first = openSqliteLedger(file);
  assert.deepEqual(first.schema, {
    fromVersion: 0,
    toVersion: LATEST_SCHEMA_VERSION,
    applied: Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1),
  });
  assert.equal(first.db.pragma('user_version', { simple: true }), LATEST_SCHEMA_VERSION);
  assert.equal(first.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(first.db.pragma('synchronous', { simple: true }), 2, 'FULL by default');
  void first.close();

  const second = open(t, file, { synchronous: 'NORMAL' });
  assert.deepEqual(second.schema, { fromVersion: LATEST_SCHEMA_VERSION, toVersion: LATEST_SCHEMA_VERSION, applied: [] });
  assert.equal(second.db.pragma('synchronous', { simple: true }), 1);
});

test('migrations: a file from a newer schema is refused, untouched, naming both versions', (t) => {
  const file = tempFile(t);
  const newer = LATEST_SCHEMA_VERSION + 3;
  const raw = new Database(file);
  raw.pragma(`user_version = ${newer}`);
  raw.close();

  assert.throws(
    () => openSqliteLedger(file),
    (error: unknown) => {
      assert.ok(error instanceof SchemaTooNewError);
      assert.match(error.message, new RegExp(`schema version ${newer}\\b`));
      assert.match(error.message, new RegExp(`version ${LATEST_SCHEMA_VERSION} that this gateway knows`));
      return true;
    },
  );
  const after = new Database(file, { readonly: true });
  t.after(() => after.close());
  assert.equal(after.pragma('user_version', { simple: true }), newer);
  assert.equal(count(after, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"), 0);
});

test('migrations: a failing step rolls back alone, leaving the file at the previous version', (t) => {
  const db = new Database(tempFile(t));
  t.after(() => db.close());
  const steps: Migration[] = [
    { description: 'one', sql: 'CREATE TABLE a (x INTEGER)' },
    { description: 'two', sql: 'CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1)' },
  ];
  assert.throws(() => migrate(db, steps), /no such table: nowhere/);
  assert.equal(db.pragma('user_version', { simple: true }), 1);
  assert.equal(count(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'b'"), 0);
  assert.deepEqual(migrate(db, steps.slice(0, 1)).applied, []);
});

test('a batch that fails mid-transaction (disk full) rejects every promise, writes nothing, and later batches work', async (t) => {
  const warnings: { obj: object; msg: string }[] = [];
  const ledger = open(t, tempFile(t), { logger: { warn: (obj, msg) => warnings.push({ obj, msg }) } });
  await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.appendShare(share(`before-${i}`))));
  const before = await ledger.member(ALICE, { recent: 0 });

  // A real SQLITE_FULL: cap the file a couple of pages above its size, so the batch below fills
  // it part way through its inserts. The cap is per connection: set on the writer's.
  const pages = count(ledger.db, 'PRAGMA page_count');
  await ledger.writerPragma(`max_page_count = ${pages + 2}`);
  const doomed = Array.from({ length: 500 }, (_, i) => ledger.appendShare(share(`doomed-${i}`)));
  const settled = await Promise.allSettled(doomed);
  assert.ok(
    settled.every((s) => s.status === 'rejected' && (s.reason as { code?: string }).code === 'SQLITE_FULL'),
    'every promise of the batch rejected with SQLITE_FULL',
  );
  assert.equal(ledger.stats.failedTransactions, 1);
  assert.equal(count(ledger.db, "SELECT count(*) FROM shares WHERE share_key LIKE 'doomed-%'"), 0);
  assert.deepEqual(await ledger.member(ALICE, { recent: 0 }), before);
  assertTotalsConsistent(ledger.db);
  assert.equal(warnings.length, 1);
  assert.equal((warnings[0]!.obj as { batchSize: number }).batchSize, 500);

  await ledger.writerPragma('max_page_count = 1073741823');
  const retried = await Promise.all(Array.from({ length: 500 }, (_, i) => ledger.appendShare(share(`doomed-${i}`))));
  assert.ok(retried.every((r) => r === true));
  assert.equal((await ledger.member(ALICE, { recent: 0 })).shares, 510);
  assertTotalsConsistent(ledger.db);
});

test('writer thread: a batch waiting for the write lock does not block the event loop; reads go on beside it', async (t) => {
  const file = tempFile(t);
  const ledger = open(t, file, { busyTimeoutMs: 2000 });
  await ledger.ready();
  assert.equal(await ledger.appendShare(share('first')), true);
  const other = new Database(file);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  const waiting = ledger.appendShare(share('second'));

  // In-thread, the busy wait would hold the event loop until the lock went (2 s here): timers
  // would not fire. The bound is loose so that a loaded machine does not fail the test.
  const startedMs = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const lateMs = performance.now() - startedMs - 50;
  assert.ok(lateMs < 500, `a 50 ms timer fired ${lateMs.toFixed(0)} ms late while the batch waited`);
  assert.equal((await ledger.totals()).shares, 1, 'reads see what is committed, beside the waiting writer');
  other.exec('ROLLBACK');
  assert.equal(await waiting, true, 'the batch got the lock once it was released');
  assert.equal((await ledger.totals()).shares, 2);
});

test('writer thread: one that dies refuses what it had in flight, saying so, and the next batch starts a new one', async (t) => {
  const warnings: { obj: object; msg: string }[] = [];
  const file = tempFile(t);
  const ledger = open(t, file, { busyTimeoutMs: 300, logger: { warn: (obj, msg) => warnings.push({ obj, msg }) } });
  assert.equal(await ledger.appendShare(share('before')), true);
  // Keep the thread busy (a batch waiting for the lock), and queue behind it a message it dies of
  // (it dies on any message it does not know), then a request that it will never answer.
  const other = new Database(file);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  const busy = ledger.appendShare(share('busy'));
  await new Promise((resolve) => setTimeout(resolve, 50));
  ledger['writer']!['running']!.worker.postMessage({ type: 'no-such-message' });
  const unanswered = ledger.writerPragma('user_version');
  await assert.rejects(busy, { code: 'SQLITE_BUSY' });
  await assert.rejects(unanswered, /ledger writer thread .* stopped \(exit code 1: .*unknown message "no-such-message"\)/);
  other.exec('ROLLBACK');
  assert.ok(warnings.some((w) => /writer thread stopped/.test(w.msg)), 'the death was logged');

  assert.deepEqual(await Promise.all([ledger.appendShare(share('after')), ledger.appendShare(share('busy'))]), [true, true]);
  assert.equal((await ledger.totals()).shares, 3);
  assertTotalsConsistent(ledger.db);
});

test('writer thread: one that cannot open the file makes ready() and appends reject, not hang', async (t) => {
  const file = tempFile(t);
  const ledger = open(t, file);
  // The main connection has the file open; the thread, starting now, finds its path gone.
  fs.rmSync(file);
  await assert.rejects(ledger.ready(), (error: { code?: string }) => error.code === 'SQLITE_CANTOPEN');
  await assert.rejects(ledger.appendShare(share('nowhere')), (error: { code?: string }) => error.code === 'SQLITE_CANTOPEN');
});
