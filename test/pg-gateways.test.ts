// Several real gateways on one PostgreSQL ledger: miners on either are credited in the same
// ledger, every gateway serves the combined record, instance ids partition the extranonce1 space,
// and a second gateway with a live instance id is refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getAddress } from 'ethers';
import pg from 'pg';
import { loadConfig } from '../server/config.js';
import type { Gateway } from '../server/gateway.js';
import { InstanceInUseError, refuseSharesWhileLost, registerInstance } from '../server/instance-registry.js';
import { openPgLedger } from '../server/ledger/pg/pg-ledger.js';
import { getJson, MEMBER, MEMBER_2, startTestGateway } from './helpers/gateway.js';
import { share } from './helpers/ledger-cases.js';
import { queryOnce, useFreshDatabase } from './helpers/pg.js';
import { TestMiner } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

const MEMBER_3 = getAddress('0x' + '3c'.repeat(20));
const database = useFreshDatabase();

/** Logs in as `username` and submits `count` shares, each on its own extranonce2; all must be accepted. */
async function mine(gateway: Gateway, username: string, count: number): Promise<TestMiner> {
  const miner = await TestMiner.tcp(gateway.stratumPort);
  await miner.login(username);
  for (let i = 0; i < count; i++) {
    const share = await miner.findShare({ worker: username, extranonce2: (i + 1).toString(16).padStart(miner.extranonce2Size * 2, '0') });
    const response = await miner.submit(share.params);
    assert.deepEqual([response.result, response.error], [true, null], `${username}: share ${i} acknowledged`);
  }
  return miner;
}

describe('two gateways share one PostgreSQL ledger', () => {
  let one: Gateway;
  let two: Gateway;
  const miners: TestMiner[] = [];

  before(async () => {
    // Started together: they migrate the same fresh database at the same moment.
    [one, two] = await Promise.all([
      startTestGateway({ ledger: database().url, instanceId: 1 }),
      startTestGateway({ ledger: database().url, instanceId: 2 }),
    ]);
  });
  after(async () => {
    for (const miner of miners) miner.close();
    await Promise.all([one?.close(), two?.close()]);
  });

  test('miners on both gateways are acknowledged, and each gateway shows the combined credit', async () => {
    miners.push(
      ...(await Promise.all([
        mine(one, `${MEMBER}.east`, 3),
        mine(one, `${MEMBER_2}.east`, 2),
        mine(two, `${MEMBER}.west`, 4),
        mine(two, `${MEMBER_3}.west`, 1),
      ])),
    );
    for (const [member, shares, workers] of [
      [MEMBER, 7, ['east', 'west']],
      [MEMBER_2, 2, ['east']],
      [MEMBER_3, 1, ['west']],
    ] as const) {
      const [fromOne, fromTwo] = await Promise.all([one, two].map((g) => getJson(`${g.httpUrl}api/members/${member.toLowerCase()}`)));
      assert.equal(fromOne!.status, 200);
      assert.equal(fromOne!.body.shares, shares, `${member} on gateway 1`);
      assert.equal(fromTwo!.body.shares, shares, `${member} on gateway 2`);
      const { workers: _1, hashesPerSecond5m: _h1, hashesPerSecond1h: _i1, ...recordOne } = fromOne!.body;
      const { workers: _2, hashesPerSecond5m: _h2, hashesPerSecond1h: _i2, ...recordTwo } = fromTwo!.body;
      assert.deepEqual(recordOne, recordTwo, 'the same record from either gateway');
      assert.deepEqual([...new Set((fromOne!.body.recent as { worker: string }[]).map((s) => s.worker))].sort(), workers);
    }
    for (const g of [one, two]) {
      const stats = await getJson(`${g.httpUrl}api/stats`);
      assert.equal(stats.body.totals.shares, 10);
      assert.equal(stats.body.totals.members, 3);
    }
  });

  test('the member totals equal the sums of the share rows, and each row names its gateway', async () => {
    const url = database().url;
    const byRows = await queryOnce<{ member: string; work: number; shares: number; first: string; last: string }>(
      url,
      `SELECT member, sum(work) AS work, count(*)::int AS shares, min(accepted_at_ms)::text AS first, max(accepted_at_ms)::text AS last
       FROM shares GROUP BY member ORDER BY member`,
    );
    const kept = await queryOnce<{ member: string; work: number; shares: number; first: string; last: string }>(
      url,
      `SELECT member, work, shares::int AS shares, first_share_at_ms::text AS first, last_share_at_ms::text AS last
       FROM member_totals ORDER BY member`,
    );
    assert.equal(kept.length, 3);
    assert.deepEqual(
      kept.map(({ work: _, ...rest }) => rest),
      byRows.map(({ work: _, ...rest }) => rest),
    );
    // Work is a double summed in another order (per batch, then per member): equal up to rounding.
    kept.forEach((row, i) => assert.ok(Math.abs(row.work - byRows[i]!.work) <= 1e-9 * byRows[i]!.work, `${row.member}: ${row.work} vs ${byRows[i]!.work}`));
    assert.deepEqual(
      await queryOnce(url, `SELECT gateway_id, member, count(*)::int AS n FROM shares GROUP BY gateway_id, member ORDER BY gateway_id, member`),
      [
        ...[
          { gateway_id: 1, member: MEMBER, n: 3 },
          { gateway_id: 1, member: MEMBER_2, n: 2 },
        ].sort((a, b) => a.member.localeCompare(b.member)),
        ...[
          { gateway_id: 2, member: MEMBER, n: 4 },
          { gateway_id: 2, member: MEMBER_3, n: 1 },
        ].sort((a, b) => a.member.localeCompare(b.member)),
      ],
    );
    const [pool] = await queryOnce<{ shares: number; members: number }>(url, 'SELECT sum(shares)::int AS shares, sum(members)::int AS members FROM pool_totals');
    assert.deepEqual(pool, { shares: 10, members: 3 });
  });

  test('extranonce1 prefixes start with the instance id byte and never collide', async () => {
    const subscribe = async (g: Gateway) => {
      const miner = await TestMiner.tcp(g.stratumPort);
      miners.push(miner);
      const result = (await miner.request('mining.subscribe', ['test-miner/1.0'])).result as [unknown, string, number];
      return result[1];
    };
    const fromOne = await Promise.all(Array.from({ length: 30 }, () => subscribe(one)));
    const fromTwo = await Promise.all(Array.from({ length: 30 }, () => subscribe(two)));
    const earlier = miners.slice(0, 4).map((m) => m.extranonce1);
    assert.ok([...fromOne, ...earlier.slice(0, 2)].every((e) => e.startsWith('01')), fromOne.join(' '));
    assert.ok([...fromTwo, ...earlier.slice(2)].every((e) => e.startsWith('02')), fromTwo.join(' '));
    const all = [...fromOne, ...fromTwo, ...earlier];
    assert.equal(new Set(all).size, all.length, 'no extranonce1 handed out twice');
  });

  test('a gateway with an instance id already live is refused, saying why; a free id starts, and frees at once when it stops', async () => {
    const url = database().url;
    await assert.rejects(startTestGateway({ ledger: url, instanceId: 1 }), (err: Error) => {
      assert.match(err.message, /^instance id 1 is in use on ledger postgres:\/\/[^:]+:\*\*\*@[^ ]+ by the gateway on \S+ \(pid \d+, last heartbeat \d+ s ago\): gateways sharing one PostgreSQL ledger need distinct --instance-id values \(0\.\.255\)/);
      return true;
    });
    assert.deepEqual(
      await queryOnce(url, 'SELECT instance_id, pid FROM gateways ORDER BY instance_id'),
      [
        { instance_id: 1, pid: process.pid },
        { instance_id: 2, pid: process.pid },
      ],
    );
    // The refusal left gateway 1 as it was.
    miners.push(await mine(one, `${MEMBER_2}.after`, 1));

    const three = await startTestGateway({ ledger: url, instanceId: 3 });
    assert.equal((await queryOnce(url, 'SELECT count(*)::int AS n FROM gateways')).at(0)?.n, 3);
    await three.close();
    assert.deepEqual(await queryOnce(url, 'SELECT instance_id FROM gateways WHERE instance_id = 3'), []);
    const again = await startTestGateway({ ledger: url, instanceId: 3 });
    await again.close();
  });
});

test('a gateway that went silent past the stale limit loses its id, refuses shares while it is lost, and gets it back', async (t) => {
  // Runs after the suite above: the ledger tables exist.
  const pool = new pg.Pool({ connectionString: database().url, max: 2 });
  pool.on('error', () => {});
  t.after(() => pool.end());
  const errors: string[] = [];
  const log = { warn: () => {}, error: (_: object, msg: string) => void errors.push(msg) };
  const first = await registerInstance(pool, { instanceId: 9, where: 'test', log, heartbeatIntervalMs: 50 });
  await assert.rejects(registerInstance(pool, { instanceId: 9, where: 'test', log }), InstanceInUseError);
  // The real ledger on the same database, as the gateway would wrap it.
  const inner = await openPgLedger(database().url, { instanceId: 9 });
  t.after(() => inner.close());
  const guarded = refuseSharesWhileLost(inner, first);
  const startShares = (await inner.totals()).shares;
  assert.equal(await guarded.appendShare(share('lost-id-before')), true);

  // As if the first had been unreachable for a minute (its heartbeats are server times).
  await pool.query("UPDATE gateways SET heartbeat_at = now() - interval '1 minute' WHERE instance_id = 9");
  const second = await registerInstance(pool, { instanceId: 9, where: 'test', log });
  await waitFor('the first gateway to notice it lost its id', () => first.problem !== undefined, 2_000, 20);
  assert.match(first.problem ?? '', /^another gateway took over instance id 9 .* shares are refused until the id is free again/);
  assert.equal(errors[0], first.problem, 'said once, in the log');
  assert.equal(second.problem, undefined);
  await assert.rejects(guarded.appendShare(share('lost-id-while-lost')), (err: Error) => err.message === first.problem);
  assert.equal((await guarded.totals()).shares, startShares + 1, 'reads still go through, and the refused share is not there');

  // The second one goes silent in turn: the first's next heartbeat takes its id back.
  await pool.query("UPDATE gateways SET heartbeat_at = now() - interval '1 minute' WHERE instance_id = 9");
  await waitFor('the first gateway to take its id back', () => first.problem === undefined, 2_000, 20);
  assert.equal(first.problem, undefined);
  assert.equal(await guarded.appendShare(share('lost-id-after')), true);
  assert.equal((await inner.totals()).shares, startShares + 2);
  // The second one's stop must not delete the first one's row.
  await second.stop();
  assert.equal((await pool.query('SELECT 1 FROM gateways WHERE instance_id = 9')).rowCount, 1);
  await first.stop();
  assert.equal((await pool.query('SELECT 1 FROM gateways WHERE instance_id = 9')).rowCount, 0);
});

test('--ledger takes sqlite or a postgres URL, from a flag or DAO_GATEWAY_LEDGER', () => {
  assert.equal(loadConfig({}, {}).ledger, 'sqlite');
  assert.equal(loadConfig({ ledger: 'postgres://dao:pw@db.internal:5432/dao' }, {}).ledger, 'postgres://dao:pw@db.internal:5432/dao');
  assert.equal(loadConfig({}, { DAO_GATEWAY_LEDGER: 'postgresql://db/dao' }).ledger, 'postgresql://db/dao');
  assert.equal(loadConfig({ ledger: 'postgres:///dao?host=/var/run/postgresql' }, {}).ledger, 'postgres:///dao?host=/var/run/postgresql');
  assert.throws(() => loadConfig({ ledger: 'postgres:///dao' }, {}), (err: Error) => {
    assert.equal(err.message, '--ledger: "postgres:///dao" names no host; expected sqlite or postgres://USER:PASS@HOST:PORT/DB');
    return true;
  });
  // Not a URL at all (port out of range): nothing of it is repeated, the password included.
  assert.throws(() => loadConfig({ ledger: 'postgres://dao:s3cret@db:99999/dao' }, {}), (err: Error) => {
    assert.equal(err.message, '--ledger: not a valid URL (not repeated here: it may hold a password); expected sqlite or postgres://USER:PASS@HOST:PORT/DB');
    return true;
  });
});
