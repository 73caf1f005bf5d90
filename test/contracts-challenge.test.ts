// The challenge window on a real anvil chain: a published root is claimable, and the epoch new
// proposals are pinned to, only once its challenge period is over; until then a guardian may veto
// it, and a vetoed root is never final (the next root supersedes it). Reverts are checked by their
// exact custom error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Wallet, ZeroHash, id, type Contract, type TransactionReceipt } from 'ethers';
import { CHALLENGE_PERIOD_SECONDS_PARAMETER, ProposalKind, VoteSupport } from '../protocol/dao/index.js';
import type { DaoContracts } from '../server/chain/deploy.js';
import { TEST_VOTING_PERIOD_SECONDS, comparable, eventsOf, expectRevert, mined, startTestChain, workTree, type TestChain } from './helpers/chain.js';

const CHALLENGE_SECONDS = 3600;
const GUARDIAN_ROLE = id('GUARDIAN_ROLE');
const GOVERNOR_ROLE = id('GOVERNOR_ROLE');

let chain: TestChain;
let alice: Wallet, bob: Wallet, guardian: Wallet, outsider: Wallet;
const gas = new Map<string, bigint>();
const record = (label: string, receipt: TransactionReceipt): void => void gas.set(label, receipt.gasUsed);

before(async () => {
  chain = await startTestChain();
  [alice, bob, guardian, outsider] = chain.wallets as [Wallet, Wallet, Wallet, Wallet];
});

after(async () => {
  await chain?.stop();
  const rows = [...gas].map(([label, used]) => `  ${label.padEnd(34)} ${used.toString().padStart(9)}`);
  console.log(['gas used (anvil, solc 0.8.30, optimizer 200 runs):', ...rows].join('\n'));
});

const as = <T extends Contract>(contract: T, wallet: Wallet): T => contract.connect(wallet) as T;

async function challengedDao(challengePeriodSeconds = CHALLENGE_SECONDS): Promise<DaoContracts> {
  return (await chain.deploy({ guardian: guardian.address, challengePeriodSeconds })).contracts;
}

/** Epoch `epoch`'s root over Alice and Bob, each owed `reward` in total so far. */
async function publish(c: DaoContracts, epoch: number, work: bigint, reward: bigint) {
  const tree = workTree([[alice.address, work, reward], [bob.address, work, reward]]);
  const receipt = await mined(c.distributor.publishRoot(epoch, tree.root, tree.totalWork, 2n * reward, 0n, ZeroHash));
  const block = await chain.provider.getBlock(receipt.blockNumber);
  return { tree, publishedAt: BigInt(block!.timestamp) };
}

const claimArgs = (account: string, epoch: number, tree: ReturnType<typeof workTree>) => {
  const leaf = tree.leaf(account);
  return [account, epoch, leaf.cumulativeWork, leaf.cumulativeReward, leaf.proof] as const;
};
const signal = (epoch: number) => ({ kind: ProposalKind.Signal, epoch, parameter: ZeroHash, value: 0n, description: 'a signal' });

describe('the challenge window', () => {
  test('a root in its challenge period cannot be claimed; after it, it can', async () => {
    const c = await challengedDao();
    const { tree, publishedAt } = await publish(c, 1, 10n, 100n);
    const endsAt = publishedAt + BigInt(CHALLENGE_SECONDS);
    assert.equal(await c.distributor.challengeEndsAt(1), endsAt);
    assert.equal(await c.distributor.isFinal(1), false);
    assert.equal(await c.distributor.latestFinalEpoch(), 0n);
    await expectRevert(as(c.distributor, alice).claim(...claimArgs(alice.address, 1, tree)), 'RootInChallenge', [1, endsAt]);
    await expectRevert(
      as(c.distributor, outsider).claimMany([{ account: alice.address, epoch: 1, ...tree.leaf(alice.address) }]),
      'RootInChallenge',
      [1, endsAt],
    );

    await chain.increaseTime(CHALLENGE_SECONDS);
    assert.equal(await c.distributor.isFinal(1), true);
    assert.equal(await c.distributor.latestFinalEpoch(), 1n);
    record('claim (final root)', await mined(as(c.distributor, alice).claim(...claimArgs(alice.address, 1, tree))));
    assert.equal(await c.distributor.claimed(alice.address), 100n);
  });

  test('only the guardian vetoes, with a reason, only within the period, once', async () => {
    const c = await challengedDao();
    await publish(c, 1, 10n, 100n);
    assert.equal(await c.distributor.hasRole(GUARDIAN_ROLE, guardian.address), true);
    await expectRevert(as(c.distributor, outsider).vetoRoot(1, 'no'), 'AccessControlUnauthorizedAccount', [outsider.address, GUARDIAN_ROLE]);
    // The publisher (the deployer here) is not a guardian either.
    await expectRevert(c.distributor.vetoRoot(1, 'no'), 'AccessControlUnauthorizedAccount', [chain.deployer.address, GUARDIAN_ROLE]);
    await expectRevert(as(c.distributor, guardian).vetoRoot(1, ''), 'EmptyReason');
    await expectRevert(as(c.distributor, guardian).vetoRoot(2, 'never published'), 'UnknownEpoch', [2]);

    const receipt = await mined(as(c.distributor, guardian).vetoRoot(1, 'leaf of 0xabc over-credited'));
    record('vetoRoot', receipt);
    assert.deepEqual(eventsOf(receipt, c.distributor, 'RootVetoed').map(comparable), [[1n, 'leaf of 0xabc over-credited', guardian.address]].map(comparable));
    assert.ok((await c.distributor.vetoedAt(1)) > 0n);
    await expectRevert(as(c.distributor, guardian).vetoRoot(1, 'again'), 'RootWasVetoed', [1]);

    const { publishedAt } = await publish(c, 2, 20n, 200n);
    await chain.increaseTime(CHALLENGE_SECONDS);
    await expectRevert(as(c.distributor, guardian).vetoRoot(2, 'too late'), 'ChallengePeriodOver', [2, publishedAt + BigInt(CHALLENGE_SECONDS)]);
  });

  test('a vetoed root can never be claimed against or pinned for votes; the next root works', async () => {
    const c = await challengedDao();
    const first = await publish(c, 1, 10n, 100n);
    await chain.increaseTime(CHALLENGE_SECONDS);
    const vetoed = await publish(c, 2, 20n, 200n);
    await mined(as(c.distributor, guardian).vetoRoot(2, 'wrong totals'));
    await chain.increaseTime(CHALLENGE_SECONDS);
    // Past its window, still never final.
    assert.equal(await c.distributor.isFinal(2), false);
    assert.equal(await c.distributor.latestEpoch(), 2n);
    assert.equal(await c.distributor.latestFinalEpoch(), 1n);
    await expectRevert(as(c.distributor, alice).claim(...claimArgs(alice.address, 2, vetoed.tree)), 'RootWasVetoed', [2]);
    // Proposals (and so votes) are pinned to the latest final epoch: the vetoed one is refused.
    await expectRevert(as(c.governor, alice).propose(signal(2), vetoed.tree.leaf(alice.address)), 'EpochNotLatest', [2, 1]);
    const pinned = await mined(as(c.governor, alice).propose(signal(1), first.tree.leaf(alice.address)));
    assert.equal(eventsOf(pinned, c.governor, 'ProposalCreated')[0]?.[3], 1n);

    // The next root settles everything, once its own window is over.
    const next = await publish(c, 3, 30n, 300n);
    await expectRevert(as(c.governor, bob).propose(signal(3), next.tree.leaf(bob.address)), 'EpochNotLatest', [3, 1]);
    await chain.increaseTime(CHALLENGE_SECONDS);
    assert.equal(await c.distributor.latestFinalEpoch(), 3n);
    await mined(as(c.distributor, alice).claim(...claimArgs(alice.address, 3, next.tree)));
    assert.equal(await c.distributor.claimed(alice.address), 300n);
    const proposal = await mined(as(c.governor, bob).propose(signal(3), next.tree.leaf(bob.address)));
    const [created] = eventsOf(proposal, c.governor, 'ProposalCreated');
    await mined(as(c.governor, alice).castVote(created![0], VoteSupport.For, next.tree.leaf(alice.address)));
  });

  test('the challenge period changes only through a passed proposal, for roots published afterwards', async () => {
    const c = await challengedDao(0);
    const { tree } = await publish(c, 1, 10n, 100n);
    // Period 0: final at once, and no veto is possible.
    assert.equal(await c.distributor.isFinal(1), true);
    await expectRevert(as(c.distributor, guardian).vetoRoot(1, 'too late'), 'ChallengePeriodOver');
    assert.equal(await c.governor.parameters(CHALLENGE_PERIOD_SECONDS_PARAMETER), 0n);
    assert.equal(await c.distributor.hasRole(GOVERNOR_ROLE, await c.governor.getAddress()), true);
    await expectRevert(c.distributor.setChallengePeriod(60), 'AccessControlUnauthorizedAccount', [chain.deployer.address, GOVERNOR_ROLE]);
    const tooLong = { ...signal(1), kind: ProposalKind.ParameterChange, parameter: CHALLENGE_PERIOD_SECONDS_PARAMETER, value: 31n * 24n * 3600n };
    await expectRevert(as(c.governor, alice).propose(tooLong, tree.leaf(alice.address)), 'ParameterOutOfRange');

    const change = { ...tooLong, value: BigInt(CHALLENGE_SECONDS), description: 'a day to audit each root' };
    const [created] = eventsOf(await mined(as(c.governor, alice).propose(change, tree.leaf(alice.address))), c.governor, 'ProposalCreated');
    await mined(as(c.governor, alice).castVote(created![0], VoteSupport.For, tree.leaf(alice.address)));
    await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 60);
    const executed = await mined(c.governor.execute(created![0]));
    record('execute (challengePeriodSeconds)', executed);
    assert.deepEqual(eventsOf(executed, c.distributor, 'ChallengePeriodChanged').map(comparable), [[0n, BigInt(CHALLENGE_SECONDS)]]);
    assert.equal(await c.distributor.challengePeriod(), BigInt(CHALLENGE_SECONDS));
    assert.equal(await c.governor.parameters(CHALLENGE_PERIOD_SECONDS_PARAMETER), BigInt(CHALLENGE_SECONDS));

    // Epoch 1 keeps the window it was published with (none); epoch 2 gets the new one.
    assert.equal(await c.distributor.isFinal(1), true);
    const second = await publish(c, 2, 20n, 200n);
    assert.equal(await c.distributor.challengeEndsAt(2), second.publishedAt + BigInt(CHALLENGE_SECONDS));
    await expectRevert(as(c.distributor, bob).claim(...claimArgs(bob.address, 2, second.tree)), 'RootInChallenge');
    await mined(as(c.distributor, guardian).vetoRoot(2, 'now there is time to look'));
  });
});
