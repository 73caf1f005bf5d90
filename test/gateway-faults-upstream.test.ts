// Upstream pool faults, made real through a proxy: the pool drops, goes away, stalls and comes back
// on a new block. Miners keep being credited on valid jobs, shares due upstream are queued and
// reach it, and stale work is not credited.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { difficultyToTarget } from '../protocol/target.js';
import type { Gateway } from '../server/gateway.js';
import { SqliteLedger } from '../server/ledger/sqlite-ledger.js';
import { createUpstreamSource } from '../server/work/upstream-source.js';
import { startFaultProxy } from './helpers/fault-proxy.js';
import { PINNED, Rig } from './helpers/fault-rig.js';
import { getJson, MEMBER, MEMBER_2, startTestGateway } from './helpers/gateway.js';
import { ManualSource } from './helpers/manual-source.js';
import { waitFor } from './helpers/wait-for.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
      waitFor(`${phase}: the upstream to receive ${hashes.length} shares (has ${hashes.filter((h) => shareHashes(upstream).has(h)).length})`, () => {
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
      await waitFor('the relay to notice the upstream is gone', () => !relayed.connected);
      const awayFrom = Date.now();
      const whileAway = await mineUntilDue(3, 'upstream away');
      const degraded = await getJson(`${relay.httpUrl}healthz`);
      assert.equal(degraded.status, 503);
      assert.deepEqual(degraded.body.problems, ['work source disconnected']);
      assert.equal(whileAway.filter((h) => shareHashes(upstream).has(h)).length, 0, 'nothing reached the upstream while it was away');
      await sleep(Math.max(0, 1500 - (Date.now() - awayFrom)));
      await proxy.up();
      await waitFor('the relay to reconnect', () => relayed.connected);
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
      await waitFor('the relay to be connected after the stall', () => relayed.connected);
      await reachUpstream(whileStalled, 'after the stall');
      await jobAfter;

      // ---- away while the upstream moves to a new block: the work of the old block is stale
      await proxy.down();
      await waitFor('the relay to notice the upstream is gone', () => !relayed.connected);
      work.emit(true);
      const oldPrevhash = rig.miner.job![1];
      const staleQueued = await mineUntilDue(2, 'upstream away, new block there');
      const late = await rig.find(); // work on the old block, submitted after the relay learns of the new one
      jobAfter = nextJob();
      await proxy.up();
      await waitFor('the relay to reconnect', () => relayed.connected);
      const fresh = await jobAfter;
      assert.notEqual(fresh.params![1], oldPrevhash, 'the miner is sent the new block');
      assert.equal(fresh.params![8], true, 'with clean_jobs: the old work is worthless');
      const refusal = await rig.miner.submit(late.params);
      assert.notEqual(refusal.result, true, 'a share on the old block is not credited');
      assert.equal(refusal.error?.[0], 21, `refused as stale (job not found): ${JSON.stringify(refusal.error)}`);
      assert.equal(shareHashes(relay).has(late.hash), false, 'the stale share is not in the relay ledger');
      // The shares queued for the old block are not sent (the upstream would refuse them as stale).
      await waitFor('the relay to record the queued shares as stale', () => staleQueued.every((h) => upstreamResults(relay).get(h)?.some((r) => r.reason === 'stale after upstream reconnect')));
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
