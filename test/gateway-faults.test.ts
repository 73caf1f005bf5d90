// Faults around the gateway, made real: a ledger file locked by another writer, a full ledger, the
// chain's RPC going away at an epoch close, an upstream pool that drops, stalls and comes back on a
// new block. In each case: what the miner is told, what /healthz says, and that no acknowledged
// share is lost or counted twice and no epoch root is posted twice.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { parseUnits } from 'ethers';
import { difficultyToTarget } from '../protocol/target.js';
import { writeDeployment } from '../server/chain/deploy.js';
import type { Gateway } from '../server/gateway.js';
import { SqliteLedger } from '../server/ledger/sqlite-ledger.js';
import { createUpstreamSource } from '../server/work/upstream-source.js';
import { startTestChain } from './helpers/chain.js';
import { startFaultProxy } from './helpers/fault-proxy.js';
import { getJson, MEMBER, MEMBER_2, startTestGateway } from './helpers/gateway.js';
import { ManualSource } from './helpers/manual-source.js';
import { TestMiner, type FoundShare } from './helpers/test-miner.js';

const PINNED = { startDifficulty: 1e-6, minDifficulty: 1e-6, maxDifficulty: 1e-6 } as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds; fails with `what` after `timeoutMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(25);
  }
}

/** A logged-in miner that numbers its extranonce2s, so every share it finds is new work. */
class Rig {
  private next = 0;
  private constructor(
    readonly miner: TestMiner,
    readonly worker: string,
  ) {}

  static async open(stratumPort: number, worker: string): Promise<Rig> {
    const miner = await TestMiner.tcp(stratumPort);
    await miner.login(worker);
    return new Rig(miner, worker);
  }

  find(): Promise<FoundShare> {
    return this.miner.findShare({ worker: this.worker, extranonce2: (this.next++).toString(16).padStart(this.miner.extranonce2Size * 2, '0') });
  }

  /** Finds and submits a share; resolves with it and the gateway's answer. */
  async mine(): Promise<{ share: FoundShare; result: unknown; error: string | undefined }> {
    const share = await this.find();
    const response = await this.miner.submit(share.params);
    return { share, result: response.result, error: response.error?.[1] };
  }

  close(): void {
    this.miner.close();
  }
}

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

describe('chain RPC faults', () => {
  test('the chain RPC goes away at an epoch close and after a root is sent: the close waits, the publish retries, and each epoch is published exactly once', async () => {
    const chain = await startTestChain();
    const proxy = await startFaultProxy({ port: chain.anvil.port });
    // A treasury of its own, so the publisher pays out the whole epoch reward (members' part + reinvested).
    const { deployment, contracts } = await chain.deploy({ treasury: chain.wallets[7]!.address });
    const deploymentFile = join(mkdtempSync(join(tmpdir(), 'faults-chain-')), 'deployment.json');
    writeDeployment(deploymentFile, deployment);
    let afterRootSent: (() => Promise<void>) | undefined;
    const gateway = await startTestGateway(
      {
        ...PINNED,
        chainRpcUrl: `http://127.0.0.1:${proxy.port}`,
        chainDeploymentFile: deploymentFile,
        publisherKey: chain.anvil.accounts[0]!.privateKey,
        // No scheduled close during the test: the test closes epochs itself.
        epochSeconds: 30 * 86_400,
        epochReward: '100',
      },
      { settlementHooks: { afterRootSent: () => afterRootSent?.() } },
    );
    const settlement = gateway.view.settlement!;
    const reward = parseUnits('100', 18);
    const balance = async () => (await contracts.token.getFunction('balanceOf')(chain.deployer.address)) as bigint;
    const roots = async (epoch: number) => contracts.distributor.queryFilter(contracts.distributor.filters['RootPublished']!(epoch), deployment.deployBlock);
    const health = () => getJson(`${gateway.httpUrl}healthz`);
    try {
      const startBalance = await balance();
      const rig = await Rig.open(gateway.stratumPort, `${MEMBER}.chain`);
      for (let i = 0; i < 3; i++) assert.equal((await rig.mine()).result, true);

      // ---- 1. the RPC is down when the epoch closes: the close fails before storing anything
      await proxy.down();
      await assert.rejects(settlement.closeEpoch(), (err: Error) => {
        assert.match(err.message, /ECONNREFUSED|connect|fetch|network/i, `the close fails with the connection error: ${err.message}`);
        return true;
      });
      assert.equal(await settlement.store.lastEpoch(), undefined, 'no epoch is stored while the chain cannot be read');
      assert.equal((await settlement.store.pendingWork()).workByMember.has(MEMBER), true, "the member's shares stay pending for the next close");
      const closeDown = await health();
      assert.equal(closeDown.status, 503, `/healthz reports the failed close: ${JSON.stringify(closeDown.body)}`);
      assert.ok(closeDown.body.problems.some((p: string) => /^settlement retrying: /.test(p)), JSON.stringify(closeDown.body.problems));

      // ---- 2. up for the close, down before the publish: it is stored, then retried with backoff
      await proxy.up();
      const closed = await settlement.closeEpoch();
      await proxy.down();
      assert.equal(closed?.epoch, 1);
      await until('the publish of epoch 1 to fail', () => settlement.publishError !== undefined);
      assert.match(settlement.publishError!, /^epoch 1: /);
      assert.equal((await settlement.store.epoch(1))?.status, 'built', 'nothing was sent');
      const publishDown = await health();
      assert.equal(publishDown.status, 503, JSON.stringify(publishDown.body));
      assert.ok(
        publishDown.body.problems.some((p: string) => /^settlement retrying: epoch 1: /.test(p)),
        `/healthz says the publish of epoch 1 is being retried: ${JSON.stringify(publishDown.body.problems)}`,
      );
      await sleep(1500);
      await proxy.up();
      await until('epoch 1 to be published after the RPC came back', async () => (await settlement.store.epoch(1))?.status === 'published', 15_000);
      const events1 = await roots(1);
      assert.equal(events1.length, 1, 'exactly one RootPublished for epoch 1');
      const epoch1 = (await settlement.store.epoch(1))!;
      assert.equal((await contracts.distributor.getFunction('epochs')(1)).root, epoch1.root, "the chain holds the ledger's root");
      assert.equal(epoch1.txHash, events1[0]!.transactionHash);
      assert.equal(startBalance - (await balance()), reward, "the publisher paid one epoch's reward");
      assert.equal(settlement.publishError, undefined, 'the error is cleared by the success');
      assert.equal((await health()).status, 200);

      // ---- 3. the RPC dies right after the root transaction is sent, before its receipt is read
      for (let i = 0; i < 2; i++) assert.equal((await rig.mine()).result, true);
      afterRootSent = async () => {
        afterRootSent = undefined;
        await proxy.down();
        setTimeout(() => void proxy.up(), 2000);
      };
      const closed2 = await settlement.closeEpoch();
      assert.equal(closed2?.epoch, 2);
      // What the ledger and the publisher said along the way.
      const states = new Set<string>();
      await until(
        'epoch 2 to be published after the RPC came back',
        async () => {
          const status = (await settlement.store.epoch(2))?.status;
          states.add(settlement.publishError ? `${status}, retrying: ${settlement.publishError}` : String(status));
          return status === 'published';
        },
        20_000,
      );
      const trail = JSON.stringify([...states]);
      // 'sent' (the hash stored before the outage) while retrying: the receipt could not be read.
      assert.ok([...states].some((s) => /^sent, retrying: epoch 2: /.test(s)), `the publish was retried with the transaction recorded as sent: ${trail}`);
      const epoch2 = (await settlement.store.epoch(2))!;
      const events2 = await roots(2);
      assert.equal(events2.length, 1, 'exactly one RootPublished for epoch 2: the transaction sent before the outage is found, not repeated');
      assert.equal(epoch2.txHash, events2[0]!.transactionHash);
      assert.equal((await contracts.distributor.getFunction('epochs')(2)).root, epoch2.root);
      assert.equal(startBalance - (await balance()), 2n * reward, 'two epochs, two rewards: none paid twice');
      assert.equal(await contracts.distributor.getFunction('latestEpoch')(), 2n);
      assert.equal(settlement.problem, undefined);
      rig.close();
    } finally {
      await gateway.close();
      await proxy.close();
      await chain.stop();
    }
  });
});

/** The hashes of every share row of a gateway's ledger. */
function shareHashes(gateway: Gateway): Set<string> {
  const ledger = gateway.view.ledger;
  assert.ok(ledger instanceof SqliteLedger);
  return new Set((ledger.db.prepare('SELECT hash FROM shares').all() as { hash: string }[]).map((r) => r.hash));
}

/** What the relay recorded of the upstream's answers, by share hash. */
function upstreamResults(gateway: Gateway): Map<string, { accepted: number; reason: string | null }[]> {
  const ledger = gateway.view.ledger;
  assert.ok(ledger instanceof SqliteLedger);
  const rows = ledger.db.prepare('SELECT hash, accepted, reason FROM upstream_results ORDER BY id').all() as { hash: string; accepted: number; reason: string | null }[];
  const byHash = new Map<string, { accepted: number; reason: string | null }[]>();
  for (const { hash, ...result } of rows) byHash.set(hash, [...(byHash.get(hash) ?? []), result]);
  return byHash;
}

describe('upstream pool faults', () => {
  test('the upstream pool drops, goes away, stalls and comes back on a new block: miners keep being credited, queued shares reach it, stale work is not credited', async () => {
    // The upstream is a real gateway whose work the test drives (a new previous block on demand);
    // it wants one share in three of what the relay's miners send.
    const UPSTREAM_DIFFICULTY = 3e-6;
    const upstreamTarget = difficultyToTarget(UPSTREAM_DIFFICULTY);
    const dueUpstream = (hash: string) => BigInt('0x' + hash) <= upstreamTarget;
    const work = new ManualSource();
    const upstream = await startTestGateway({ startDifficulty: UPSTREAM_DIFFICULTY, minDifficulty: UPSTREAM_DIFFICULTY, maxDifficulty: UPSTREAM_DIFFICULTY }, { source: work });
    const proxy = await startFaultProxy({ port: upstream.stratumPort });
    // The gateway's own upstream source, with timeouts a test can wait out (the defaults are 15 s
    // per request and 1 s initial reconnect backoff).
    const source = createUpstreamSource({
      url: `stratum+tcp://${MEMBER}.relay:x@127.0.0.1:${proxy.port}`,
      versionRolling: true,
      requestTimeoutMs: 1000,
      reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
    });
    const relay = await startTestGateway(PINNED, { source });
    const relayed = relay.view.source;
    const acknowledged: string[] = [];
    let rig: Rig | undefined;
    /** Mines on the relay until `dueCount` of the shares are due upstream; every share must be acknowledged. */
    const mineUntilDue = async (dueCount: number, phase: string): Promise<string[]> => {
      const due: string[] = [];
      for (let i = 0; due.length < dueCount; i++) {
        assert.ok(i < 200, `${phase}: ${dueCount} shares due upstream within 200`);
        const { share, result, error } = await rig!.mine();
        assert.equal(result, true, `${phase}: the relay acknowledges its miner's share: ${error}`);
        acknowledged.push(share.hash);
        if (dueUpstream(share.hash)) due.push(share.hash);
      }
      return due;
    };
    /** The miner's next job; the promise is handled at once, so a test failing before it is awaited leaves nothing unhandled. */
    const nextJob = () => {
      const job = rig!.miner.nextJob();
      job.catch(() => {});
      return job;
    };
    const reachUpstream = (hashes: string[], phase: string) =>
      until(`${phase}: the upstream to receive ${hashes.length} shares (has ${hashes.filter((h) => shareHashes(upstream).has(h)).length})`, () => {
        const received = shareHashes(upstream);
        return hashes.every((h) => received.has(h));
      });
    try {
      rig = await Rig.open(relay.stratumPort, `${MEMBER_2}.downstream`);
      const before = await mineUntilDue(2, 'all well');
      await reachUpstream(before, 'all well');

      // ---- dropped, then refused for a while
      let jobAfter = nextJob();
      proxy.drop();
      await proxy.down();
      await until('the relay to notice the upstream is gone', () => !relayed.connected);
      const awayFrom = Date.now();
      const whileAway = await mineUntilDue(3, 'upstream away');
      const degraded = await getJson(`${relay.httpUrl}healthz`);
      assert.equal(degraded.status, 503);
      assert.deepEqual(degraded.body.problems, ['work source disconnected']);
      assert.equal(whileAway.filter((h) => shareHashes(upstream).has(h)).length, 0, 'nothing reached the upstream while it was away');
      await sleep(Math.max(0, 1500 - (Date.now() - awayFrom)));
      await proxy.up();
      await until('the relay to reconnect', () => relayed.connected);
      await reachUpstream(whileAway, 'after the outage');
      await jobAfter;
      assert.equal((await getJson(`${relay.httpUrl}healthz`)).status, 200);

      // ---- stalled: connections stay open but nothing moves, for longer than the request timeout
      const connectionsBefore = proxy.accepted;
      jobAfter = nextJob();
      proxy.stall();
      const whileStalled = await mineUntilDue(2, 'upstream stalled');
      await sleep(2500);
      const reconnected = proxy.accepted > connectionsBefore;
      proxy.resume();
      assert.ok(reconnected, 'a submit with no answer in the request timeout makes the relay drop the connection and reconnect');
      await until('the relay to be connected after the stall', () => relayed.connected);
      await reachUpstream(whileStalled, 'after the stall');
      await jobAfter;

      // ---- away while the upstream moves to a new block: the work of the old block is stale
      await proxy.down();
      await until('the relay to notice the upstream is gone', () => !relayed.connected);
      work.emit(true);
      const oldPrevhash = rig.miner.job![1];
      const staleQueued = await mineUntilDue(2, 'upstream away, new block there');
      const late = await rig.find(); // work on the old block, submitted after the relay learns of the new one
      jobAfter = nextJob();
      await proxy.up();
      await until('the relay to reconnect', () => relayed.connected);
      const fresh = await jobAfter;
      assert.notEqual(fresh.params![1], oldPrevhash, 'the miner is sent the new block');
      assert.equal(fresh.params![8], true, 'with clean_jobs: the old work is worthless');
      const refusal = await rig.miner.submit(late.params);
      assert.notEqual(refusal.result, true, 'a share on the old block is not credited');
      assert.equal(refusal.error?.[0], 21, `refused as stale (job not found): ${JSON.stringify(refusal.error)}`);
      assert.equal(shareHashes(relay).has(late.hash), false, 'the stale share is not in the relay ledger');
      // The shares queued for the old block are not sent (the upstream would refuse them as stale).
      await until('the relay to record the queued shares as stale', () => staleQueued.every((h) => upstreamResults(relay).get(h)?.some((r) => r.reason === 'stale after upstream reconnect')));
      assert.equal(staleQueued.filter((h) => shareHashes(upstream).has(h)).length, 0, 'no stale share reached the upstream');
      const onNewBlock = await mineUntilDue(1, 'new block');
      await reachUpstream(onNewBlock, 'new block');

      // Every share the relay acknowledged is in its ledger once; what reached the upstream is exactly what was due and not stale.
      const relayHashes = shareHashes(relay);
      assert.deepEqual(acknowledged.filter((h) => !relayHashes.has(h)), [], 'every acknowledged share is in the relay ledger');
      assert.equal(relayHashes.size, acknowledged.length, 'and nothing else');
      const upstreamHashes = [...shareHashes(upstream)].sort();
      assert.deepEqual(upstreamHashes, [...before, ...whileAway, ...whileStalled, ...onNewBlock].sort(), 'the upstream received exactly the due shares that were not stale');
    } finally {
      rig?.close();
      await relay.close();
      await proxy.close();
      await upstream.close();
    }
  });
});
