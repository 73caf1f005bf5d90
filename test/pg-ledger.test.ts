// The PostgreSQL ledger: the behaviour every ledger shares (test/helpers/ledger-cases.ts, the same
// cases test/sqlite-ledger.test.ts runs on SQLite), then what only a shared database has: its
// migrations under concurrent starts, two gateways writing at once, bad connections.
// Each case gets a database of its own (test/helpers/pg.ts).
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migratePg, PgSchemaTooNewError, type PgMigration } from '../server/ledger/pg/migrations.js';
import { openPgLedger, type PgLedger, type PgLedgerOptions } from '../server/ledger/pg/pg-ledger.js';
import { PgUnavailableError } from '../server/ledger/pg/pool.js';
import { LEDGER_MIGRATIONS } from '../server/ledger/pg/schema.js';
import { ALICE, BOB, CAROL, ledgerCases, share, TWO_32, type LedgerInspector, type LedgerKind } from './helpers/ledger-cases.js';
import { createTestDatabase, TEST_POSTGRES_URL } from './helpers/pg.js';

/** Ledgers to close before their database is dropped, by database URL. */
const openLedgers = new Map<string, PgLedger[]>();

async function freshDatabase(t: TestContext): Promise<string> {
  const db = await createTestDatabase();
  openLedgers.set(db.url, []);
  t.after(async () => {
    for (const ledger of openLedgers.get(db.url) ?? []) await ledger.close().catch(() => {});
    openLedgers.delete(db.url);
    await db.drop();
  });
  return db.url;
}

async function openLedger(url: string, options: Partial<PgLedgerOptions> = {}): Promise<PgLedger> {
  const ledger = await openPgLedger(url, { instanceId: 0, ...options });
  openLedgers.get(url)?.push(ledger);
  return ledger;
}

/** A pg.Client for assertions, closed after the test. */
async function client(t: TestContext, url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  t.after(() => c.end().catch(() => {}));
  return c;
}

/** A raw pool (no ledger), ended after the test; its connections may die first when the database is dropped. */
function rawPool(t: TestContext, url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => {});
  t.after(() => pool.end());
  return pool;
}

async function one<T>(c: pg.Client, sql: string, params: unknown[] = []): Promise<T> {
  return (await c.query(sql, params)).rows[0] as T;
}

async function assertTotalsConsistent(c: pg.Client): Promise<void> {
  const fromRows = await c.query(
    `SELECT member, sum(work) AS work, count(*)::float8 AS shares, min(accepted_at_ms)::float8 AS "firstShareAtMs",
            max(accepted_at_ms)::float8 AS "lastShareAtMs" FROM shares GROUP BY member ORDER BY member`,
  );
  const kept = await c.query(
    `SELECT member, work, shares::float8 AS shares, first_share_at_ms::float8 AS "firstShareAtMs",
            last_share_at_ms::float8 AS "lastShareAtMs" FROM member_totals ORDER BY member`,
  );
  assert.deepEqual(kept.rows, fromRows.rows);
  assert.deepEqual(
    await one(c, 'SELECT coalesce(sum(work), 0) AS work, coalesce(sum(shares), 0)::float8 AS shares, coalesce(sum(members), 0)::float8 AS members FROM pool_totals'),
    await one(c, 'SELECT coalesce(sum(work), 0) AS work, count(*)::float8 AS shares, count(DISTINCT member)::float8 AS members FROM shares'),
  );
}

function inspectDatabase(t: TestContext, url: string): LedgerInspector {
  let conn: Promise<pg.Client> | undefined;
  const c = () => (conn ??= client(t, url));
  return {
    countShares: async (prefix = '') =>
      (await one<{ n: number }>(await c(), 'SELECT count(*)::float8 AS n FROM shares WHERE starts_with(share_key, $1)', [prefix])).n,
    keyCounts: async (keys) => {
      const { rows } = await (await c()).query<{ key: string; n: number }>(
        'SELECT k AS key, (SELECT count(*) FROM shares WHERE share_key = k)::float8 AS n FROM unnest($1::text[]) AS k',
        [keys],
      );
      return new Map(rows.map((r) => [r.key, r.n]));
    },
    blocks: async () =>
      (await (await c()).query('SELECT hash, height, member, found_at_ms::float8 AS "foundAtMs", accepted, reason FROM blocks ORDER BY hash')).rows,
    upstreamResults: async () =>
      (await (await c()).query('SELECT share_key AS "shareKey", accepted, reason, at_ms::float8 AS "atMs" FROM upstream_results ORDER BY id')).rows,
    assertTotalsConsistent: async () => assertTotalsConsistent(await c()),
    auditRows: async () => ({
      proofs: (await (await c()).query('SELECT share_key AS "shareKey", proof FROM shares ORDER BY id')).rows,
      jobs: (await (await c()).query('SELECT job_key AS key, data FROM jobs ORDER BY job_key')).rows,
    }),
  };
}

const postgres: LedgerKind = {
  name: 'PostgreSQL',
  createStore: (t) => freshDatabase(t),
  open: (_t, url, options = {}) =>
    openLedger(url, {
      ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
      ...(options.lockWaitMs !== undefined ? { lockTimeoutMs: options.lockWaitMs } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    }),
  inspect: inspectDatabase,
  holdWriteLock: async (t, url) => {
    const other = await client(t, url);
    await other.query('BEGIN');
    await other.query('LOCK TABLE shares, member_totals, pool_totals, blocks, upstream_results IN EXCLUSIVE MODE');
    return async () => void (await other.query('ROLLBACK'));
  },
  // lock_not_available; check_violation.
  errorCodes: { lockTimeout: '55P03', checkViolation: '23514' },
};

ledgerCases(postgres);

test('migrations: a fresh database gets the ledger schema; reopening applies nothing', async (t) => {
  const url = await freshDatabase(t);
  const first = await openLedger(url);
  const latest = LEDGER_MIGRATIONS.length;
  assert.deepEqual(first.schema, { component: 'ledger', fromVersion: 0, toVersion: latest, applied: [1, 2] });
  const second = await openLedger(url);
  assert.deepEqual(second.schema, { component: 'ledger', fromVersion: latest, toVersion: latest, applied: [] });
  const c = await client(t, url);
  assert.deepEqual((await c.query('SELECT component, version FROM schema_versions')).rows, [{ component: 'ledger', version: latest }]);
  const tables = (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows.map((r) => r.tablename);
  assert.deepEqual(tables, ['blocks', 'gateways', 'jobs', 'member_totals', 'pool_totals', 'schema_versions', 'shares', 'upstream_results']);
  const partial = await one<{ def: string }>(c, "SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'shares_unsettled'");
  assert.match(partial.def, /WHERE \(epoch IS NULL\)/);
});

test('migrations: gateways starting together run each step once', async (t) => {
  const url = await freshDatabase(t);
  const steps: PgMigration[] = [
    { description: 'one', sql: 'CREATE TABLE counted (n int); INSERT INTO counted VALUES (1)' },
    { description: 'two', sql: 'INSERT INTO counted VALUES (2); SELECT pg_sleep(0.05)' },
    { description: 'three', sql: 'INSERT INTO counted VALUES (3)' },
  ];
  const pools = Array.from({ length: 6 }, () => rawPool(t, url, 1));
  const results = await Promise.all(pools.map((p) => migratePg(p, 'race', steps)));
  assert.deepEqual(results.flatMap((r) => r.applied).sort(), [1, 2, 3], 'every step applied by exactly one of them');
  assert.ok(results.every((r) => r.toVersion === 3));
  const c = await client(t, url);
  assert.deepEqual((await c.query('SELECT n FROM counted ORDER BY n')).rows, [{ n: 1 }, { n: 2 }, { n: 3 }]);
});

test('migrations: a failing step rolls back alone; a newer schema is refused, untouched, naming both versions', async (t) => {
  const url = await freshDatabase(t);
  const pool = rawPool(t, url, 2);
  const steps: PgMigration[] = [
    { description: 'one', sql: 'CREATE TABLE a (x int)' },
    { description: 'two', sql: 'CREATE TABLE b (x int); INSERT INTO nowhere VALUES (1)' },
  ];
  await assert.rejects(migratePg(pool, 'test', steps), /relation "nowhere" does not exist/);
  const c = await client(t, url);
  assert.deepEqual((await c.query("SELECT version FROM schema_versions WHERE component = 'test'")).rows, [{ version: 1 }]);
  assert.equal((await c.query("SELECT 1 FROM pg_tables WHERE tablename = 'b'")).rowCount, 0);
  assert.deepEqual((await migratePg(pool, 'test', steps.slice(0, 1))).applied, []);

  await openLedger(url);
  await c.query("UPDATE schema_versions SET version = 7 WHERE component = 'ledger'");
  const redactedUrl = url.replace(/:[^:@/]*@/, ':***@');
  await assert.rejects(openPgLedger(url, { instanceId: 0 }), (err: unknown) => {
    assert.ok(err instanceof PgSchemaTooNewError);
    assert.equal(
      err.message,
      `ledger ${redactedUrl}: the ledger schema is at version 7, newer than version ${LEDGER_MIGRATIONS.length} that this gateway knows; ` +
        'refusing to use it (upgrade the gateway, or restore a matching backup)',
    );
    return true;
  });
  assert.deepEqual((await c.query("SELECT version FROM schema_versions WHERE component = 'ledger'")).rows, [{ version: 7 }]);
});

test('a server that does not answer is named, without its password', async () => {
  const url = new URL(TEST_POSTGRES_URL);
  url.password = 'hunter2-secret';
  url.port = '1'; // nothing listens there
  await assert.rejects(openPgLedger(url.toString(), { instanceId: 4, connectTimeoutMs: 2_000 }), (err: unknown) => {
    assert.ok(err instanceof PgUnavailableError);
    assert.match(err.message, /^the PostgreSQL ledger at postgres:\/\/[^:]+:\*\*\*@127\.0\.0\.1:1\/\S+ does not answer: connect ECONNREFUSED/);
    assert.ok(!err.message.includes('hunter2'), err.message);
    return true;
  });
  const wrong = new URL(TEST_POSTGRES_URL);
  wrong.password = 'hunter2-wrong';
  await assert.rejects(openPgLedger(wrong.toString(), { instanceId: 4 }), (err: Error) => {
    assert.match(err.message, /password authentication failed .*\(28P01\)/);
    assert.ok(!err.message.includes('hunter2'), err.message);
    return true;
  });
});

test('two gateways append to one database at once: each share once, totals add up, no deadlock', async (t) => {
  const url = await freshDatabase(t);
  const [one1, two] = await Promise.all([openLedger(url, { instanceId: 1, maxBatch: 50 }), openLedger(url, { instanceId: 2, maxBatch: 50 })]);
  const members = [ALICE, BOB, CAROL];
  // Both gateways credit the same members in every batch, in opposite orders: their batches lock
  // the same member_totals rows concurrently.
  const write = (ledger: PgLedger, gateway: number, order: string[]) =>
    Promise.all(
      Array.from({ length: 3000 }, (_, i) =>
        ledger.appendShare(share(`g${gateway}-${i}`, { member: order[i % 3]!, difficulty: 2 ** ((i % 4) - 3), acceptedAtMs: 10_000 + i })),
      ),
    );
  const [fromOne, fromTwo] = await Promise.all([write(one1, 1, members), write(two, 2, [...members].reverse())]);
  assert.ok([...fromOne, ...fromTwo].every((r) => r === true));
  assert.ok(one1.stats.transactions >= 60 && two.stats.transactions >= 60, 'batches of at most 50');
  // A share already recorded by the other gateway is a duplicate here too.
  assert.equal(await one1.appendShare(share('g2-0', { member: ALICE })), false);

  const totals = await two.totals();
  assert.deepEqual(totals, { shares: 6000, work: 2 * 750 * (0.125 + 0.25 + 0.5 + 1) * TWO_32, members: 3, blocks: 0 });
  assert.deepEqual(await one1.totals(), totals, 'both gateways read the same totals');
  for (const member of members) {
    const a = await one1.member(member, { recent: 5, nowMs: 20_000 });
    assert.equal(a.shares, 2000);
    assert.deepEqual(await two.member(member, { recent: 5, nowMs: 20_000 }), a);
  }
  const c = await client(t, url);
  assert.deepEqual(
    (await c.query('SELECT gateway_id, count(*)::int AS n FROM shares GROUP BY gateway_id ORDER BY gateway_id')).rows,
    [{ gateway_id: 1, n: 3000 }, { gateway_id: 2, n: 3000 }],
  );
  assert.equal((await one<{ n: number }>(c, 'SELECT count(*)::int AS n FROM shares WHERE epoch IS NOT NULL')).n, 0, 'new shares are unsettled');
  await assertTotalsConsistent(c);
});

test('text PostgreSQL cannot store (a NUL byte) is refused for that record alone', async (t) => {
  const url = await freshDatabase(t);
  const ledger = await openLedger(url);
  const settled = await Promise.allSettled([
    ledger.appendShare(share('ok-1')),
    ledger.appendShare(share('nul', { worker: 'rig\u0000evil' })),
    ledger.recordBlock({ hash: 'b\u0000', height: 1, member: ALICE, jobId: 'j', foundAtMs: 1, accepted: true, reason: null }),
    ledger.appendShare(share('ok-2')),
  ]);
  assert.deepEqual(
    settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as { code?: string }).code)),
    [true, '22021', '22021', true],
  );
  assert.equal((await ledger.member(ALICE)).shares, 2);
  await assertTotalsConsistent(await client(t, url));
});

test("the server killing the ledger's connections fails only the batches in flight; the next ones reconnect and commit", async (t) => {
  const url = await freshDatabase(t);
  const warnings: string[] = [];
  const ledger = await openLedger(url, { instanceId: 7, logger: { warn: (_obj, msg) => void warnings.push(msg) } });
  const admin = await client(t, url);
  const acknowledged: string[] = [];
  let refused = 0;
  let stop = false;
  const producers = Array.from({ length: 8 }, async (_, p) => {
    for (let i = 0; !stop; i++) {
      const key = `p${p}-${i}`;
      try {
        if (await ledger.appendShare(share(key))) acknowledged.push(key);
      } catch {
        refused++;
      }
    }
  });
  const kill = () =>
    admin.query("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'dao-gateway-7'");
  await new Promise((r) => setTimeout(r, 200));
  const killed = (await kill()).rows[0].n as number;
  await new Promise((r) => setTimeout(r, 200));
  await kill();
  const countAtSecondKill = acknowledged.length;
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await Promise.all(producers);

  assert.ok(killed >= 1, 'the ledger had a connection to kill');
  assert.ok(acknowledged.length > countAtSecondKill, 'appends went on after the kills');
  assert.ok(refused <= 2 * 8, `only the batches in flight at the kills were refused (${refused} records)`);
  // The read pool's idle connection dies too, with a warning of its own: count the batches' only.
  const batchWarnings = warnings.filter((msg) => msg.startsWith('ledger transaction failed'));
  assert.equal(batchWarnings.length, ledger.stats.failedTransactions, 'each failed batch was logged');
  const db = inspectDatabase(t, url);
  const counts = await db.keyCounts(acknowledged);
  assert.deepEqual(acknowledged.filter((k) => counts.get(k) !== 1), [], 'every acknowledged share is there, once');
  assert.equal((await ledger.totals()).shares, await db.countShares());
  await db.assertTotalsConsistent();
});

test('reads, settlement and the API holding every pooled connection do not hold up share commits', async (t) => {
  const url = await freshDatabase(t);
  const ledger = await openLedger(url, { max: 2, connectTimeoutMs: 5_000 });
  // What a burst of slow API reads or a long settlement query looks like to the pool: all taken.
  const held = [await ledger.pool.connect(), await ledger.pool.connect()];
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 3_000)));
  try {
    const outcome = await Promise.race([ledger.appendShare(share('while-the-pool-is-busy')), late]);
    assert.equal(outcome, true, 'the share was committed on the batches\' own connection, not queued behind the pool');
  } finally {
    clearTimeout(timer);
    // Before the ledger closes (after this test): ending a pool waits for its clients to come back.
    for (const c of held) c.release();
  }
  const db = inspectDatabase(t, url);
  assert.equal((await db.keyCounts(['while-the-pool-is-busy'])).get('while-the-pool-is-busy'), 1);
});
