// A close over a large epoch runs off the event loop: 200,000 members of a previous epoch (seeded
// directly in the compact layout) plus real shares, closed while a real miner's shares keep being
// acknowledged by the same gateway. No acknowledgement waits behind the close. Then the proofs of
// the new epoch, served from the compact store, verify with the library and on-chain; and an
// altered chunk makes the proof endpoint answer an error naming its epoch, with no crash.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { leafAt } from '../protocol/dao/compact-leaves.js';
import { verifyRewardProof } from '../protocol/dao/index.js';
import type { Gateway } from '../server/gateway.js';
import type { SqliteLedger } from '../server/ledger/sqlite-ledger.js';
import { startTestChain, type TestChain } from './helpers/chain.js';
import { MEMBER, MEMBER_2, getJson, startSettlingGateway } from './helpers/gateway.js';
import { randomLeaves, seedEpoch, type SeededEpoch } from './helpers/seed-epoch.js';
import { TestMiner, type FoundShare } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

const PREVIOUS_MEMBERS = 200_000;
/** Generous: a close that blocked the event loop took seconds; an acknowledgement takes a millisecond or two. */
const MAX_ACK_MS = 250;
const MAX_CLOSE_MS = 20_000;
const DIFFICULTY = 1e-5;

let chain: TestChain;
let gateway: Gateway;
let seeded: SeededEpoch;

async function connect(member: string): Promise<TestMiner> {
  const miner = await TestMiner.tcp(gateway.stratumPort);
  await miner.login(`${member}.rig`);
  return miner;
}

/** Shares found before they are sent: hashing in this process must not be what delays the loop. */
async function findShares(miner: TestMiner, member: string, count: number, from: number): Promise<FoundShare[]> {
  const shares: FoundShare[] = [];
  for (let i = from; i < from + count; i++) shares.push(await miner.findShare({ worker: `${member}.rig`, extranonce2: i.toString(16).padStart(miner.extranonce2Size * 2, '0') }));
  return shares;
}

before(async () => {
  chain = await startTestChain();
  gateway = await startSettlingGateway(chain, {
    // Vardiff held still: the shares found in advance stay valid.
    startDifficulty: DIFFICULTY,
    minDifficulty: DIFFICULTY,
    maxDifficulty: DIFFICULTY,
  });
  // One real share covers epoch 1's share range; epoch 1 itself is 200,000 members written directly.
  const miner = await connect(MEMBER_2);
  assert.equal((await miner.submit((await findShares(miner, MEMBER_2, 1, 0))[0]!.params)).result, true);
  miner.close();
  const db = (gateway.view.ledger as SqliteLedger).db;
  const lastShareId = db.prepare('SELECT max(id) FROM shares').pluck().get() as number;
  seeded = await seedEpoch(db, { epoch: 1, leaves: randomLeaves(PREVIOUS_MEMBERS), firstShareId: 0, lastShareId });
});

after(async () => {
  await gateway?.close();
  await chain?.stop();
});

test(`closing an epoch over ${PREVIOUS_MEMBERS.toLocaleString('en')} members never holds up a share acknowledgement`, async () => {
  const settlement = gateway.view.settlement!;
  const miner = await connect(MEMBER);
  const shares = await findShares(miner, MEMBER, 600, 0);
  // Work for the epoch being closed.
  for (const share of shares.splice(0, 3)) assert.equal((await miner.submit(share.params)).result, true);

  const acks: { sentMs: number; ms: number }[] = [];
  let closing = true;
  const sending = (async () => {
    while (closing || acks.length < 10) {
      const share = shares.shift();
      if (!share) break;
      const sentMs = performance.now();
      const response = await miner.submit(share.params);
      assert.equal(response.result, true, `share accepted during the close: ${JSON.stringify(response.error)}`);
      acks.push({ sentMs, ms: performance.now() - sentMs });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 50));

  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const startMs = performance.now();
  const epoch = await settlement.closeEpoch().finally(() => (closing = false));
  const closeMs = performance.now() - startMs;
  delay.disable();
  await sending;
  miner.close();

  assert.ok(epoch, 'epoch 2 closed');
  assert.equal(epoch.epoch, 2);
  assert.equal(epoch.members, PREVIOUS_MEMBERS + 1, 'every previous member and the new one');
  const during = acks.filter((a) => a.sentMs >= startMs && a.sentMs + a.ms <= startMs + closeMs);
  const slowest = Math.max(...during.map((a) => a.ms));
  const loopMaxMs = delay.max / 1e6;
  const figures = `close ${closeMs.toFixed(0)} ms, ${during.length} acks during it, slowest ${slowest.toFixed(1)} ms, event-loop delay max ${loopMaxMs.toFixed(1)} ms`;
  console.log(`# ${figures}`);
  assert.ok(closeMs < MAX_CLOSE_MS, `the close is bounded: ${figures}`);
  assert.ok(during.length >= 3, `shares were acknowledged while the epoch closed: ${figures}`);
  assert.ok(slowest < MAX_ACK_MS, `no acknowledgement waited behind the close: ${figures}`);
  assert.ok(loopMaxMs < MAX_ACK_MS, `the event loop never stalled: ${figures}`);

  // No share lost or counted twice: epoch 2 has the shares read at its snapshot, the rest are pending.
  const sent = 3 + acks.length;
  const record = (await settlement.store.epoch(2))!;
  const pending = await settlement.store.pendingWork();
  assert.equal(record.lastShareId! - record.firstShareId! + pending.shares, sent, 'every acknowledged share is in epoch 2 or pending');
});

test('proofs of the large epoch come from the compact store and verify with the library and on-chain', async () => {
  const settlement = gateway.view.settlement!;
  await waitFor('epochs 1 and 2 published', async () => (await settlement.store.epoch(2))?.status === 'published' || undefined, 60_000);
  const old = leafAt(seeded.leaves, 123_456);
  for (const account of [MEMBER, old.account]) {
    const { status, body } = await getJson(`${gateway.httpUrl}api/epochs/2/proof/${account}`);
    assert.equal(status, 200, JSON.stringify(body));
    const leaf = { account: body.account, cumulativeWork: BigInt(body.cumulativeWork), cumulativeReward: BigInt(body.cumulativeReward), proof: body.proof };
    assert.equal(verifyRewardProof(body.root, leaf), true, `${account}'s proof verifies against epoch 2's root`);
    assert.equal(await chain.contracts.distributor.getFunction('verifyLeaf')(2, leaf.account, leaf.cumulativeWork, leaf.cumulativeReward, leaf.proof), true, `the chain accepts ${account}'s proof`);
  }
  const unchanged = (await getJson(`${gateway.httpUrl}api/epochs/2/proof/${old.account}`)).body;
  assert.equal(BigInt(unchanged.cumulativeWork), old.cumulativeWork, 'an old member keeps its leaf');
  assert.equal(unchanged.epochWork, '0');
});

test('an altered chunk: the proof endpoint names the epoch in its error and the gateway goes on', async () => {
  const db = (gateway.view.ledger as SqliteLedger).db;
  const chunk = db.prepare('SELECT leaves FROM epoch_tree_chunks WHERE epoch = 1 AND chunk = 3').pluck().get() as Buffer;
  chunk[100] = chunk[100]! ^ 0x01;
  db.prepare('UPDATE epoch_tree_chunks SET leaves = ? WHERE epoch = 1 AND chunk = 3').run(chunk);
  const member = leafAt(seeded.leaves, 7).account;
  const refused = await getJson(`${gateway.httpUrl}api/epochs/1/proof/${member}`);
  assert.equal(refused.status, 503);
  assert.match(refused.body.error, /^epoch 1: the tree of its stored leaves has root 0x[0-9a-f]{64}, not the epoch's root/);
  assert.equal((await getJson(`${gateway.httpUrl}api/epochs/2/proof/${member}`)).status, 200, 'the other epoch is still served');
  assert.equal((await getJson(`${gateway.httpUrl}api/epochs`)).status, 200);
});
