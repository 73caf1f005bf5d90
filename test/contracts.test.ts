// The DAO contracts on a real anvil chain: one node for the file, a fresh deployment per group so
// each group starts from known state. Reverts are checked by their exact custom error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JsonRpcProvider,
  Signature,
  TypedDataEncoder,
  Wallet,
  ContractFactory,
  ZeroAddress,
  ZeroHash,
  concat,
  getBytes,
  id,
  toBeHex,
  type Contract,
  type TransactionReceipt,
} from 'ethers';
import {
  BALLOT_TYPES,
  governorDomain,
  PROPOSAL_REQUEST_TYPES,
  PROPOSAL_THRESHOLD_WORK_PARAMETER,
  ProposalKind,
  REINVESTMENT_BPS_PARAMETER,
  VoteSupport,
  spendingParameter,
} from '../protocol/dao/index.js';
import { startAnvil } from '../server/chain/anvil.js';
import { loadArtifact } from '../server/chain/artifacts.js';
import {
  DISTRIBUTOR_FUNCTIONS,
  GOVERNOR_FUNCTIONS,
  TOKEN_FUNCTIONS,
  TREASURY_FUNCTIONS,
  connectDao,
  readDeployment,
  writeDeployment,
  type DaoContracts,
  type DaoDeployment,
} from '../server/chain/deploy.js';
import {
  TEST_VOTING_PERIOD_SECONDS,
  comparable,
  eventsOf,
  expectRevert,
  mined,
  startTestChain,
  workTree,
  type LeafProof,
  type TestChain,
} from './helpers/chain.js';

const SIGNAL = ProposalKind.Signal;
const PARAMETER_CHANGE = ProposalKind.ParameterChange;
const SPENDING = ProposalKind.Spending;
const [AGAINST, FOR] = [VoteSupport.Against, VoteSupport.For];
const [ACTIVE, DEFEATED, SUCCEEDED, EXECUTED, EXPIRED, SUPERSEDED] = [0, 1, 2, 3, 4, 5];
const REINVESTMENT_BPS = REINVESTMENT_BPS_PARAMETER;
const PROPOSAL_THRESHOLD_WORK = PROPOSAL_THRESHOLD_WORK_PARAMETER;
const PUBLISHER_ROLE = id('PUBLISHER_ROLE');
/** Order of secp256k1: s and n - s are both valid ECDSA signatures of the same message. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const E18 = 10n ** 18n;

let chain: TestChain;
let alice: Wallet, bob: Wallet, carol: Wallet, dave: Wallet, erin: Wallet, relayer: Wallet, outsider: Wallet;
const gas = new Map<string, bigint>();
const record = (label: string, receipt: TransactionReceipt): void => void gas.set(label, receipt.gasUsed);

before(async () => {
  chain = await startTestChain();
  [alice, bob, carol, dave, erin, relayer, outsider] = chain.wallets as [Wallet, Wallet, Wallet, Wallet, Wallet, Wallet, Wallet];
});

after(async () => {
  await chain?.stop();
  const rows = [...gas].map(([label, used]) => `  ${label.padEnd(34)} ${used.toString().padStart(9)}`);
  console.log(['gas used (anvil, solc 0.8.30, optimizer 200 runs):', ...rows].join('\n'));
});

/** A fresh DAO; its Treasury contract holds the reinvested funds on their own. */
async function freshDao(recordGas = false): Promise<{ d: DaoDeployment; c: DaoContracts; treasury: string }> {
  const { deployment, contracts } = await chain.deploy(recordGas ? { onTransaction: record } : {});
  return { d: deployment, c: contracts, treasury: deployment.treasury };
}

/** Stands for an epoch's audit bundle hash: the distributor stores and emits it, never reads it. */
const BUNDLE_HASH = id('audit bundle');

async function publish(c: DaoContracts, epoch: number, values: [Wallet, bigint, bigint][], reward: bigint, reinvested = 0n) {
  const tree = workTree(values.map(([w, work, cumulativeReward]) => [w.address, work, cumulativeReward]));
  const receipt = await mined(c.distributor.publishRoot(epoch, tree.root, tree.totalWork, reward, reinvested, BUNDLE_HASH));
  return { tree, receipt };
}

const balanceOf = (c: DaoContracts, account: string): Promise<bigint> => c.token.balanceOf(account);
const claimArgs = (account: string, epoch: number, leaf: LeafProof) =>
  [account, epoch, leaf.cumulativeWork, leaf.cumulativeReward, leaf.proof] as const;
/** `contract` with `wallet` as the sender. */
const as = <T extends Contract>(contract: T, wallet: Wallet): T => contract.connect(wallet) as T;

/**
 * Runs `send` with automine off, so its transactions wait in the pool together, then mines them in
 * one block (anvil orders a block by fee: the highest maxFeePerGas first) and turns automine back on.
 */
async function withAutomineOff<T>(send: () => Promise<T>): Promise<T> {
  await chain.provider.send('evm_setAutomine', [false]);
  try {
    const sent = await send();
    await chain.provider.send('evm_mine', []);
    return sent;
  } finally {
    await chain.provider.send('evm_setAutomine', [true]);
  }
}

describe('publishing roots and claiming', () => {
  let c: DaoContracts, d: DaoDeployment, treasury: string;
  let tree: ReturnType<typeof workTree>;
  const values = (): [Wallet, bigint, bigint][] => [
    [alice, 500n, 50n * E18], [bob, 300n, 30n * E18], [carol, 100n, 10n * E18], [dave, 60n, 6n * E18], [erin, 40n, 4n * E18],
  ];

  before(async () => ({ c, d, treasury } = await freshDao(true)));

  test('publishRoot pulls the reward into the distributor and the reinvested share to the treasury', async () => {
    const before = await balanceOf(c, chain.deployer.address);
    const published = await publish(c, 1, values(), 100n * E18, 11n * E18);
    tree = published.tree;
    record('publishRoot', published.receipt);
    assert.equal(await balanceOf(c, d.distributor), 100n * E18);
    assert.equal(await balanceOf(c, treasury), 11n * E18);
    assert.equal(await balanceOf(c, chain.deployer.address), before - 111n * E18);
    assert.deepEqual(eventsOf(published.receipt, c.distributor, 'RootPublished').map(comparable), [[1n, tree.root, 1000n, 100n * E18, 11n * E18, BUNDLE_HASH]].map(comparable));
    const epoch = await c.distributor.epochs(1);
    assert.deepEqual([epoch.root, epoch.totalWork, epoch.reward, epoch.reinvested], [tree.root, 1000n, 100n * E18, 11n * E18]);
    assert.equal(epoch.bundleHash, BUNDLE_HASH, 'the audit bundle hash is stored with the root');
    assert.equal(await c.distributor.latestEpoch(), 1n);
    assert.equal(await c.distributor.totalWorkOf(1), 1000n);
    assert.equal(await c.distributor.totalWorkOf(2), 0n);
  });

  test('claim pays the leaf and emits Claimed', async () => {
    const receipt = await mined(as(c.distributor, alice).claim(...claimArgs(alice.address, 1, tree.leaf(alice.address))));
    record('claim', receipt);
    assert.equal(await balanceOf(c, alice.address), 50n * E18);
    assert.equal(await c.distributor.claimed(alice.address), 50n * E18);
    assert.deepEqual(eventsOf(receipt, c.distributor, 'Claimed').map(comparable), [[alice.address, 1n, 50n * E18, 50n * E18, alice.address]].map(comparable));
  });

  test('a relayer can submit the claim of another account; the tokens go to the account', async () => {
    const relayerBalance = await balanceOf(c, relayer.address);
    const receipt = await mined(as(c.distributor, relayer).claim(...claimArgs(bob.address, 1, tree.leaf(bob.address))));
    assert.equal(await balanceOf(c, bob.address), 30n * E18);
    assert.equal(await balanceOf(c, relayer.address), relayerBalance);
    assert.deepEqual(eventsOf(receipt, c.distributor, 'Claimed').map(comparable), [[bob.address, 1n, 30n * E18, 30n * E18, relayer.address]].map(comparable));
  });

  test('invalid claims revert with the exact error', async () => {
    const bobLeaf = tree.leaf(bob.address);
    await expectRevert(c.distributor.claim(...claimArgs(bob.address, 1, bobLeaf)), 'NothingToClaim', [bob.address, 30n * E18, 30n * E18]);
    // carol's values with bob's proof
    await expectRevert(c.distributor.claim(...claimArgs(carol.address, 1, { ...tree.leaf(carol.address), proof: bobLeaf.proof })), 'InvalidProof', [carol.address, 1]);
    // someone else presenting carol's leaf values and proof as their own
    await expectRevert(c.distributor.claim(...claimArgs(outsider.address, 1, tree.leaf(carol.address))), 'InvalidProof', [outsider.address, 1]);
    await expectRevert(c.distributor.claim(...claimArgs(carol.address, 5, tree.leaf(carol.address))), 'UnknownEpoch', [5]);
  });

  test('claimMany pays a batch, skips a claim already done, and reverts as a whole on an invalid one', async () => {
    const batch = [carol, dave, erin].map((w) => ({ account: w.address, epoch: 1, ...tree.leaf(w.address) }));
    const spent = { account: bob.address, epoch: 1, ...tree.leaf(bob.address) };
    const forged = { ...batch[0]!, cumulativeReward: batch[0]!.cumulativeReward + 1n };
    await expectRevert(as(c.distributor, relayer).claimMany([...batch, forged]), 'InvalidProof', [carol.address, 1]);
    await expectRevert(as(c.distributor, relayer).claimMany([...batch, { ...spent, epoch: 7 }]), 'UnknownEpoch', [7]);
    const receipt = await mined(as(c.distributor, relayer).claimMany(batch));
    record(`claimMany(${batch.length})`, receipt);
    assert.deepEqual(await Promise.all([carol, dave, erin].map((w) => balanceOf(c, w.address))), [10n * E18, 6n * E18, 4n * E18]);
    assert.equal(eventsOf(receipt, c.distributor, 'Claimed').length, 3);
    assert.equal(await balanceOf(c, d.distributor), 0n, 'every leaf of the epoch is paid and nothing more');
    // Bob's claim was done earlier, and the three above now are too: all skipped, nothing paid.
    const again = await mined(as(c.distributor, relayer).claimMany([spent, ...batch]));
    record(`claimMany(${batch.length + 1}), all skipped`, again);
    assert.equal(eventsOf(again, c.distributor, 'Claimed').length, 0);
    const NOTHING_TO_CLAIM = c.distributor.interface.getError('NothingToClaim')!.selector;
    assert.deepEqual(
      eventsOf(again, c.distributor, 'ClaimSkipped').map(comparable),
      [spent, ...batch].map((x) => [x.account, 1n, NOTHING_TO_CLAIM, x.cumulativeReward, x.cumulativeReward]).map(comparable),
    );
  });

  test('a claim() mined ahead of a pending claimMany leaves the rest of the batch paid', async () => {
    const { c: fresh } = await freshDao();
    const { tree: t } = await publish(fresh, 1, [[alice, 5n, 5n * E18], [bob, 3n, 3n * E18], [carol, 2n, 2n * E18]], 10n * E18);
    const batch = [alice, bob, carol].map((w) => ({ account: w.address, epoch: 1, ...t.leaf(w.address) }));
    const bobs = batch[1]!;
    const inBlock = await withAutomineOff(async () => {
      const relayed = await as(fresh.distributor, relayer).claimMany(batch, { gasLimit: 500_000, maxPriorityFeePerGas: 1n, maxFeePerGas: 10n ** 10n });
      // An outsider copies Bob's claim out of the pending batch and pays a higher tip.
      const copied = await as(fresh.distributor, outsider).claim(...claimArgs(bobs.account, 1, bobs), { gasLimit: 200_000, maxPriorityFeePerGas: 2n * 10n ** 9n, maxFeePerGas: 2n * 10n ** 10n });
      return [relayed, copied];
    });
    const [relayed, copied] = await Promise.all(inBlock.map((tx) => tx.wait()));
    assert.ok(relayed!.status === 1 && copied!.status === 1, 'both mined without a revert');
    assert.equal(relayed!.blockNumber, copied!.blockNumber);
    assert.ok(copied!.index < relayed!.index, 'the outsider went first');
    assert.deepEqual(await Promise.all([alice, bob, carol].map((w) => balanceOf(fresh, w.address))), [5n * E18, 3n * E18, 2n * E18]);
    assert.deepEqual(eventsOf(relayed!, fresh.distributor, 'Claimed').map((e) => e[0]), [alice.address, carol.address]);
    assert.deepEqual(eventsOf(relayed!, fresh.distributor, 'ClaimSkipped').map((e) => e[0]), [bob.address]);
  });

  test('only the publisher publishes, once per epoch, in increasing order, never an empty root', async () => {
    const root = workTree([[alice.address, 1n, 1n]]).root;
    await expectRevert(as(c.distributor, outsider).publishRoot(2, root, 1, 0, 0, ZeroHash), 'AccessControlUnauthorizedAccount', [outsider.address, PUBLISHER_ROLE]);
    await expectRevert(c.distributor.publishRoot(1, root, 1, 0, 0, ZeroHash), 'EpochAlreadyPublished', [1]);
    await expectRevert(c.distributor.publishRoot(0, root, 1, 0, 0, ZeroHash), 'EpochOutOfOrder', [0, 1]);
    await expectRevert(c.distributor.publishRoot(2, ZeroHash, 1, 0, 0, ZeroHash), 'EmptyRoot', []);
    // Gaps are allowed (epochs without new work), but a skipped epoch cannot be filled in later.
    await mined(c.distributor.publishRoot(3, root, 1, 0, 0, ZeroHash));
    await expectRevert(c.distributor.publishRoot(2, root, 1, 0, 0, ZeroHash), 'EpochOutOfOrder', [2, 3]);
  });
});

describe('cumulative claims across epochs', () => {
  let c: DaoContracts;
  const trees: ReturnType<typeof workTree>[] = [];
  const claim = (w: Wallet, epoch: number) => mined(c.distributor.claim(...claimArgs(w.address, epoch, trees[epoch - 1]!.leaf(w.address))));

  before(async () => {
    ({ c } = await freshDao());
    trees.push((await publish(c, 1, [[alice, 10n, 100n], [bob, 5n, 50n]], 150n)).tree);
  });

  test('a newer root pays only the difference to a member who already claimed', async () => {
    await claim(alice, 1);
    assert.equal(await balanceOf(c, alice.address), 100n);
    trees.push((await publish(c, 2, [[alice, 25n, 250n], [bob, 12n, 120n], [carol, 3n, 30n]], 250n)).tree);
    const receipt = await claim(alice, 2);
    assert.equal(await balanceOf(c, alice.address), 250n);
    assert.deepEqual(eventsOf(receipt, c.distributor, 'Claimed')[0]?.slice(0, 4).map(comparable), [alice.address, 2n, 150n, 250n].map(comparable));
  });

  test('a member who skipped epoch 1 claims everything from epoch 2', async () => {
    await claim(bob, 2);
    assert.equal(await balanceOf(c, bob.address), 120n);
  });

  test('an unclaimed balance survives newer roots', async () => {
    trees.push((await publish(c, 3, [[alice, 30n, 300n], [bob, 12n, 120n], [carol, 8n, 80n]], 100n)).tree);
    await claim(carol, 3);
    assert.equal(await balanceOf(c, carol.address), 80n);
  });

  test('an old epoch cannot be claimed after a newer one', async () => {
    await expectRevert(c.distributor.claim(...claimArgs(alice.address, 1, trees[0]!.leaf(alice.address))), 'NothingToClaim', [alice.address, 100n, 250n]);
    // alice's epoch-3 increment is still there, and the distributor holds exactly what is owed.
    await claim(alice, 3);
    assert.equal(await balanceOf(c, alice.address), 300n);
    assert.equal(await balanceOf(c, c.distributor.target as string), 0n);
  });
});

// ---------------------------------------------------------------- governance

/** Works sum to 1000, so the 10 % quorum is 100 work. */
async function governedDao() {
  const { c, d } = await freshDao();
  const { tree } = await publish(c, 1, [[alice, 500n, 5n], [bob, 250n, 2n], [carol, 150n, 1n], [dave, 60n, 1n], [erin, 40n, 1n]], 10n);
  return { c, d, tree };
}
const domain = (d: DaoDeployment) => governorDomain(d.chainId, d.governor);
const request = (kind: number, parameter = ZeroHash, value = 0n, description = 'a proposal', epoch = 1) => ({ kind, epoch, parameter, value, description });
type Request = ReturnType<typeof request>;

async function propose(c: DaoContracts, proposer: Wallet, req: Request, leaf: LeafProof): Promise<{ id: bigint; receipt: TransactionReceipt }> {
  const receipt = await mined(as(c.governor, proposer).propose(req, leaf));
  const [created] = eventsOf(receipt, c.governor, 'ProposalCreated');
  assert.ok(created, 'ProposalCreated emitted');
  return { id: created[0] as bigint, receipt };
}

describe('governance: proposals', () => {
  let c: DaoContracts, d: DaoDeployment, tree: ReturnType<typeof workTree>;
  before(async () => ({ c, d, tree } = await governedDao()));

  test('a member opens a Signal and a ParameterChange, pinned to the epoch with its quorum', async () => {
    const signal = await propose(c, alice, request(SIGNAL, ZeroHash, 0n, 'buy a GPU'), tree.leaf(alice.address));
    record('propose (Signal)', signal.receipt);
    const block = await chain.provider.getBlock(signal.receipt.blockNumber);
    const voteEnd = BigInt(block!.timestamp + TEST_VOTING_PERIOD_SECONDS);
    assert.deepEqual(
      eventsOf(signal.receipt, c.governor, 'ProposalCreated').map(comparable),
      [[1n, alice.address, SIGNAL, 1n, ZeroHash, 0n, voteEnd, 100n, 'buy a GPU']].map(comparable),
    );
    const change = await propose(c, bob, request(PARAMETER_CHANGE, REINVESTMENT_BPS, 2500n), tree.leaf(bob.address));
    assert.equal(change.id, 2n);
    const p = await c.governor.getProposal(2);
    assert.deepEqual([p.proposer, p.kind, p.epoch, p.parameter, p.value, p.quorumWork, p.forWork], [bob.address, 1n, 1n, REINVESTMENT_BPS, 2500n, 100n, 0n]);
    assert.equal(await c.governor.state(2), BigInt(ACTIVE));
  });

  test('invalid proposals revert with the exact error', async () => {
    const leaf = tree.leaf(alice.address);
    await expectRevert(as(c.governor, outsider).propose(request(SIGNAL), leaf), 'NotAMember', [outsider.address, 1]);
    await expectRevert(as(c.governor, alice).propose(request(SIGNAL), { ...leaf, cumulativeWork: 0n }), 'NotAMember', [alice.address, 1]);
    await expectRevert(as(c.governor, alice).propose(request(PARAMETER_CHANGE, id('feeBps'), 1n), leaf), 'UnknownParameter', [id('feeBps')]);
    await expectRevert(as(c.governor, alice).propose(request(PARAMETER_CHANGE, REINVESTMENT_BPS, 10_001n), leaf), 'ParameterOutOfRange', [REINVESTMENT_BPS, 10_001n, 10_000n]);
    await expectRevert(as(c.governor, alice).propose(request(SIGNAL, REINVESTMENT_BPS), leaf), 'SignalWithParameter', []);
    await expectRevert(as(c.governor, alice).propose(request(SIGNAL, ZeroHash, 5n), leaf), 'SignalWithParameter', []);
    await expectRevert(as(c.governor, alice).propose(request(SIGNAL, ZeroHash, 0n, 'x', 9), leaf), 'EpochNotLatest', [9, 1]);
  });

  test('a proposal is pinned to the latest epoch: an older one reverts, and a member who joined since votes', async () => {
    const { c: fresh } = await freshDao();
    const { tree: first } = await publish(fresh, 1, [[alice, 500n, 5n], [bob, 250n, 2n]], 7n);
    // Before any root there is no electorate at all.
    const { c: empty } = await freshDao();
    await expectRevert(as(empty.governor, alice).propose(request(SIGNAL, ZeroHash, 0n, 'x', 0), first.leaf(alice.address)), 'UnknownEpoch', [0]);
    // Carol joins in epoch 3 (epoch 2 had no new work: a gap).
    const { tree: third } = await publish(fresh, 3, [[alice, 500n, 5n], [bob, 250n, 2n], [carol, 900n, 9n]], 9n);
    const takeover = request(PARAMETER_CHANGE, REINVESTMENT_BPS, 10_000n, 'reinvest everything', 1);
    await expectRevert(as(fresh.governor, alice).propose(takeover, first.leaf(alice.address)), 'EpochNotLatest', [1, 3]);
    const { id: pinned } = await propose(fresh, alice, { ...takeover, epoch: 3 }, third.leaf(alice.address));
    assert.equal((await fresh.governor.getProposal(pinned)).epoch, 3n);
    const receipt = await mined(as(fresh.governor, carol).castVote(pinned, AGAINST, third.leaf(carol.address)));
    assert.deepEqual(eventsOf(receipt, fresh.governor, 'VoteCast')[0]?.slice(0, 4).map(comparable), [pinned, carol.address, 0n, 900n].map(comparable));
  });

  test('proposeBySig: a relayer submits a signed request once; the nonce stops a replay', async () => {
    const req = request(PARAMETER_CHANGE, REINVESTMENT_BPS, 500n, 'reinvest less');
    const nonce: bigint = await c.governor.nonces(carol.address);
    const typed = { proposer: carol.address, kind: req.kind, epoch: req.epoch, parameter: req.parameter, value: req.value, descriptionHash: id(req.description), nonce };
    const signature = await carol.signTypedData(domain(d), PROPOSAL_REQUEST_TYPES, typed);
    const leaf = tree.leaf(carol.address);
    const sent = as(c.governor, relayer).proposeBySig;
    // A signature over other content, or by someone else, is refused before the nonce is used.
    await expectRevert(sent(carol.address, { ...req, description: 'reinvest nothing' }, leaf, signature), 'InvalidSignature', [carol.address]);
    await expectRevert(sent(carol.address, req, leaf, await dave.signTypedData(domain(d), PROPOSAL_REQUEST_TYPES, typed)), 'InvalidSignature', [carol.address]);

    const receipt = await mined(sent(carol.address, req, leaf, signature));
    record('proposeBySig', receipt);
    const [created] = eventsOf(receipt, c.governor, 'ProposalCreated');
    assert.equal(String(created?.[1]), carol.address, 'the signer, not the relayer, is the proposer');
    assert.equal(await c.governor.nonces(carol.address), nonce + 1n);
    await expectRevert(sent(carol.address, req, leaf, signature), 'InvalidSignature', [carol.address]);
  });
});

describe('governance: votes and execution', () => {
  let c: DaoContracts, d: DaoDeployment, tree: ReturnType<typeof workTree>;
  let change: bigint, lowTurnout: bigint, rejected: bigint;
  const ballot = async (signer: Wallet, proposalId: bigint, support: number, voter = signer.address, leafOf = voter) => ({
    proposalId,
    support,
    voter,
    leaf: tree.leaf(leafOf),
    signature: await signer.signTypedData(domain(d), BALLOT_TYPES, { proposalId, support, voter }),
  });
  const tally = async (proposalId: bigint) => {
    const p = await c.governor.getProposal(proposalId);
    return [p.forWork, p.againstWork, p.abstainWork];
  };

  before(async () => {
    ({ c, d, tree } = await governedDao());
    change = (await propose(c, alice, request(PARAMETER_CHANGE, REINVESTMENT_BPS, 2500n), tree.leaf(alice.address))).id;
    lowTurnout = (await propose(c, erin, request(SIGNAL, ZeroHash, 0n, 'below quorum'), tree.leaf(erin.address))).id;
    rejected = (await propose(c, alice, request(SIGNAL, ZeroHash, 0n, 'voted down'), tree.leaf(alice.address))).id;
  });

  test('castVote counts the cumulativeWork of the voter leaf', async () => {
    const receipt = await mined(as(c.governor, alice).castVote(change, FOR, tree.leaf(alice.address)));
    record('castVote', receipt);
    assert.deepEqual(eventsOf(receipt, c.governor, 'VoteCast').map(comparable), [[change, alice.address, 1n, 500n, alice.address]].map(comparable));
    assert.deepEqual(await tally(change), [500n, 0n, 0n]);
    assert.equal(await c.governor.hasVoted(change, alice.address), true);
  });

  test('castVotesBySig counts a relayed batch of EIP-712 ballots by work', async () => {
    const batch = [await ballot(bob, change, AGAINST), await ballot(carol, change, FOR), await ballot(erin, change, FOR)];
    const receipt = await mined(as(c.governor, relayer).castVotesBySig(batch));
    record(`castVotesBySig(${batch.length})`, receipt);
    assert.deepEqual(
      eventsOf(receipt, c.governor, 'VoteCast').map(comparable),
      [[change, bob.address, 0n, 250n, relayer.address], [change, carol.address, 1n, 150n, relayer.address], [change, erin.address, 1n, 40n, relayer.address]].map(comparable),
    );
    assert.deepEqual(await tally(change), [690n, 250n, 0n]);
  });

  test('castVotesBySig skips a ballot already counted and reverts as a whole on an invalid one', async () => {
    const { id: probe } = await propose(c, alice, request(SIGNAL, ZeroHash, 0n, 'skip probe'), tree.leaf(alice.address));
    await mined(as(c.governor, relayer).castVotesBySig([await ballot(bob, probe, AGAINST)]));
    const daves = await ballot(dave, probe, FOR);
    const forged = await ballot(alice, probe, FOR, dave.address);
    await expectRevert(as(c.governor, relayer).castVotesBySig([daves, forged]), 'InvalidSignature', [dave.address]);
    // Bob's ballot again (say, copied and sent alone ahead of this batch): skipped, not reverted.
    const receipt = await mined(as(c.governor, relayer).castVotesBySig([await ballot(bob, probe, FOR), daves]));
    record('castVotesBySig(2), one skipped', receipt);
    const ALREADY_VOTED = c.governor.interface.getError('AlreadyVoted')!.selector;
    assert.deepEqual(eventsOf(receipt, c.governor, 'VoteSkipped').map(comparable), [[probe, bob.address, ALREADY_VOTED]].map(comparable));
    assert.deepEqual(eventsOf(receipt, c.governor, 'VoteCast').map((e) => e[1]), [dave.address]);
    assert.deepEqual(await tally(probe), [60n, 250n, 0n], 'bob still counted once, Against');
  });

  test('a ballot copied out of a pending castVotesBySig and mined first leaves the rest counted', async () => {
    const { id: fresh } = await propose(c, alice, request(SIGNAL, ZeroHash, 0n, 'front-run me'), tree.leaf(alice.address));
    const batch = [await ballot(bob, fresh, FOR), await ballot(carol, fresh, AGAINST), await ballot(erin, fresh, FOR)];
    const inBlock = await withAutomineOff(async () => {
      const relayed = await as(c.governor, relayer).castVotesBySig(batch, { gasLimit: 800_000, maxPriorityFeePerGas: 1n, maxFeePerGas: 10n ** 10n });
      const copied = await as(c.governor, outsider).castVoteBySig(batch[2]!, { gasLimit: 300_000, maxPriorityFeePerGas: 2n * 10n ** 9n, maxFeePerGas: 2n * 10n ** 10n });
      return [relayed, copied];
    });
    const [relayed, copied] = await Promise.all(inBlock.map((tx) => tx.wait()));
    assert.ok(relayed!.status === 1 && copied!.status === 1, 'both mined without a revert');
    assert.ok(copied!.index < relayed!.index, 'the copy went first');
    assert.deepEqual(eventsOf(relayed!, c.governor, 'VoteCast').map((e) => e[1]), [bob.address, carol.address]);
    assert.deepEqual(eventsOf(relayed!, c.governor, 'VoteSkipped').map((e) => e[1]), [erin.address]);
    assert.deepEqual(await tally(fresh), [290n, 150n, 0n]);
  });

  test('bad ballots revert with the exact error', async () => {
    const bobAgain = await ballot(bob, change, AGAINST);
    await expectRevert(c.governor.castVoteBySig(bobAgain), 'AlreadyVoted', [change, bob.address]);
    // A valid signature by a non-member, with someone else's leaf or a zero-work leaf.
    const stranger = await ballot(outsider, change, FOR, outsider.address, alice.address);
    await expectRevert(c.governor.castVoteBySig(stranger), 'NotAMember', [outsider.address, 1]);
    await expectRevert(c.governor.castVoteBySig({ ...stranger, leaf: { cumulativeWork: 0n, cumulativeReward: 0n, proof: [] } }), 'NotAMember', [outsider.address, 1]);
    // alice signs a ballot naming dave as the voter.
    await expectRevert(c.governor.castVoteBySig(await ballot(alice, change, FOR, dave.address)), 'InvalidSignature', [dave.address]);
    await expectRevert(c.governor.castVote(99, FOR, tree.leaf(dave.address)), 'UnknownProposal', [99]);
    assert.deepEqual(await tally(change), [690n, 250n, 0n], 'nothing was counted');
  });

  test('a malleated (high-s) signature is refused although it recovers to the voter', async () => {
    const good = await ballot(dave, change, FOR);
    const sig = Signature.from(good.signature);
    const malleated = concat([sig.r, toBeHex(SECP256K1_N - BigInt(sig.s), 32), sig.v === 27 ? '0x1c' : '0x1b']);
    // ecrecover (precompile 0x01) accepts the twin, so only the contract's ECDSA check stops it.
    const digest = TypedDataEncoder.hash(domain(d), BALLOT_TYPES, { proposalId: change, support: FOR, voter: dave.address });
    const bytes = getBytes(malleated);
    const input = concat([digest, toBeHex(bytes[64]!, 32), bytes.slice(0, 32), bytes.slice(32, 64)]);
    const recovered = await chain.provider.call({ to: '0x0000000000000000000000000000000000000001', data: input });
    assert.equal(`0x${recovered.slice(26)}`, dave.address.toLowerCase());
    await expectRevert(c.governor.castVoteBySig({ ...good, signature: malleated }), 'InvalidSignature', [dave.address]);

    const receipt = await mined(as(c.governor, relayer).castVoteBySig(good));
    record('castVoteBySig', receipt);
    assert.deepEqual(await tally(change), [750n, 250n, 0n]);
  });

  test('state moves Active -> Succeeded -> Executed; a low turnout or a majority against defeats', async () => {
    await mined(as(c.governor, erin).castVote(lowTurnout, FOR, tree.leaf(erin.address)));
    await mined(as(c.governor, alice).castVote(rejected, AGAINST, tree.leaf(alice.address)));
    await mined(as(c.governor, bob).castVote(rejected, FOR, tree.leaf(bob.address)));
    assert.equal(await c.governor.state(change), BigInt(ACTIVE));
    await expectRevert(c.governor.execute(change), 'ProposalNotSucceeded', [change, ACTIVE]);

    await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 60);
    await expectRevert(as(c.governor, dave).castVote(lowTurnout, FOR, tree.leaf(dave.address)), 'VotingClosed', [lowTurnout, (await c.governor.getProposal(lowTurnout)).voteEnd]);
    assert.deepEqual(await Promise.all([change, lowTurnout, rejected].map((p) => c.governor.state(p))), [SUCCEEDED, DEFEATED, DEFEATED].map(BigInt));
    await expectRevert(c.governor.execute(lowTurnout), 'ProposalNotSucceeded', [lowTurnout, DEFEATED]);
    await expectRevert(c.governor.execute(rejected), 'ProposalNotSucceeded', [rejected, DEFEATED]);

    const receipt = await mined(as(c.governor, relayer).execute(change));
    record('execute (ParameterChange)', receipt);
    assert.deepEqual(eventsOf(receipt, c.governor, 'ProposalExecuted').map(comparable), [[change]]);
    assert.deepEqual(eventsOf(receipt, c.governor, 'ParameterChanged').map(comparable), [[REINVESTMENT_BPS, 1000n, 2500n]].map(comparable));
    assert.equal(await c.governor.parameters(REINVESTMENT_BPS), 2500n);
    assert.equal(await c.governor.state(change), BigInt(EXECUTED));
    await expectRevert(c.governor.execute(change), 'ProposalNotSucceeded', [change, EXECUTED]);
  });
});

describe('governance: the execution window and order', () => {
  /** Opens a ParameterChange of reinvestmentBps by alice and passes it with her 500 of 1000 work. */
  const passed = async (c: DaoContracts, tree: ReturnType<typeof workTree>, bps: bigint, description: string): Promise<bigint> => {
    const { id: proposalId } = await propose(c, alice, request(PARAMETER_CHANGE, REINVESTMENT_BPS, bps, description), tree.leaf(alice.address));
    await mined(as(c.governor, alice).castVote(proposalId, FOR, tree.leaf(alice.address)));
    return proposalId;
  };

  test('an older passed change executed after a newer one reverts as superseded; a signal still executes', async () => {
    const { c, tree } = await governedDao();
    const older = await passed(c, tree, 10_000n, 'reinvest everything');
    const newer = await passed(c, tree, 500n, 'reinvest 5 %');
    const signal = (await propose(c, alice, request(SIGNAL, ZeroHash, 0n, 'a signal'), tree.leaf(alice.address))).id;
    await mined(as(c.governor, alice).castVote(signal, FOR, tree.leaf(alice.address)));
    await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 60);
    assert.deepEqual(await Promise.all([older, newer, signal].map((p) => c.governor.state(p))), [SUCCEEDED, SUCCEEDED, SUCCEEDED].map(BigInt));

    await mined(c.governor.execute(newer));
    assert.equal(await c.governor.lastApplied(REINVESTMENT_BPS), newer);
    assert.equal(await c.governor.state(older), BigInt(SUPERSEDED), 'the older change can no longer apply');
    await expectRevert(c.governor.execute(older), 'ProposalSuperseded', [older, newer]);
    assert.equal(await c.governor.parameters(REINVESTMENT_BPS), 500n, 'the newer decision stands');

    const receipt = await mined(c.governor.execute(signal));
    record('execute (Signal)', receipt);
    assert.deepEqual(eventsOf(receipt, c.governor, 'ParameterChanged'), [], 'a signal sets nothing');
    assert.equal(await c.governor.state(signal), BigInt(EXECUTED));
    assert.equal(await c.governor.state(newer), BigInt(EXECUTED), 'an executed proposal stays Executed');
  });

  test('an older change executed first is then overridden by the newer one, in creation order', async () => {
    const { c, tree } = await governedDao();
    const older = await passed(c, tree, 10_000n, 'reinvest everything');
    const newer = await passed(c, tree, 500n, 'reinvest 5 %');
    await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 60);
    await mined(c.governor.execute(older));
    record('execute (ParameterChange, again)', await mined(c.governor.execute(newer)));
    assert.equal(await c.governor.parameters(REINVESTMENT_BPS), 500n);
    assert.deepEqual(await Promise.all([older, newer].map((p) => c.governor.state(p))), [EXECUTED, EXECUTED].map(BigInt));
  });

  test('a passed proposal executes until voteEnd + executionWindow and is Expired after', async () => {
    const { c, tree } = await governedDao();
    const window = await c.governor.executionWindow();
    assert.equal(window, 7n * 24n * 3600n, 'the default window is 7 days');
    const late = await passed(c, tree, 3000n, 'executed on its last second');
    const expired = await passed(c, tree, 4000n, 'never executed');
    const voteEnd = (await c.governor.getProposal(expired)).voteEnd as bigint;
    assert.equal(await c.governor.executableUntil(expired), voteEnd + window);

    // The last second of `late`'s window is still open.
    const lateUntil = (await c.governor.executableUntil(late)) as bigint;
    await chain.provider.send('evm_setNextBlockTimestamp', [Number(lateUntil)]);
    await mined(c.governor.execute(late));
    assert.equal(await c.governor.parameters(REINVESTMENT_BPS), 3000n);

    await chain.provider.send('evm_setNextBlockTimestamp', [Number(voteEnd + window + 1n)]);
    await chain.provider.send('evm_mine', []);
    assert.equal(await c.governor.state(expired), BigInt(EXPIRED));
    await expectRevert(c.governor.execute(expired), 'ProposalExpired', [expired, voteEnd + window]);
    assert.equal(await c.governor.parameters(REINVESTMENT_BPS), 3000n, 'an expired change changes nothing');
  });

  test('the window is bounded at deployment', async () => {
    await assert.rejects(chain.deploy({ executionWindowSeconds: 0 }), /InvalidConfiguration|reverted|0x/);
    await assert.rejects(chain.deploy({ executionWindowSeconds: 3651 * 24 * 3600 }), /InvalidConfiguration|reverted|0x/);
  });
});

describe('governance: the proposal threshold', () => {
  test('proposalThresholdWork is 0 at deployment, set by a ParameterChange, and then refuses proposers with less work', async () => {
    const { c, d, tree } = await governedDao();
    assert.equal(await c.governor.parameters(PROPOSAL_THRESHOLD_WORK), 0n);
    assert.equal(await c.governor.PROPOSAL_THRESHOLD_WORK(), PROPOSAL_THRESHOLD_WORK);
    // Anyone but the governance cannot set it: there is no setter, only execute.
    const change = (await propose(c, alice, request(PARAMETER_CHANGE, PROPOSAL_THRESHOLD_WORK, 200n, 'proposers need 200 work'), tree.leaf(alice.address))).id;
    await mined(as(c.governor, alice).castVote(change, FOR, tree.leaf(alice.address)));
    await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 60);
    await mined(c.governor.execute(change));
    assert.equal(await c.governor.parameters(PROPOSAL_THRESHOLD_WORK), 200n);

    await expectRevert(as(c.governor, erin).propose(request(SIGNAL), tree.leaf(erin.address)), 'BelowProposalThreshold', [erin.address, 40n, 200n]);
    await expectRevert(as(c.governor, carol).propose(request(SIGNAL), tree.leaf(carol.address)), 'BelowProposalThreshold', [carol.address, 150n, 200n]);
    // Signed and relayed: refused the same way, and the nonce stays unused.
    const req = request(SIGNAL, ZeroHash, 0n, 'relayed below the threshold');
    const typed = { proposer: dave.address, kind: req.kind, epoch: req.epoch, parameter: req.parameter, value: req.value, descriptionHash: id(req.description), nonce: 0n };
    const signature = await dave.signTypedData(domain(d), PROPOSAL_REQUEST_TYPES, typed);
    await expectRevert(as(c.governor, relayer).proposeBySig(dave.address, req, tree.leaf(dave.address), signature), 'BelowProposalThreshold', [dave.address, 60n, 200n]);
    assert.equal(await c.governor.nonces(dave.address), 0n);
    assert.equal((await propose(c, bob, request(SIGNAL, ZeroHash, 0n, 'bob has 250'), tree.leaf(bob.address))).id, 2n);
  });
});

// ---------------------------------------------------------------- tooling

describe('treasury: spending proposals', () => {
  const HARDWARE = 0;
  /** A DAO whose treasury holds 1000 tokens: the reinvested share of epoch 1. Works sum to 1000. */
  async function fundedDao() {
    const { c, d } = await freshDao();
    const { tree } = await publish(c, 1, [[alice, 500n, 5n], [bob, 250n, 2n], [carol, 250n, 2n]], 9n, 1000n);
    return { c, d, tree };
  }
  const spend = (recipient: string, amount: bigint, description = 'two GPUs for the pool') =>
    request(SPENDING, spendingParameter(recipient, 'hardware'), amount, description);
  /** Opens a spending by alice and passes it with her 500 of 1000 work. */
  const passed = async (c: DaoContracts, tree: ReturnType<typeof workTree>, recipient: string, amount: bigint) => {
    const { id: proposalId, receipt } = await propose(c, alice, spend(recipient, amount), tree.leaf(alice.address));
    await mined(as(c.governor, alice).castVote(proposalId, FOR, tree.leaf(alice.address)));
    return { proposalId, receipt };
  };

  test('the packed parameter matches WorkGovernor.spendingParameter', async () => {
    const recipient = Wallet.createRandom().address;
    assert.equal(await chain.contracts.governor.spendingParameter(recipient, 2), spendingParameter(recipient, 'partner'));
  });

  test('a passed spending pays once, only through execute; a stranger cannot pay', async () => {
    const { c, d, tree } = await fundedDao();
    assert.equal(await c.treasury.balance(), 1000n, 'the reinvested share is in the treasury');
    assert.equal(await c.distributor.treasury(), d.treasury);
    const recipient = Wallet.createRandom().address;
    const { proposalId, receipt: proposed } = await passed(c, tree, recipient, 400n);
    record('propose (Spending)', proposed);
    await expectRevert(c.governor.execute(proposalId), 'ProposalNotSucceeded', [proposalId, ACTIVE]);
    await expectRevert(as(c.treasury, outsider).pay(proposalId, outsider.address, 400n, HARDWARE), 'NotGovernor', [outsider.address]);
    await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 60);
    await expectRevert(as(c.treasury, alice).pay(proposalId, recipient, 400n, HARDWARE), 'NotGovernor', [alice.address]);

    const receipt = await mined(as(c.governor, relayer).execute(proposalId));
    record('execute (Spending)', receipt);
    assert.deepEqual(eventsOf(receipt, c.treasury, 'Paid').map(comparable), [[proposalId, recipient, 400n, HARDWARE]].map(comparable));
    assert.equal(await balanceOf(c, recipient), 400n);
    assert.equal(await c.treasury.balance(), 600n);
    assert.equal(await c.governor.state(proposalId), BigInt(EXECUTED));
    await expectRevert(c.governor.execute(proposalId), 'ProposalNotSucceeded', [proposalId, EXECUTED]);
    assert.equal(await balanceOf(c, recipient), 400n, 'a second execute pays nothing');
  });

  test('a spending that is not passed pays nothing', async () => {
    const { c, tree } = await fundedDao();
    const recipient = Wallet.createRandom().address;
    const { id: proposalId } = await propose(c, alice, spend(recipient, 100n), tree.leaf(alice.address));
    await mined(as(c.governor, bob).castVote(proposalId, AGAINST, tree.leaf(bob.address)));
    await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 60);
    await expectRevert(c.governor.execute(proposalId), 'ProposalNotSucceeded', [proposalId, DEFEATED]);
    assert.equal(await c.treasury.balance(), 1000n);
  });

  test('a spending over the balance, to the zero address, of 0, without a description or with a bad category is refused', async () => {
    const { c, tree } = await fundedDao();
    const leaf = tree.leaf(alice.address);
    const recipient = Wallet.createRandom().address;
    const proposeAs = as(c.governor, alice).propose;
    await expectRevert(proposeAs(spend(recipient, 1001n), leaf), 'AmountOverBalance', [1001n, 1000n]);
    await expectRevert(proposeAs(spend(ZeroAddress, 10n), leaf), 'ZeroRecipient', []);
    await expectRevert(proposeAs(spend(recipient, 0n), leaf), 'ZeroAmount', []);
    await expectRevert(proposeAs(spend(recipient, 10n, ''), leaf), 'EmptyDescription', []);
    const badCategory = toBeHex((4n << 160n) | BigInt(recipient), 32);
    await expectRevert(proposeAs(request(SPENDING, badCategory, 10n), leaf), 'InvalidSpendingParameter', [badCategory]);
  });

  test('the balance is checked again at execution; a spending is never superseded', async () => {
    const { c, tree } = await fundedDao();
    const recipient = Wallet.createRandom().address;
    const first = (await passed(c, tree, recipient, 400n)).proposalId;
    const second = (await passed(c, tree, recipient, 700n)).proposalId;
    await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 60);
    await mined(c.governor.execute(first));
    assert.equal(await c.governor.state(second), BigInt(SUCCEEDED), 'the same recipient and category do not supersede it');
    await expectRevert(c.governor.execute(second), 'AmountOverBalance', [700n, 600n]);
    assert.equal(await c.governor.state(second), BigInt(SUCCEEDED), 'a refused payment leaves it executable');
    // Another epoch's reinvested share refills the treasury within the window.
    await publish(c, 2, [[alice, 600n, 6n], [bob, 250n, 2n], [carol, 250n, 2n]], 9n, 500n);
    await mined(c.governor.execute(second));
    assert.equal(await balanceOf(c, recipient), 1100n);
    assert.equal(await c.treasury.balance(), 400n);
  });

  test('the governor refuses a treasury that names another governor', async () => {
    const { abi, bytecode } = loadArtifact('Treasury');
    const other = (await new ContractFactory(abi, bytecode, chain.deployer).deploy(chain.deployment.token, outsider.address)) as Contract;
    await other.waitForDeployment();
    const governor = loadArtifact('WorkGovernor');
    const factory = new ContractFactory(governor.abi, governor.bytecode, chain.deployer);
    await assert.rejects(
      factory.deploy(chain.deployment.distributor, 3600, 1000, 1000, 3600, await other.getAddress()),
      (err: Error) => /InvalidConfiguration|0xc52a9bd3|reverted/.test(String(err)),
    );
  });
});

describe('chain tooling', () => {
  test('the typed contract handles name every function of the compiled ABIs', () => {
    const c = connectDao(chain.deployment, chain.provider);
    const names = (contract: Contract): string[] => {
      const found: string[] = [];
      contract.interface.forEachFunction((f) => found.push(f.name));
      return found.sort();
    };
    assert.deepEqual([...TOKEN_FUNCTIONS].sort(), names(c.token));
    assert.deepEqual([...DISTRIBUTOR_FUNCTIONS].sort(), names(c.distributor));
    assert.deepEqual([...GOVERNOR_FUNCTIONS].sort(), names(c.governor));
    assert.deepEqual([...TREASURY_FUNCTIONS].sort(), names(c.treasury));
  });

  test('deployment files round-trip and bad fields are named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dao-deployment-'));
    try {
      const file = join(dir, 'deployment.json');
      writeDeployment(file, chain.deployment);
      assert.deepEqual(readDeployment(file), chain.deployment);
      writeFileSync(file, JSON.stringify({ ...chain.deployment, governor: '0x1234' }));
      assert.throws(() => readDeployment(file), (err: Error) => err.message.includes('"governor"') && err.message.includes(file));
      const { deployBlock: _omitted, ...rest } = chain.deployment;
      writeFileSync(file, JSON.stringify(rest));
      assert.throws(() => readDeployment(file), /field "deployBlock" must be an integer >= 0, got undefined/);
      writeFileSync(file, '{ not json');
      assert.throws(() => readDeployment(file), /cannot read deployment file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('startAnvil reports an early exit with the output tail, and a missed start deadline', async () => {
    await assert.rejects(startAnvil({ port: chain.anvil.port }), /anvil exited before listening[\s\S]*Address already in use/);
    await assert.rejects(startAnvil({ startTimeoutMs: 1 }), /anvil did not print its listening line within 1 ms/);
  });

  test('a state file keeps the chain across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anvil-state-'));
    const stateFile = join(dir, 'state.json');
    const target = Wallet.createRandom().address;
    try {
      const first = await startAnvil({ stateFile });
      try {
        const provider = new JsonRpcProvider(first.rpcUrl, first.chainId, { staticNetwork: true });
        const sender = new Wallet(first.accounts[1]!.privateKey, provider);
        await (await sender.sendTransaction({ to: target, value: 12345n })).wait();
        provider.destroy();
      } finally {
        await first.stop();
      }
      const second = await startAnvil({ stateFile });
      try {
        const balance = await fetch(second.rpcUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: [target, 'latest'] }),
        }).then((r) => r.json() as Promise<{ result: string }>);
        assert.equal(BigInt(balance.result), 12345n);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
