// Ledger faults, made real: a ledger file locked by another writer, and a full one. In each case:
// what the miner is told, what /healthz says, that the gateway recovers, and that no acknowledged
// share is lost or counted twice.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteLedger } from '../server/ledger/sqlite-ledger.js';
import { PINNED, Rig } from './helpers/fault-rig.js';
import { getJson, MEMBER, startTestGateway } from './helpers/gateway.js';
import type { FoundShare } from './helpers/test-miner.js';

/** The share rows of a ledger file, read from a connection of the test's own. */
function ledgerRows(file: string): { keys: string[]; totals: { shares: number; work: number } | undefined; sumWork: number } {
  const db = new Database(file, { readonly: true });
  try {
    const keys = (db.prepare('SELECT share_key FROM shares WHERE member = ?').all(MEMBER) as { share_key: string }[]).map((r) => r.share_key);
    const totals = db.prepare('SELECT shares, work FROM member_totals WHERE member = ?').get(MEMBER) as { shares: number; work: number } | undefined;
    const sumWork = (db.prepare('SELECT total(work) AS w FROM shares WHERE member = ?').get(MEMBER) as { w: number }).w;
    return { keys, totals, sumWork };
  } finally {
    db.close();
  }
}

/** Every acknowledged share exactly once, no refused one, and totals that match the rows. */
function assertLedger(file: string, acknowledged: string[], refused: string[]): void {
  const { keys, totals, sumWork } = ledgerRows(file);
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  const missing = acknowledged.filter((h) => counts.get(h) !== 1);
  assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged shares are not in the ledger exactly once`);
  const credited = refused.filter((h) => counts.has(h));
  assert.deepEqual(credited, [], 'a share the gateway refused was credited anyway');
  assert.equal(keys.length, acknowledged.length, 'the ledger holds exactly the acknowledged shares');
  assert.equal(totals?.shares, keys.length, 'member_totals.shares matches the share rows');
  assert.ok(Math.abs((totals?.work ?? 0) - sumWork) <= 1e-6 * sumWork, `member_totals.work ${totals?.work} matches the rows' sum ${sumWork}`);
}

describe('ledger faults', () => {
  test('ledger locked by another writer: the share is refused (not acknowledged) after the busy timeout, /healthz says why, and the gateway recovers when the lock goes', async () => {
    const gateway = await startTestGateway(PINNED);
    const file = join(gateway.dataDir, 'ledger.sqlite');
    const acknowledged: string[] = [];
    const refused: string[] = [];
    let locker: Database.Database | undefined;
    try {
      const rig = await Rig.open(gateway.stratumPort, `${MEMBER}.locked`);
      for (let i = 0; i < 3; i++) {
        const { share, result, error } = await rig.mine();
        assert.equal(result, true, `share before the lock: ${error}`);
        acknowledged.push(share.hash);
      }

      // Another process's writer (here: another connection) takes the write lock and holds it.
      locker = new Database(file);
      locker.exec('BEGIN IMMEDIATE');
      const share = await rig.find();
      const began = Date.now();
      const response = await rig.miner.submit(share.params);
      const waitedMs = Date.now() - began;
      refused.push(share.hash);
      assert.notEqual(response.result, true, 'a share that could not be written must not be acknowledged');
      assert.match(String(response.error?.[1]), /ledger/, `the refusal names the ledger: ${JSON.stringify(response.error)}`);
      // The default busy timeout is 5 s: a lock held briefly (a backup, a checkpoint) is waited out.
      assert.ok(waitedMs >= 4000, `the gateway waited for the lock (busy timeout) before refusing; it answered after ${waitedMs} ms`);
      const degraded = await getJson(`${gateway.httpUrl}healthz`);
      assert.equal(degraded.status, 503, JSON.stringify(degraded.body));
      assert.ok(
        degraded.body.problems.some((p: string) => /^ledger: .*database is locked/.test(p)),
        `/healthz says the ledger is locked: ${JSON.stringify(degraded.body.problems)}`,
      );

      assertLedger(file, acknowledged, refused);
      locker.exec('ROLLBACK');
      // The refusal said "try again": the same share, sent again, is credited once.
      const retried = await rig.miner.submit(share.params);
      assert.equal(retried.result, true, `the refused share, sent again once the lock went: ${JSON.stringify(retried.error)}`);
      refused.pop();
      acknowledged.push(share.hash);
      const { share: after, result, error } = await rig.mine();
      assert.equal(result, true, `the first share after the lock went: ${error}`);
      acknowledged.push(after.hash);
      const healthy = await getJson(`${gateway.httpUrl}healthz`);
      assert.equal(healthy.status, 200, JSON.stringify(healthy.body));
      rig.close();
    } finally {
      locker?.close();
      await gateway.close();
    }
    assertLedger(file, acknowledged, refused);
  });

  test('ledger full (SQLITE_FULL): shares refused and not acknowledged, /healthz says why; room again: shares acknowledged, none lost', async () => {
    const gateway = await startTestGateway(PINNED);
    const file = join(gateway.dataDir, 'ledger.sqlite');
    const ledger = gateway.view.ledger;
    assert.ok(ledger instanceof SqliteLedger);
    const acknowledged: string[] = [];
    const refused: string[] = [];
    try {
      const rig = await Rig.open(gateway.stratumPort, `${MEMBER}.full`);
      for (let i = 0; i < 3; i++) {
        const { share, result, error } = await rig.mine();
        assert.equal(result, true, `share before the disk filled: ${error}`);
        acknowledged.push(share.hash);
      }

      // A real full disk needs a filesystem we can fill (a small mount), which a test here cannot
      // make. SQLite's own page cap fails a write that needs a new page with SQLITE_FULL, the very
      // error (and the same rollback path) a full disk gives. The cap is per connection: it is
      // set on the one that writes shares (the ledger's writer thread).
      const pages = ledger.db.pragma('page_count', { simple: true }) as number;
      await ledger.writerPragma(`max_page_count = ${pages}`);
      let refusal: string | undefined;
      const refusedShares: FoundShare[] = [];
      for (let i = 0; i < 500 && refusal === undefined; i++) {
        const { share, result, error } = await rig.mine();
        if (result === true) acknowledged.push(share.hash);
        else {
          refused.push(share.hash);
          refusedShares.push(share);
          refusal = error;
        }
      }
      assert.ok(refusal !== undefined, 'some share needed a new page and was refused');
      assert.match(refusal, /ledger/, `the refusal names the ledger: ${refusal}`);
      const degraded = await getJson(`${gateway.httpUrl}healthz`);
      assert.equal(degraded.status, 503, JSON.stringify(degraded.body));
      assert.ok(
        degraded.body.problems.some((p: string) => /^ledger: .*full/.test(p)),
        `/healthz says the ledger is full: ${JSON.stringify(degraded.body.problems)}`,
      );
      // Still full: the next one is refused too, not half-written.
      const again = await rig.mine();
      assert.notEqual(again.result, true, 'still no room: still refused');
      refused.push(again.share.hash);
      refusedShares.push(again.share);

      assertLedger(file, acknowledged, refused);
      await ledger.writerPragma('max_page_count = 1073741823');
      // The refusals said "try again": the same shares, sent again, are credited once each.
      for (const share of refusedShares) {
        const retried = await rig.miner.submit(share.params);
        assert.equal(retried.result, true, `a refused share sent again once there was room: ${JSON.stringify(retried.error)}`);
        acknowledged.push(share.hash);
      }
      refused.length = 0;
      for (let i = 0; i < 3; i++) {
        const { share, result, error } = await rig.mine();
        assert.equal(result, true, `share after room was made: ${error}`);
        acknowledged.push(share.hash);
      }
      const healthy = await getJson(`${gateway.httpUrl}healthz`);
      assert.equal(healthy.status, 200, JSON.stringify(healthy.body));
      rig.close();
    } finally {
      await gateway.close();
    }
    assertLedger(file, acknowledged, refused);
  });
});
