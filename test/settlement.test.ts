// Epoch settlement end to end: real shares from two members through a real gateway, closed into
// epochs, roots posted to a real anvil chain, leaves verified and claimed there, and the HTTP API.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MaxUint256, ZeroHash, id, parseUnits, type Contract, type Wallet } from 'ethers';
import { REINVESTMENT_BPS_PARAMETER, verifyRewardProof } from '../protocol/dao/index.js';
import { writeDeployment, type DaoContracts } from '../server/chain/deploy.js';
import type { SqliteLedger } from '../server/ledger/sqlite-ledger.js';
import type { Settlement } from '../server/settlement/settlement.js';
import type { EpochSummary } from '../server/settlement/settlement-store.js';
import { mined, startTestChain, type TestChain } from './helpers/chain.js';
import { getJson, startTestGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

const EPOCH_REWARD = parseUnits('100', 18);
/** Far longer than the test: the timer never closes an epoch by itself. */
const EPOCH_SECONDS = 30 * 86_400;

let chain: TestChain;
let contracts: DaoContracts;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let settlement: Settlement;
let memberA: Wallet;
let memberB: Wallet;
/** The DAO's Treasury contract: receives the reinvested share, and is no member. */
let treasury: string;
let api: string;

before(async () => {
  chain = await startTestChain();
  [memberA, memberB] = chain.wallets as [Wallet, Wallet];
  // A fresh DAO: its Treasury contract's balance is the reinvested share alone.
  const dao = await chain.deploy();
  treasury = dao.deployment.treasury;
  contracts = dao.contracts;
  const deploymentFile = join(mkdtempSync(join(tmpdir(), 'settlement-')), 'deployment.json');
  writeDeployment(deploymentFile, dao.deployment);
  gateway = await startTestGateway({
    chainRpcUrl: chain.anvil.rpcUrl,
    chainDeploymentFile: deploymentFile,
    publisherKey: chain.anvil.accounts[0]!.privateKey,
    epochSeconds: EPOCH_SECONDS,
    epochReward: '100',
  });
  settlement = gateway.view.settlement!;
  api = gateway.httpUrl + 'api/epochs';
});

after(async () => {
  await gateway?.close();
  await chain?.stop();
});

/** Submits `count` real shares for `member` and waits until each is acknowledged (committed). */
async function mine(member: string, count: number): Promise<void> {
  const miner = await TestMiner.tcp(gateway.stratumPort);
  try {
    await miner.login(`${member}.rig`);
    for (let i = 0; i < count; i++) {
      const share = await miner.findShare({ worker: `${member}.rig`, extranonce2: i.toString(16).padStart(miner.extranonce2Size * 2, '0') });
      const response = await miner.submit(share.params);
      assert.equal(response.result, true, `share ${i} of ${member} accepted: ${JSON.stringify(response.error)}`);
    }
  } finally {
    miner.close();
  }
}

function published(epoch: number): Promise<EpochSummary> {
  return waitFor(`epoch ${epoch} published`, async () => {
    const record = await settlement.store.epoch(epoch);
    return record?.status === 'published' ? record : undefined;
  });
}

/** Real work per member of the shares with id in (after, upTo], as the ledger holds it. */
function ledgerWork(after: number, upTo: number): Map<string, bigint> {
  const db = (gateway.view.ledger as SqliteLedger).db;
  const rows = db.prepare('SELECT member, sum(work) AS work FROM shares WHERE id > ? AND id <= ? GROUP BY member').all(after, upTo) as { member: string; work: number }[];
  return new Map(rows.map((r) => [r.member, BigInt(Math.round(r.work))]));
}

const balance = async (token: Contract, who: string) => (await token.getFunction('balanceOf')(who)) as bigint;
const rootEvents = async (epoch: number) => contracts.distributor.queryFilter(contracts.distributor.filters['RootPublished']!(epoch), 0);

test('closing an epoch posts its root; every leaf verifies on-chain; the reward splits pro rata with the reinvestment to the treasury', async () => {
  await mine(memberA.address, 3);
  await mine(memberB.address, 1);
  const publisherBefore = await balance(contracts.token, chain.deployer.address);

  const closed = await settlement.closeEpoch();
  assert.ok(closed, 'an epoch was created');
  assert.equal(closed.epoch, 1);
  assert.equal(closed.status, 'built', 'stored before any transaction');
  const epoch = await published(1);
  assert.match(epoch.txHash!, /^0x[0-9a-f]{64}$/);
  assert.ok(epoch.blockNumber! > 0);

  const onChain = await contracts.distributor.getFunction('epochs')(1);
  assert.equal(onChain.root, epoch.root);
  assert.equal(onChain.totalWork, epoch.totalWork);
  assert.equal(onChain.reward, epoch.reward);
  assert.equal(onChain.reinvested, epoch.reinvested);
  assert.equal(epoch.reward + epoch.reinvested, EPOCH_REWARD, 'the parts add up to the whole reward');
  assert.equal(epoch.reinvestmentBps, 1000, "the governor's deployed default");

  const work = ledgerWork(0, epoch.lastShareId!);
  assert.equal(work.size, 2);
  const totalWork = [...work.values()].reduce((a, b) => a + b, 0n);
  assert.equal(epoch.epochWork, totalWork);
  assert.equal(epoch.totalWork, totalWork);
  const pool = EPOCH_REWARD - (EPOCH_REWARD * 1000n) / 10_000n;
  let paid = 0n;
  for (const member of [memberA.address, memberB.address]) {
    const leaf = (await settlement.store.leaf(1, member))!;
    assert.equal(leaf.epochWork, work.get(member));
    assert.equal(leaf.cumulativeWork, work.get(member));
    assert.equal(leaf.epochReward, (pool * work.get(member)!) / totalWork, 'pro rata to work');
    assert.equal(leaf.cumulativeReward, leaf.epochReward);
    paid += leaf.epochReward;
    assert.equal(await contracts.distributor.getFunction('verifyLeaf')(1, member, leaf.cumulativeWork, leaf.cumulativeReward, leaf.proof), true);
    assert.equal(verifyRewardProof(epoch.root, { account: member, ...leaf }), true);
    // A leaf with a changed amount is not in the tree.
    assert.equal(await contracts.distributor.getFunction('verifyLeaf')(1, member, leaf.cumulativeWork, leaf.cumulativeReward + 1n, leaf.proof), false);
  }
  assert.equal(paid, epoch.reward);
  assert.equal(epoch.reinvested, EPOCH_REWARD - paid, 'the reinvestment share plus the rounding remainder');
  assert.equal(await balance(contracts.token, treasury), epoch.reinvested);
  assert.equal(await balance(contracts.token, await contracts.distributor.getAddress()), epoch.reward);
  assert.equal(publisherBefore - (await balance(contracts.token, chain.deployer.address)), EPOCH_REWARD);
  assert.equal((await rootEvents(1)).length, 1);
});

test('a close without new shares creates nothing and sends nothing', async () => {
  const nonce = await chain.provider.getTransactionCount(chain.deployer.address);
  assert.equal(await settlement.closeEpoch(), undefined);
  assert.equal((await settlement.store.epochs(10, 0)).length, 1);
  assert.equal((await settlement.currentEpoch()).epoch, 2);
  assert.equal(await chain.provider.getTransactionCount(chain.deployer.address), nonce, 'no transaction');
  const { current } = (await getJson(api)).body;
  assert.equal(current.closesWhenEmpty, false, 'the API says empty epochs do not close');
  assert.equal(current.pendingWork, false, 'no share since epoch 1 closed: endsAtMs closes only if one comes in');
});

test("an epoch with work from one member keeps the other's cumulative leaf", async () => {
  const first = (await settlement.store.epoch(1))!;
  await mine(memberB.address, 2);
  assert.equal((await getJson(api)).body.current.pendingWork, true, 'the shares wait for the next close');
  const closed = await settlement.closeEpoch();
  assert.equal(closed?.epoch, 2);
  const epoch = await published(2);
  assert.equal(epoch.members, 2);
  assert.equal(epoch.firstShareId, first.lastShareId);
  const a1 = (await settlement.store.leaf(1, memberA.address))!;
  const a2 = (await settlement.store.leaf(2, memberA.address))!;
  assert.equal(a2.epochWork, 0n);
  assert.equal(a2.epochReward, 0n);
  assert.equal(a2.cumulativeWork, a1.cumulativeWork);
  assert.equal(a2.cumulativeReward, a1.cumulativeReward);
  const b1 = (await settlement.store.leaf(1, memberB.address))!;
  const b2 = (await settlement.store.leaf(2, memberB.address))!;
  assert.equal(b2.epochWork, ledgerWork(first.lastShareId!, epoch.lastShareId!).get(memberB.address));
  assert.equal(b2.epochReward, epoch.reward, 'the only worker of the epoch gets all of the members’ part');
  assert.equal(b2.cumulativeWork, b1.cumulativeWork + b2.epochWork);
  assert.equal(b2.cumulativeReward, b1.cumulativeReward + b2.epochReward);
  assert.equal(epoch.totalWork, a2.cumulativeWork + b2.cumulativeWork);
  for (const leaf of [a2, b2]) {
    assert.equal(await contracts.distributor.getFunction('verifyLeaf')(2, leaf.member, leaf.cumulativeWork, leaf.cumulativeReward, leaf.proof), true);
  }
});

test('a member claims with the proof from the API and receives the cumulative reward', async () => {
  const { status, body } = await getJson(`${api}/latest/proof/${memberA.address}`);
  assert.equal(status, 200);
  assert.equal(body.epoch, 2);
  assert.equal(body.status, 'published');
  assert.equal(body.account, memberA.address);
  assert.equal(typeof body.cumulativeReward, 'string', 'bigints as decimal strings');
  const before = await balance(contracts.token, memberA.address);
  // Anyone may submit the claim; the tokens go to the account in the leaf.
  const submitter = contracts.distributor.connect(chain.wallets[2]!) as Contract;
  await mined(submitter.getFunction('claim')(body.account, body.epoch, BigInt(body.cumulativeWork), BigInt(body.cumulativeReward), body.proof));
  assert.equal((await balance(contracts.token, memberA.address)) - before, BigInt(body.cumulativeReward));
  assert.equal(await contracts.distributor.getFunction('claimed')(memberA.address), BigInt(body.cumulativeReward));
});

test('the epochs API: list, one epoch, proofs, a member history, and precise 400/404/405 answers', async () => {
  const list = await getJson(`${api}?limit=1`);
  assert.equal(list.status, 200);
  assert.deepEqual(Object.keys(list.body).sort(), ['current', 'epochs']);
  assert.equal(list.body.current.epoch, 3);
  assert.ok(list.body.current.endsAtMs > list.body.current.startMs);
  assert.equal(list.body.epochs.length, 1);
  const stored = (await settlement.store.epoch(2))!;
  assert.deepEqual(list.body.epochs[0], {
    epoch: 2,
    startMs: stored.startMs,
    endMs: stored.endMs,
    epochWork: stored.epochWork.toString(),
    totalWork: stored.totalWork.toString(),
    reward: stored.reward.toString(),
    reinvested: stored.reinvested.toString(),
    reinvestmentBps: 1000,
    root: stored.root,
    status: 'published',
    txHash: stored.txHash,
    blockNumber: stored.blockNumber,
    members: 2,
    publishedAtMs: stored.publishedAtMs,
    // The deployment's challenge period is 0: final from its publication.
    challengeEndsAtMs: stored.publishedAtMs,
    vetoed: null,
  });
  assert.deepEqual((await getJson(`${api}?offset=1`)).body.epochs.map((e: { epoch: number }) => e.epoch), [1]);
  assert.equal((await getJson(`${api}/1`)).body.root, (await settlement.store.epoch(1))!.root);
  assert.equal((await getJson(`${api}/latest`)).body.epoch, 2);

  const proof = await getJson(`${api}/1/proof/${memberB.address.toLowerCase()}`);
  assert.equal(proof.status, 200);
  const leaf = (await settlement.store.leaf(1, memberB.address))!;
  assert.deepEqual(proof.body, {
    epoch: 1,
    root: (await settlement.store.epoch(1))!.root,
    status: 'published',
    account: memberB.address,
    epochWork: leaf.epochWork.toString(),
    epochReward: leaf.epochReward.toString(),
    cumulativeWork: leaf.cumulativeWork.toString(),
    cumulativeReward: leaf.cumulativeReward.toString(),
    proof: leaf.proof,
  });

  const history = await getJson(`${api}/members/${memberB.address}`);
  assert.equal(history.status, 200);
  assert.equal(history.body.account, memberB.address);
  assert.deepEqual(history.body.leaves.map((l: { epoch: number }) => l.epoch), [2, 1]);
  assert.equal(history.body.leaves[0].status, 'published');
  assert.equal(history.body.leaves[0].proof, undefined, 'no proofs in the history');
  assert.deepEqual((await getJson(`${api}/members/${treasury}`)).body.leaves, []);

  const mixedBad = swapCase(memberB.address);
  const cases: [string, number, RegExp][] = [
    [`${api}/0`, 400, /epoch must be a positive integer or "latest", got "0"/],
    [`${api}/-1`, 400, /positive integer/],
    [`${api}/1.5`, 400, /positive integer/],
    [`${api}/abc/proof/${memberA.address}`, 400, /positive integer/],
    [`${api}/99`, 404, /epoch 99 does not exist/],
    [`${api}/99/proof/${memberA.address}`, 404, /epoch 99 does not exist/],
    [`${api}/1/proof/0x1234`, 400, /expected 0x and 40 hex digits/],
    [`${api}/1/proof/${mixedBad}`, 400, /bad EIP-55 checksum/],
    [`${api}/1/proof/${treasury}`, 404, new RegExp(`${treasury} has no leaf in epoch 1`)],
    [`${api}/members/nope`, 400, /expected 0x and 40 hex digits/],
    [`${api}?limit=0`, 400, /limit must be an integer in 1\.\.100, got "0"/],
    [`${api}?limit=x`, 400, /limit must be an integer/],
    [`${api}?offset=-3`, 400, /offset must be an integer/],
    [`${api}/1/nonsense`, 404, /no such endpoint/],
  ];
  for (const [url, status, message] of cases) {
    const answer = await getJson(url);
    assert.equal(answer.status, status, url);
    assert.match(answer.body.error, message, url);
  }
  const post = await fetch(`${api}/1`, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.match(((await post.json()) as { error: string }).error, /POST is not allowed/);
});

function swapCase(address: string): string {
  // Flips the case of every letter: still 0x + 40 hex digits, but the EIP-55 checksum fails.
  return '0x' + [...address.slice(2)].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
}

test('an executed governance vote on reinvestmentBps changes the split of the next epoch', async () => {
  const governor = contracts.governor;
  const leafOf = async (member: string) => {
    const leaf = (await settlement.store.leaf(2, member))!;
    return { cumulativeWork: leaf.cumulativeWork, cumulativeReward: leaf.cumulativeReward, proof: leaf.proof };
  };
  const asA = governor.connect(memberA) as Contract;
  const asB = governor.connect(memberB) as Contract;
  await mined(asA.getFunction('propose')({ kind: 1, epoch: 2, parameter: REINVESTMENT_BPS_PARAMETER, value: 2500, description: 'reinvest a quarter' }, await leafOf(memberA.address)));
  const id = (await governor.getFunction('proposalCount')()) as bigint;
  await mined(asA.getFunction('castVote')(id, 1, await leafOf(memberA.address)));
  await mined(asB.getFunction('castVote')(id, 1, await leafOf(memberB.address)));
  await chain.increaseTime(3601);
  await mined(asA.getFunction('execute')(id));
  assert.equal(await governor.getFunction('parameters')(REINVESTMENT_BPS_PARAMETER), 2500n);

  await mine(memberA.address, 1);
  await settlement.closeEpoch();
  const epoch = await published(3);
  assert.equal(epoch.reinvestmentBps, 2500);
  const a3 = (await settlement.store.leaf(3, memberA.address))!;
  assert.equal(a3.epochReward, EPOCH_REWARD - (EPOCH_REWARD * 2500n) / 10_000n, 'the only worker gets the rest');
  assert.equal(epoch.reinvested, (EPOCH_REWARD * 2500n) / 10_000n);
});

test('without token allowance the publish fails and is retried; once restored the root is published exactly once', async () => {
  const distributor = await contracts.distributor.getAddress();
  await mined(contracts.token.getFunction('approve')(distributor, 0n));
  await mine(memberB.address, 1);
  const closed = await settlement.closeEpoch();
  assert.equal(closed?.epoch, 4);
  const error = await waitFor('a failed publish', () => settlement.publishError);
  assert.match(error, /epoch 4: reverted: ERC20InsufficientAllowance/);
  assert.equal((await settlement.store.epoch(4))!.status, 'built');
  assert.equal(await contracts.distributor.getFunction('latestEpoch')(), 3n);

  await mined(contracts.token.getFunction('approve')(distributor, MaxUint256));
  const epoch = await published(4);
  assert.equal(settlement.publishError, undefined);
  assert.equal((await contracts.distributor.getFunction('epochs')(4)).root, epoch.root);
  assert.equal((await rootEvents(4)).length, 1);
  assert.equal(settlement.problem, undefined);
});

test('a root for the epoch that the gateway did not build stops publishing and is reported, never overwritten', async () => {
  const foreign = id('not the gateway’s tree');
  await mined(contracts.distributor.getFunction('publishRoot')(5, foreign, 1n, 0n, 0n, ZeroHash));
  await mine(memberA.address, 1);
  const closed = await settlement.closeEpoch();
  assert.equal(closed?.epoch, 5);
  const problem = await waitFor('the problem report', () => settlement.problem);
  assert.match(problem, new RegExp(`epoch 5: the chain holds root ${foreign} but this ledger built ${closed.root}`));
  assert.equal((await settlement.store.epoch(5))!.status, 'built');
  assert.equal((await rootEvents(5)).length, 1, 'only the foreign root');
  // Later epochs are still closed and stored, but none is sent while the problem stands.
  const nonce = await chain.provider.getTransactionCount(chain.deployer.address);
  await mine(memberB.address, 1);
  assert.equal((await settlement.closeEpoch())?.status, 'built');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await settlement.store.epoch(6))!.status, 'built');
  assert.equal(await chain.provider.getTransactionCount(chain.deployer.address), nonce);
});

test('the timer closes epochs at wall-clock multiples of epochSeconds, and skips a period without shares', async () => {
  const dao = await chain.deploy();
  const deploymentFile = join(mkdtempSync(join(tmpdir(), 'settlement-')), 'deployment.json');
  writeDeployment(deploymentFile, dao.deployment);
  const timed = await startTestGateway({ chainRpcUrl: chain.anvil.rpcUrl, chainDeploymentFile: deploymentFile, publisherKey: chain.anvil.accounts[0]!.privateKey, epochSeconds: 1 });
  try {
    const timedSettlement = timed.view.settlement!;
    const current = await timedSettlement.currentEpoch();
    assert.equal(current.epoch, 1);
    assert.equal(current.endsAtMs % 1000, 0, 'aligned to the wall clock');
    const miner = await TestMiner.tcp(timed.stratumPort);
    try {
      await miner.login(`${memberA.address}.rig`);
      const share = await miner.findShare({ worker: `${memberA.address}.rig` });
      assert.equal((await miner.submit(share.params)).result, true);
    } finally {
      miner.close();
    }
    const first = await waitFor('epoch 1 closed by the timer', () => timedSettlement.store.epoch(1), 5000);
    assert.ok(first.endMs % 1000 < 800, `closed at a second boundary (end ${first.endMs})`);
    // Two boundaries without shares: nothing is closed.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    assert.equal((await timedSettlement.store.epochs(10)).length, 1);
    assert.equal((await timedSettlement.currentEpoch()).epoch, 2);
    const { current: open } = (await getJson(`${timed.httpUrl}api/epochs`)).body;
    assert.deepEqual([open.epoch, open.closesWhenEmpty, open.pendingWork], [2, false, false], 'epoch 2 stays open: it closes at endsAtMs only if a share comes in');
    assert.ok(open.endsAtMs > Date.now() - 1000 && open.endsAtMs % 1000 === 0, `the next boundary: ${open.endsAtMs}`);
    await waitFor('epoch 1 published', async () => (await timedSettlement.store.epoch(1))?.status === 'published' || undefined);
  } finally {
    await timed.close();
  }
});
