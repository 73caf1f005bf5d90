import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import type { ShareRecord } from '../server/ledger/ledger.js';
import { openSqliteLedger, type SqliteLedger, type SqliteLedgerOptions } from '../server/ledger/sqlite-ledger.js';
import { LATEST_SCHEMA_VERSION, migrate, SchemaTooNewError, type Migration } from '../server/ledger/migrations.js';

const ALICE = '0xA11CE00000000000000000000000000000000001';
const BOB = '0xB0B0000000000000000000000000000000000002';
const CAROL = '0xCA401000000000000000000000000000000000003';
const TWO_32 = 2 ** 32;

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

/** Difficulties are powers of two so that work sums are exact and can be compared with ===. */
function share(shareKey: string, overrides: Partial<ShareRecord> = {}): ShareRecord {
  const difficulty = overrides.difficulty ?? 1 / 1024;
  return {
    member: ALICE,
    worker: 'rig',
    sessionId: 'session-1',
    jobId: 'job-1',
    difficulty,
    work: difficulty * TWO_32,
    hash: '00000000' + 'ab'.repeat(28),
    acceptedAtMs: 1_700_000_000_000,
    shareKey,
    ...overrides,
  };
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

test('5,000 appends started in one tick commit in a handful of transactions, each row once', async (t) => {
  const ledger = open(t, tempFile(t));
  const members = [ALICE, BOB, CAROL];
  const shares = Array.from({ length: 5000 }, (_, i) =>
    share(`k${i}`, { member: members[i % 3]!, difficulty: 2 ** ((i % 5) - 4), acceptedAtMs: 1_000 + i }),
  );
  const results = await Promise.all(shares.map((s) => ledger.appendShare(s)));

  assert.ok(results.every((r) => r === true));
  assert.equal(ledger.stats.transactions, 5, 'default maxBatch 1000: 5,000 appends in 5 transactions');
  assert.equal(ledger.stats.sharesInserted, 5000);
  assert.equal(count(ledger.db, 'SELECT count(*) FROM shares'), 5000);
  assert.equal(count(ledger.db, 'SELECT count(DISTINCT share_key) FROM shares'), 5000);
  for (const member of members) {
    const mine = shares.filter((s) => s.member === member);
    const summary = ledger.member(member, { recent: 0, nowMs: 10_000 });
    assert.equal(summary.shares, mine.length);
    assert.equal(summary.work, mine.reduce((sum, s) => sum + s.work, 0));
    assert.equal(summary.firstShareAtMs, mine[0]!.acceptedAtMs);
    assert.equal(summary.lastShareAtMs, mine.at(-1)!.acceptedAtMs);
  }
  assert.deepEqual(ledger.totals(), {
    shares: 5000,
    work: shares.reduce((sum, s) => sum + s.work, 0),
    members: 3,
    blocks: 0,
  });
  assertTotalsConsistent(ledger.db);
});

test('a smaller maxBatch flushes as soon as the queue is full', async (t) => {
  const ledger = open(t, tempFile(t), { maxBatch: 64 });
  await Promise.all(Array.from({ length: 640 }, (_, i) => ledger.appendShare(share(`k${i}`))));
  assert.equal(ledger.stats.transactions, 10);
  assert.equal(ledger.stats.largestBatch, 64);
});

test('a duplicate shareKey is recorded once and resolves false, in the same batch or a later one', async (t) => {
  const ledger = open(t, tempFile(t));
  const first = await Promise.all([
    ledger.appendShare(share('a')),
    ledger.appendShare(share('b')),
    ledger.appendShare(share('a', { member: BOB })),
  ]);
  assert.deepEqual(first, [true, true, false]);
  const later = await Promise.all([ledger.appendShare(share('a')), ledger.appendShare(share('c'))]);
  assert.deepEqual(later, [false, true]);

  assert.equal(ledger.stats.transactions, 2);
  assert.equal(ledger.stats.duplicateShares, 2);
  assert.equal(count(ledger.db, 'SELECT count(*) FROM shares'), 3);
  assert.equal(ledger.member(ALICE).shares, 3);
  assert.equal(ledger.member(BOB).shares, 0, 'the duplicate credited nobody');
  assertTotalsConsistent(ledger.db);
});

test('committed data survives close and reopen; close flushes the queue, then refuses appends', async (t) => {
  const file = tempFile(t, 'nested/dir/ledger.sqlite');
  const ledger = openSqliteLedger(file);
  assert.ok(await ledger.appendShare(share('one', { acceptedAtMs: 5_000 })));
  await ledger.recordBlock({ hash: 'b1', height: 7, member: ALICE, jobId: 'job-1', foundAtMs: 5_000, accepted: true, reason: null });
  const queued = ledger.appendShare(share('two', { acceptedAtMs: 6_000 }));
  await ledger.close();
  assert.equal(await queued, true, 'close() committed the queued append');
  await assert.rejects(ledger.appendShare(share('three')), /closed/);
  await ledger.close(); // idempotent

  const reopened = open(t, file);
  assert.deepEqual(reopened.schema.applied, []);
  const alice = reopened.member(ALICE, { nowMs: 6_000 });
  assert.equal(alice.shares, 2);
  assert.deepEqual(
    alice.recent.map((s) => s.shareKey),
    ['two', 'one'],
  );
  assert.deepEqual(alice.recent[1], share('one', { acceptedAtMs: 5_000 }));
  assert.equal(reopened.totals().blocks, 1);
});

/**
 * Runs test/helpers/ledger-writer.ts on `file` and SIGKILLs it once it has acknowledged
 * `killAfter` shares; returns the keys it acknowledged (whole lines only: a key counts once its
 * newline was written).
 */
async function runWriterAndKill(file: string, killAfter: number): Promise<string[]> {
  const helper = fileURLToPath(new URL('./helpers/ledger-writer.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', helper, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (!child.killed && stdout.split('\n').length > killAfter) child.kill('SIGKILL');
  });
  assert.equal(await exited, 'SIGKILL', `writer ended on its own: ${stderr}`);
  return stdout.split('\n').slice(0, -1);
}

test('no acknowledged share is lost when the process is SIGKILLed mid-stream', { timeout: 20_000 }, async (t) => {
  const file = tempFile(t);
  const acknowledged: string[] = [];
  // Several kills at different points, each reopening the file the previous one left behind.
  for (const killAfter of [300, 450, 600]) {
    const keys = await runWriterAndKill(file, killAfter + Math.floor(Math.random() * 100));
    assert.ok(keys.length >= killAfter, `only ${keys.length} keys acknowledged`);
    acknowledged.push(...keys);

    const ledger = openSqliteLedger(file);
    try {
      const present = ledger.db.prepare('SELECT count(*) FROM shares WHERE share_key = ?').pluck();
      const missing = acknowledged.filter((key) => present.get(key) !== 1);
      assert.deepEqual(missing, [], 'every acknowledged share is present exactly once');
      assert.ok(count(ledger.db, 'SELECT count(*) FROM shares') >= acknowledged.length);
      assert.equal(ledger.db.pragma('integrity_check', { simple: true }), 'ok');
      assertTotalsConsistent(ledger.db);
    } finally {
      await ledger.close();
    }
  }
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
  const before = ledger.member(ALICE, { recent: 0 });

  // A real SQLITE_FULL: cap the file a couple of pages above its size, so the batch below fills
  // it part way through its inserts.
  const pages = count(ledger.db, 'PRAGMA page_count');
  ledger.db.pragma(`max_page_count = ${pages + 2}`);
  const doomed = Array.from({ length: 500 }, (_, i) => ledger.appendShare(share(`doomed-${i}`)));
  const settled = await Promise.allSettled(doomed);
  assert.ok(
    settled.every((s) => s.status === 'rejected' && (s.reason as { code?: string }).code === 'SQLITE_FULL'),
    'every promise of the batch rejected with SQLITE_FULL',
  );
  assert.equal(ledger.stats.failedTransactions, 1);
  assert.equal(count(ledger.db, "SELECT count(*) FROM shares WHERE share_key LIKE 'doomed-%'"), 0);
  assert.deepEqual(ledger.member(ALICE, { recent: 0 }), before);
  assertTotalsConsistent(ledger.db);
  assert.equal(warnings.length, 1);
  assert.equal((warnings[0]!.obj as { batchSize: number }).batchSize, 500);

  ledger.db.pragma('max_page_count = 1073741823');
  const retried = await Promise.all(Array.from({ length: 500 }, (_, i) => ledger.appendShare(share(`doomed-${i}`))));
  assert.ok(retried.every((r) => r === true));
  assert.equal(ledger.member(ALICE, { recent: 0 }).shares, 510);
  assertTotalsConsistent(ledger.db);
});

test('a batch that cannot get the write lock within busy_timeout rejects, and the next one commits', async (t) => {
  const file = tempFile(t);
  const ledger = open(t, file, { busyTimeoutMs: 50 });
  const other = new Database(file);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  const settled = await Promise.allSettled([ledger.appendShare(share('x')), ledger.recordUpstreamResult({ shareKey: 'x', hash: 'h', accepted: true, reason: null, atMs: 1 })]);
  assert.deepEqual(
    settled.map((s) => s.status === 'rejected' && (s.reason as { code?: string }).code),
    ['SQLITE_BUSY', 'SQLITE_BUSY'],
  );
  other.exec('ROLLBACK');
  assert.equal(await ledger.appendShare(share('x')), true);
  assert.equal(ledger.stats.failedTransactions, 1);
});

test('a record the database refuses (CHECK) is rejected alone; the rest of its batch commits', async (t) => {
  const ledger = open(t, tempFile(t));
  const settled = await Promise.allSettled([
    ledger.appendShare(share('good-1')),
    ledger.appendShare(share('zero', { difficulty: 0, work: 0 })),
    ledger.appendShare(share('good-2')),
  ]);
  assert.equal(settled[0]!.status, 'fulfilled');
  assert.equal(settled[1]!.status === 'rejected' && (settled[1].reason as { code?: string }).code, 'SQLITE_CONSTRAINT_CHECK');
  assert.equal(settled[2]!.status, 'fulfilled');
  assert.equal(ledger.stats.transactions, 1);
  // Not finite: refused before it reaches the queue.
  await assert.rejects(ledger.appendShare(share('inf', { difficulty: Infinity, work: Infinity })), RangeError);
  assert.equal(ledger.stats.transactions, 1);
  assert.equal(ledger.member(ALICE).shares, 2);
  assertTotalsConsistent(ledger.db);
});

test('blocks and upstream results share the queue (ordered, durable when resolved)', async (t) => {
  const ledger = open(t, tempFile(t));
  const block = { hash: 'blk', height: null, member: BOB, jobId: 'job-9', foundAtMs: 9_000, accepted: false, reason: 'pending' };
  await Promise.all([
    ledger.appendShare(share('s1', { member: BOB })),
    ledger.recordUpstreamResult({ shareKey: 's1', hash: 'h1', accepted: false, reason: 'stale', atMs: 9_001 }),
    ledger.recordBlock(block),
  ]);
  assert.equal(ledger.stats.transactions, 1);
  await ledger.recordBlock({ ...block, height: 840_000, accepted: true, reason: null, foundAtMs: 9_500 });
  assert.deepEqual(ledger.db.prepare('SELECT hash, height, member, found_at_ms, accepted, reason FROM blocks').all(), [
    { hash: 'blk', height: 840_000, member: BOB, found_at_ms: 9_000, accepted: 1, reason: null },
  ]);
  assert.deepEqual(ledger.db.prepare('SELECT share_key, accepted, reason, at_ms FROM upstream_results').all(), [
    { share_key: 's1', accepted: 0, reason: 'stale', at_ms: 9_001 },
  ]);
  assert.equal(ledger.totals().blocks, 1);
});

test('member(): totals, recent newest first with a limit, windowed hash rate, unknown member', async (t) => {
  const ledger = open(t, tempFile(t));
  const nowMs = 2_000_000;
  const windowMs = 60_000;
  const rows = [
    share('old', { acceptedAtMs: 1_000_000, difficulty: 8 }),
    share('edge-out', { acceptedAtMs: nowMs - windowMs, difficulty: 4 }), // window is (now - w, now]
    share('edge-in', { acceptedAtMs: nowMs - windowMs + 1, difficulty: 2 }),
    share('tie-a', { acceptedAtMs: nowMs - 10, difficulty: 1 }),
    share('tie-b', { acceptedAtMs: nowMs - 10, difficulty: 0.5 }),
    share('at-now', { acceptedAtMs: nowMs, difficulty: 0.25 }),
    share('future', { acceptedAtMs: nowMs + 5, difficulty: 16 }),
    share('bob', { member: BOB, acceptedAtMs: nowMs - 1, difficulty: 64 }),
  ];
  for (const row of rows) assert.equal(await ledger.appendShare(row), true);

  const alice = ledger.member(ALICE, { recent: 3, windowMs, nowMs });
  assert.equal(alice.member, ALICE);
  assert.equal(alice.shares, 7);
  assert.equal(alice.work, (8 + 4 + 2 + 1 + 0.5 + 0.25 + 16) * TWO_32);
  assert.equal(alice.firstShareAtMs, 1_000_000);
  assert.equal(alice.lastShareAtMs, nowMs + 5);
  assert.equal(alice.hashesPerSecond, ((2 + 1 + 0.5 + 0.25) * TWO_32) / 60);
  assert.deepEqual(
    alice.recent.map((s) => s.shareKey),
    ['future', 'at-now', 'tie-b'],
  );
  assert.deepEqual(alice.recent[1], rows[5]);
  assert.equal(ledger.member(ALICE, { nowMs }).recent.length, 7, 'default limit 20');
  assert.deepEqual(ledger.member(ALICE, { recent: 0, nowMs }).recent, []);

  assert.deepEqual(ledger.member('0x0000000000000000000000000000000000000000'), {
    member: '0x0000000000000000000000000000000000000000',
    work: 0,
    shares: 0,
    firstShareAtMs: null,
    lastShareAtMs: null,
    hashesPerSecond: 0,
    recent: [],
  });
  assert.throws(() => ledger.member(ALICE, { recent: -1 }), RangeError);
  assert.throws(() => ledger.member(ALICE, { windowMs: 0 }), RangeError);

  assert.equal(ledger.workSince(nowMs - 10), (1 + 0.5 + 0.25 + 16 + 64) * TWO_32, "every member, [since, ...)");
  assert.equal(ledger.workSince(nowMs + 6), 0);
  assert.deepEqual(ledger.totals(), { shares: 8, work: (8 + 4 + 2 + 1 + 0.5 + 0.25 + 16 + 64) * TWO_32, members: 2, blocks: 0 });
});
