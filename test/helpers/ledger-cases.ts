// The behaviour every Ledger must have, as test cases run against each implementation (the SQLite
// file in test/sqlite-ledger.test.ts, PostgreSQL in test/pg-ledger.test.ts). A LedgerKind says how
// to make a fresh store, open a ledger on it, read it behind the ledger's back, and break it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupCommitStats } from '../../server/ledger/group-commit.js';
import type { Ledger, ShareRecord } from '../../server/ledger/ledger.js';

export const ALICE = '0xA11CE00000000000000000000000000000000001';
export const BOB = '0xB0B0000000000000000000000000000000000002';
export const CAROL = '0xCA401000000000000000000000000000000000003';
export const TWO_32 = 2 ** 32;

export interface TestLedger extends Ledger {
  readonly stats: GroupCommitStats & { sharesInserted: number; duplicateShares: number };
  readonly schema: { applied: number[] };
}

export interface OpenOptions {
  maxBatch?: number;
  /** How long a batch waits for a lock another connection holds before it fails. */
  lockWaitMs?: number;
  logger?: { warn(obj: object, msg: string): void };
}

/** Reads of the store that bypass the ledger (their own connection). */
export interface LedgerInspector {
  countShares(shareKeyPrefix?: string): Promise<number>;
  /** How many rows have each key (0, 1, or more if exactly-once was broken). */
  keyCounts(keys: readonly string[]): Promise<Map<string, number>>;
  blocks(): Promise<{ hash: string; height: number | null; member: string; foundAtMs: number; accepted: boolean; reason: string | null }[]>;
  upstreamResults(): Promise<{ shareKey: string; accepted: boolean; reason: string | null; atMs: number }[]>;
  /** member_totals and the pool totals must equal what the share rows say. */
  assertTotalsConsistent(): Promise<void>;
  /** What audit bundles read: each share's proof by key, and the jobs. */
  auditRows(): Promise<{ proofs: { shareKey: string; proof: string | null }[]; jobs: { key: string; data: string }[] }>;
}

export interface LedgerKind {
  name: string;
  /** A fresh, empty store (a file path, a database URL) for one test, removed after it with every ledger opened on it. */
  createStore(t: TestContext, hint?: 'nested'): Promise<string>;
  open(t: TestContext, location: string, options?: OpenOptions): Promise<TestLedger>;
  inspect(t: TestContext, location: string): LedgerInspector;
  /** Takes the lock the ledger's batches need from another connection; the returned function releases it. */
  holdWriteLock(t: TestContext, location: string): Promise<() => Promise<void>>;
  /** The `code` of the error a batch rejects with when the lock wait ran out, and of a CHECK violation. */
  errorCodes: { lockTimeout: string; checkViolation: string };
  /** Extra checks of the store after a crash (e.g. SQLite's integrity_check). */
  checkAfterCrash?(location: string): Promise<void>;
}

/** Difficulties are powers of two so that work sums are exact and can be compared with ===. */
export function share(shareKey: string, overrides: Partial<ShareRecord> = {}): ShareRecord {
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

/**
 * Runs test/helpers/ledger-writer.ts on `location` and SIGKILLs it once it has acknowledged
 * `killAfter` shares; returns the keys it acknowledged (whole lines only: a key counts once its
 * newline was written).
 */
export async function runWriterAndKill(location: string, killAfter: number): Promise<string[]> {
  const helper = fileURLToPath(new URL('./ledger-writer.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', helper, location], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (!child.killed && stdout.split('\n').length > killAfter) child.kill('SIGKILL');
  });
  assert.equal(await exited, 'SIGKILL', `writer ended on its own: ${stderr}`);
  return stdout.split('\n').slice(0, -1);
}

/** Registers the shared cases for one kind of ledger. */
export function ledgerCases(kind: LedgerKind): void {
  const name = (what: string) => `${kind.name}: ${what}`;

  test(name('5,000 appends started in one tick commit in a handful of transactions, each row once'), async (t) => {
    const location = await kind.createStore(t);
    const ledger = await kind.open(t, location);
    const db = kind.inspect(t, location);
    const members = [ALICE, BOB, CAROL];
    const shares = Array.from({ length: 5000 }, (_, i) =>
      share(`k${i}`, { member: members[i % 3]!, difficulty: 2 ** ((i % 5) - 4), acceptedAtMs: 1_000 + i }),
    );
    const results = await Promise.all(shares.map((s) => ledger.appendShare(s)));

    assert.ok(results.every((r) => r === true));
    assert.equal(ledger.stats.transactions, 5, 'default maxBatch 1000: 5,000 appends in 5 transactions');
    assert.equal(ledger.stats.sharesInserted, 5000);
    assert.equal(await db.countShares(), 5000);
    const counts = await db.keyCounts(shares.map((s) => s.shareKey));
    assert.ok([...counts.values()].every((n) => n === 1), 'every key once');
    for (const member of members) {
      const mine = shares.filter((s) => s.member === member);
      const summary = await ledger.member(member, { recent: 0, nowMs: 10_000 });
      assert.equal(summary.shares, mine.length);
      assert.equal(summary.work, mine.reduce((sum, s) => sum + s.work, 0));
      assert.equal(summary.firstShareAtMs, mine[0]!.acceptedAtMs);
      assert.equal(summary.lastShareAtMs, mine.at(-1)!.acceptedAtMs);
    }
    assert.deepEqual(await ledger.totals(), {
      shares: 5000,
      work: shares.reduce((sum, s) => sum + s.work, 0),
      members: 3,
      blocks: 0,
    });
    await db.assertTotalsConsistent();
  });

  test(name('a smaller maxBatch flushes as soon as the queue is full'), async (t) => {
    const ledger = await kind.open(t, await kind.createStore(t), { maxBatch: 64 });
    await Promise.all(Array.from({ length: 640 }, (_, i) => ledger.appendShare(share(`k${i}`))));
    assert.equal(ledger.stats.transactions, 10);
    assert.equal(ledger.stats.largestBatch, 64);
  });

  test(name('a duplicate shareKey is recorded once and resolves false, in the same batch or a later one'), async (t) => {
    const location = await kind.createStore(t);
    const ledger = await kind.open(t, location);
    const db = kind.inspect(t, location);
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
    assert.equal(await db.countShares(), 3);
    assert.equal((await ledger.member(ALICE)).shares, 3);
    assert.equal((await ledger.member(BOB)).shares, 0, 'the duplicate credited nobody');
    assert.equal((await ledger.totals()).members, 1);
    await db.assertTotalsConsistent();
  });

  test(name("a share's proof and each job are kept for the audit bundle, a job once however often recorded"), async (t) => {
    const location = await kind.createStore(t);
    const ledger = await kind.open(t, location);
    const db = kind.inspect(t, location);
    const job = { key: 'k1', data: '{"prevhash":"00"}', createdAtMs: 1 };
    await Promise.all([ledger.recordJob(job), ledger.recordJob({ ...job, data: 'ignored: the key is already recorded' })]);
    await ledger.appendShare(share('with-proof', { proof: '{"job":"k1"}' }));
    await ledger.appendShare(share('without-proof'));
    assert.deepEqual(await db.auditRows(), {
      proofs: [
        { shareKey: 'with-proof', proof: '{"job":"k1"}' },
        { shareKey: 'without-proof', proof: null },
      ],
      jobs: [{ key: 'k1', data: '{"prevhash":"00"}' }],
    });
  });

  test(name('committed data survives close and reopen; close flushes the queue, then refuses appends and reads'), async (t) => {
    const location = await kind.createStore(t, 'nested');
    const ledger = await kind.open(t, location);
    assert.ok(await ledger.appendShare(share('one', { acceptedAtMs: 5_000 })));
    await ledger.recordBlock({ hash: 'b1', height: 7, member: ALICE, jobId: 'job-1', foundAtMs: 5_000, accepted: true, reason: null });
    const queued = ledger.appendShare(share('two', { acceptedAtMs: 6_000 }));
    await ledger.close();
    assert.equal(await queued, true, 'close() committed the queued append');
    await assert.rejects(ledger.appendShare(share('three')), /closed/);
    await assert.rejects(ledger.totals(), /closed/);
    await ledger.close(); // idempotent

    const reopened = await kind.open(t, location);
    assert.deepEqual(reopened.schema.applied, []);
    const alice = await reopened.member(ALICE, { nowMs: 6_000 });
    assert.equal(alice.shares, 2);
    assert.deepEqual(
      alice.recent.map((s) => s.shareKey),
      ['two', 'one'],
    );
    assert.deepEqual(alice.recent[1], share('one', { acceptedAtMs: 5_000 }));
    assert.equal((await reopened.totals()).blocks, 1);
  });

  test(name('no acknowledged share is lost when the writing process is SIGKILLed mid-stream'), { timeout: 30_000 }, async (t) => {
    const location = await kind.createStore(t);
    const db = kind.inspect(t, location);
    const acknowledged: string[] = [];
    // Several kills at different points, each reopening the store the previous one left behind.
    for (const killAfter of [300, 450, 600]) {
      const keys = await runWriterAndKill(location, killAfter + Math.floor(Math.random() * 100));
      assert.ok(keys.length >= killAfter, `only ${keys.length} keys acknowledged`);
      acknowledged.push(...keys);

      const ledger = await kind.open(t, location);
      await ledger.close();
      const counts = await db.keyCounts(acknowledged);
      const notOnce = acknowledged.filter((key) => counts.get(key) !== 1);
      assert.deepEqual(notOnce, [], 'every acknowledged share is present exactly once');
      assert.ok((await db.countShares()) >= acknowledged.length);
      await kind.checkAfterCrash?.(location);
      await db.assertTotalsConsistent();
    }
  });

  test(name('a batch that cannot get its lock in time rejects every record in it, writes nothing, and the next batch commits'), async (t) => {
    const location = await kind.createStore(t);
    const warnings: { obj: object; msg: string }[] = [];
    const ledger = await kind.open(t, location, { lockWaitMs: 100, logger: { warn: (obj, msg) => warnings.push({ obj, msg }) } });
    const db = kind.inspect(t, location);
    await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.appendShare(share(`before-${i}`))));
    const before = await ledger.member(ALICE, { recent: 0 });

    const release = await kind.holdWriteLock(t, location);
    const settled = await Promise.allSettled([
      ...Array.from({ length: 50 }, (_, i) => ledger.appendShare(share(`doomed-${i}`))),
      ledger.recordUpstreamResult({ shareKey: 'doomed-0', hash: 'h', accepted: true, reason: null, atMs: 1 }),
      ledger.recordBlock({ hash: 'doomed-block', height: 1, member: BOB, jobId: 'j', foundAtMs: 1, accepted: false, reason: null }),
    ]);
    assert.deepEqual(
      [...new Set(settled.map((s) => (s.status === 'rejected' ? (s.reason as { code?: string }).code : 'fulfilled')))],
      [kind.errorCodes.lockTimeout],
      'every record of the batch rejected with the lock timeout',
    );
    assert.equal(ledger.stats.failedTransactions, 1);
    assert.equal(warnings.length, 1);
    assert.equal((warnings[0]!.obj as { batchSize: number }).batchSize, 52);
    await release();

    assert.equal(await db.countShares('doomed-'), 0);
    assert.deepEqual(await db.upstreamResults(), []);
    assert.deepEqual(await db.blocks(), []);
    assert.deepEqual(await ledger.member(ALICE, { recent: 0 }), before);
    await db.assertTotalsConsistent();

    const retried = await Promise.all(Array.from({ length: 50 }, (_, i) => ledger.appendShare(share(`doomed-${i}`))));
    assert.ok(retried.every((r) => r === true), 'the refused shares were not half-written: they are new now');
    assert.equal((await ledger.member(ALICE, { recent: 0 })).shares, 60);
    assert.equal(ledger.stats.failedTransactions, 1);
    await db.assertTotalsConsistent();
  });

  test(name('a record the database refuses (CHECK) is rejected alone; the rest of its batch commits'), async (t) => {
    const location = await kind.createStore(t);
    const ledger = await kind.open(t, location);
    const db = kind.inspect(t, location);
    const settled = await Promise.allSettled([
      ledger.appendShare(share('good-1')),
      ledger.appendShare(share('zero', { difficulty: 0, work: 0 })),
      ledger.appendShare(share('good-2', { member: BOB })),
      ledger.recordUpstreamResult({ shareKey: 'good-1', hash: 'h', accepted: true, reason: null, atMs: 2 }),
    ]);
    assert.equal(settled[0]!.status, 'fulfilled');
    assert.equal(settled[1]!.status === 'rejected' && (settled[1].reason as { code?: string }).code, kind.errorCodes.checkViolation);
    assert.equal(settled[2]!.status, 'fulfilled');
    assert.equal(settled[3]!.status, 'fulfilled');
    assert.equal(ledger.stats.transactions, 1);
    assert.equal(ledger.stats.sharesInserted, 2);
    // Not finite: refused before it reaches the queue.
    await assert.rejects(ledger.appendShare(share('inf', { difficulty: Infinity, work: Infinity })), RangeError);
    await assert.rejects(ledger.appendShare(share('nan', { difficulty: NaN, work: NaN })), RangeError);
    assert.equal(ledger.stats.transactions, 1);
    assert.equal((await ledger.member(ALICE)).shares, 1);
    assert.equal((await ledger.member(BOB)).shares, 1);
    assert.equal((await db.upstreamResults()).length, 1);
    await db.assertTotalsConsistent();
  });

  test(name('blocks and upstream results share the queue (ordered, durable when resolved)'), async (t) => {
    const location = await kind.createStore(t);
    const ledger = await kind.open(t, location);
    const db = kind.inspect(t, location);
    const block = { hash: 'blk', height: null, member: BOB, jobId: 'job-9', foundAtMs: 9_000, accepted: false, reason: 'pending' };
    await Promise.all([
      ledger.appendShare(share('s1', { member: BOB })),
      ledger.recordUpstreamResult({ shareKey: 's1', hash: 'h1', accepted: false, reason: 'stale', atMs: 9_001 }),
      ledger.recordBlock(block),
    ]);
    assert.equal(ledger.stats.transactions, 1);
    await ledger.recordBlock({ ...block, height: 840_000, accepted: true, reason: null, foundAtMs: 9_500 });
    assert.deepEqual(await db.blocks(), [{ hash: 'blk', height: 840_000, member: BOB, foundAtMs: 9_000, accepted: true, reason: null }]);
    assert.deepEqual(await db.upstreamResults(), [{ shareKey: 's1', accepted: false, reason: 'stale', atMs: 9_001 }]);
    assert.equal((await ledger.totals()).blocks, 1);
  });

  test(name('member(): totals, recent newest first with a limit, windowed hash rate, unknown member'), async (t) => {
    const ledger = await kind.open(t, await kind.createStore(t));
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

    const alice = await ledger.member(ALICE, { recent: 3, windowMs, nowMs });
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
    assert.equal((await ledger.member(ALICE, { nowMs })).recent.length, 7, 'default limit 20');
    assert.deepEqual((await ledger.member(ALICE, { recent: 0, nowMs })).recent, []);
    // A window that does not end on a whole millisecond: (nowMs - 10.5, nowMs - 0.5] holds the ties only.
    assert.equal((await ledger.member(ALICE, { recent: 0, windowMs: 10, nowMs: nowMs - 0.5 })).hashesPerSecond, ((1 + 0.5) * TWO_32) / 0.01);

    assert.deepEqual(await ledger.member('0x0000000000000000000000000000000000000000'), {
      member: '0x0000000000000000000000000000000000000000',
      work: 0,
      shares: 0,
      firstShareAtMs: null,
      lastShareAtMs: null,
      hashesPerSecond: 0,
      recent: [],
    });
    await assert.rejects(ledger.member(ALICE, { recent: -1 }), RangeError);
    await assert.rejects(ledger.member(ALICE, { windowMs: 0 }), RangeError);

    assert.equal(await ledger.workSince(nowMs - 10), (1 + 0.5 + 0.25 + 16 + 64) * TWO_32, 'every member, [since, ...)');
    assert.equal(await ledger.workSince(nowMs - 10.5), (1 + 0.5 + 0.25 + 16 + 64) * TWO_32, 'a fractional bound');
    assert.equal(await ledger.workSince(nowMs + 6), 0);
    // [from, to) in 30 s buckets: 'old' before it, 'future' after it.
    assert.deepEqual(await ledger.history(nowMs - windowMs, nowMs + 1, 30_000), [
      { bucket: 0, shares: 2, work: (4 + 2) * TWO_32 },
      { bucket: 1, shares: 3, work: (1 + 0.5 + 64) * TWO_32 },
      { bucket: 2, shares: 1, work: 0.25 * TWO_32 },
    ]);
    assert.deepEqual(await ledger.history(nowMs + 6, nowMs + 60_000, 1000), [], 'no shares: no buckets');
    await assert.rejects(ledger.history(nowMs, nowMs, 1000), RangeError);
    await assert.rejects(ledger.history(nowMs - 1000, nowMs, 0), RangeError);
    assert.deepEqual(await ledger.totals(), { shares: 8, work: (8 + 4 + 2 + 1 + 0.5 + 0.25 + 16 + 64) * TWO_32, members: 2, blocks: 0 });
  });
}
