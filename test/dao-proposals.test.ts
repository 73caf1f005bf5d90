// The one proposal reader (protocol/dao/proposals.ts): its representation (state names, bigints,
// null descriptions, id order), its bounded log reads, and the same answer through the gateway's
// adapter and the page's DaoReader on a real chain.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Interface, ZeroHash, type Contract, type EventLog, type Log, type Wallet } from 'ethers';
import {
  ChainClock,
  ProposalKind,
  ProposalReader,
  REINVESTMENT_BPS_PARAMETER,
  VoteSupport,
  proposalState,
  stateAtTime,
  type GovernorReads,
  type ProposalStruct,
  type ProposalView,
} from '../protocol/dao/index.js';
import { governorReads } from '../server/relayer/proposal-list.js';
import { DaoReader } from '../web/chain/dao-reader.js';
import { GOVERNOR_ABI } from '../web/chain/abi.js';
import { TEST_VOTING_PERIOD_SECONDS, mined, startTestChain, workTree, type TestChain } from './helpers/chain.js';

const iface = new Interface(GOVERNOR_ABI);
const WINDOW_SECONDS = 600n;

function struct(overrides: Partial<ProposalStruct> = {}): ProposalStruct {
  return {
    proposer: '0x' + '11'.repeat(20),
    kind: 1n,
    epoch: 7n,
    voteEnd: 1_700_000_000n,
    parameter: REINVESTMENT_BPS_PARAMETER,
    value: 2500n,
    quorumWork: 10n ** 30n,
    forWork: 3n,
    againstWork: 2n,
    abstainWork: 1n,
    ...overrides,
  };
}

/** A ProposalCreated log as ethers decodes it (only `args` is read). */
function createdLog(proposalId: bigint, description: string): EventLog {
  const fragment = iface.getEvent('ProposalCreated')!;
  const { data, topics } = iface.encodeEventLog(fragment, [proposalId, '0x' + '11'.repeat(20), 0, 1n, ZeroHash, 0n, 1n, 1n, description]);
  return { args: iface.decodeEventLog(fragment, data, topics) } as unknown as EventLog;
}

/** A governor in memory: proposals with their state index and the block their event is in. */
function fakeGovernor(proposals: { struct: ProposalStruct; state: number; block: number; description: string }[], head: number) {
  const ranges: [number, number][] = [];
  let failAt: number | undefined;
  const reads: GovernorReads = {
    async call(method, id) {
      if (method === 'proposalCount') return BigInt(proposals.length);
      if (method === 'executionWindow') return WINDOW_SECONDS;
      const p = proposals[Number(id) - 1]!;
      return method === 'getProposal' ? p.struct : BigInt(p.state);
    },
    headBlock: async () => head,
    async proposalCreatedLogs(from, to): Promise<Log[]> {
      ranges.push([from, to]);
      if (failAt !== undefined && from <= failAt && failAt <= to) throw new Error(`node failed reading ${from}..${to}`);
      return proposals.flatMap((p, i) => (p.block >= from && p.block <= to ? [createdLog(BigInt(i + 1), p.description)] : [])) as unknown as Log[];
    },
  };
  return { reads, ranges, failNextAt: (block: number | undefined) => (failAt = block) };
}

describe('the proposal view', () => {
  test('state indices map to the lower-case names the API and the page use; an unknown one is refused', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5].map(proposalState), ['active', 'defeated', 'succeeded', 'executed', 'expired', 'superseded']);
    assert.equal(proposalState(2n), 'succeeded');
    assert.throws(() => proposalState(6), /state 6/);
  });

  test('uints stay bigints, kind is a number, a missing description is null, ids come in order', async () => {
    const big = 2n ** 200n;
    const { reads } = fakeGovernor(
      [
        { struct: struct({ kind: 0n, parameter: ZeroHash, value: 0n, forWork: big }), state: 1, block: 5, description: 'first' },
        { struct: struct(), state: 3, block: 6, description: 'second' },
      ],
      10,
    );
    // The first event lies before the block the scan starts at: as if the node had pruned it.
    const listed = await new ProposalReader(reads, 6).list();
    assert.equal(listed.length, 2);
    const [first, second] = listed;
    assert.deepEqual(first, {
      id: 1n,
      proposer: '0x' + '11'.repeat(20),
      kind: ProposalKind.Signal,
      epoch: 7n,
      voteEnd: 1_700_000_000n,
      executableUntil: 1_700_000_000n + WINDOW_SECONDS,
      parameter: ZeroHash,
      value: 0n,
      quorumWork: 10n ** 30n,
      forWork: big,
      againstWork: 2n,
      abstainWork: 1n,
      state: 'defeated',
      description: null,
    });
    assert.equal(second!.id, 2n);
    assert.equal(second!.kind, ProposalKind.ParameterChange);
    assert.equal(second!.state, 'executed');
    assert.equal(second!.description, 'second');
  });

  test('logs are read in bounded chunks from the deployment block, resumed after a failure, never twice', async () => {
    const items = [3, 14, 25, 47].map((block, i) => ({ struct: struct(), state: 0, block, description: `at block ${block} (#${i + 1})` }));
    const governor = fakeGovernor(items, 50);
    const reader = new ProposalReader(governor.reads, 3, 10);

    governor.failNextAt(30);
    await assert.rejects(reader.list(), /node failed reading 23\.\.32/);
    assert.deepEqual(governor.ranges, [[3, 12], [13, 22], [23, 32]]);

    governor.failNextAt(undefined);
    governor.ranges.length = 0;
    const listed = await reader.list();
    assert.deepEqual(governor.ranges, [[23, 32], [33, 42], [43, 50]], 'the chunks already read are not read again');
    assert.deepEqual(listed.map((p) => p.description), items.map((p) => p.description));

    governor.ranges.length = 0;
    await reader.list();
    assert.deepEqual(governor.ranges, [], 'every description known: no log read at all');
  });

  test('a state only time changes follows chain time: an ended vote is not Active, a passed one expires', () => {
    const view = (state: ProposalView['state'], overrides: Partial<ProposalStruct> = {}): ProposalView => {
      const p = struct(overrides);
      return { ...p, id: 1n, kind: ProposalKind.ParameterChange, executableUntil: p.voteEnd + WINDOW_SECONDS, state, description: 'x' };
    };
    const end = 1_700_000_000;
    const passing = { quorumWork: 5n, forWork: 5n, againstWork: 1n, abstainWork: 0n };
    assert.equal(stateAtTime(view('active', passing), end + 0.9), 'active', 'the next block may still carry voteEnd');
    assert.equal(stateAtTime(view('active', passing), end + 1), 'succeeded');
    assert.equal(stateAtTime(view('active', { ...passing, quorumWork: 100n }), end + 1), 'defeated', 'below quorum');
    assert.equal(stateAtTime(view('active', { ...passing, againstWork: 5n }), end + 1), 'defeated', 'a tie is defeated');
    assert.equal(stateAtTime(view('active', passing), end + Number(WINDOW_SECONDS) + 1), 'expired');
    assert.equal(stateAtTime(view('succeeded'), end + Number(WINDOW_SECONDS)), 'succeeded', 'the last second of the window');
    assert.equal(stateAtTime(view('succeeded'), end + Number(WINDOW_SECONDS) + 1), 'expired');
    for (const state of ['executed', 'superseded', 'defeated'] as const) assert.equal(stateAtTime(view(state), end + 10 ** 6), state, `${state} is the contract's`);
  });

  test('the chain clock counts from when a block was first seen, and never goes back', () => {
    let wallMs = 1_000_000;
    const clock = new ChainClock(() => wallMs);
    assert.ok(Number.isNaN(clock.nowSeconds()), 'no block seen yet');
    clock.observe(5000);
    wallMs += 9_000;
    clock.observe(5000); // the same block polled again must not restart the count
    assert.equal(clock.nowSeconds(), 5009);
    clock.observe(5004); // an older block (another node behind): ignored
    assert.equal(clock.nowSeconds(), 5009);
    clock.observe(5006); // a newer block, but behind the estimate: the estimate holds
    assert.equal(clock.nowSeconds(), 5009);
    wallMs += 5_000;
    assert.equal(clock.nowSeconds(), 5011, 'from the newer block on');
  });

  test('a chunk size that is not a positive integer is refused', () => {
    const { reads } = fakeGovernor([], 0);
    for (const size of [0, -1, 1.5, Number.NaN]) assert.throws(() => new ProposalReader(reads, 0, size), /chunkBlocks/);
  });
});

describe('on a real chain', () => {
  let chain: TestChain;
  let alice: Wallet, bob: Wallet;

  before(async () => {
    chain = await startTestChain();
    [alice, bob] = chain.wallets as [Wallet, Wallet];
  });
  after(async () => chain?.stop());

  test('the gateway and the page read the same proposals, through logs wider than one chunk', async () => {
    const { deployment, contracts } = await chain.deploy();
    const tree = workTree([
      [alice.address, 800n, 8n],
      [bob.address, 200n, 2n],
    ]);
    await mined(contracts.distributor.publishRoot(1, tree.root, tree.totalWork, 10n, 0n, ZeroHash));
    const governor = contracts.governor as Contract;
    const as = (wallet: Wallet) => governor.connect(wallet) as Contract;
    const request = (kind: number, description: string, parameter = ZeroHash, value = 0n) => ({ kind, epoch: 1, parameter, value, description });
    const skipBlocks = (n: number) => chain.provider.send('anvil_mine', [`0x${n.toString(16)}`]);

    await mined(as(alice).getFunction('propose')(request(ProposalKind.Signal, 'nobody votes: defeated'), tree.leaf(alice.address)));
    await skipBlocks(25);
    await mined(as(bob).getFunction('propose')(request(ProposalKind.ParameterChange, 'reinvest 30 %: executed', REINVESTMENT_BPS_PARAMETER, 3000n), tree.leaf(bob.address)));
    await mined(as(alice).getFunction('castVote')(2n, VoteSupport.For, tree.leaf(alice.address)));
    await skipBlocks(25);
    await mined(as(alice).getFunction('propose')(request(ProposalKind.Signal, 'a signal that wins: succeeded ✓'), tree.leaf(alice.address)));
    await mined(as(bob).getFunction('castVote')(3n, VoteSupport.For, tree.leaf(bob.address)));
    await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 1);
    await mined(governor.getFunction('execute')(2n));
    await skipBlocks(25);
    await mined(as(bob).getFunction('propose')(request(ProposalKind.Signal, 'still open: active'), tree.leaf(bob.address)));

    const reads = governorReads(governor, chain.provider);
    const ranges: [number, number][] = [];
    const counted: GovernorReads = { ...reads, proposalCreatedLogs: (from, to) => (ranges.push([from, to]), reads.proposalCreatedLogs(from, to)) };
    const chunkBlocks = 10;
    const fromGateway = await new ProposalReader(counted, deployment.deployBlock, chunkBlocks).list();

    const head = await chain.provider.getBlockNumber();
    assert.ok(head - deployment.deployBlock > 7 * chunkBlocks, 'the range spans many chunks');
    assert.equal(ranges[0]![0], deployment.deployBlock);
    assert.equal(ranges.at(-1)![1], head);
    for (const [i, [from, to]] of ranges.entries()) {
      assert.ok(to - from + 1 <= chunkBlocks, `chunk ${from}..${to} is at most ${chunkBlocks} blocks`);
      if (i > 0) assert.equal(from, ranges[i - 1]![1] + 1, 'chunks follow each other without a gap');
    }

    assert.deepEqual(
      fromGateway.map((p) => [p.id, p.state, p.description, p.kind, p.epoch, p.value]),
      [
        [1n, 'defeated', 'nobody votes: defeated', ProposalKind.Signal, 1n, 0n],
        [2n, 'executed', 'reinvest 30 %: executed', ProposalKind.ParameterChange, 1n, 3000n],
        [3n, 'succeeded', 'a signal that wins: succeeded ✓', ProposalKind.Signal, 1n, 0n],
        [4n, 'active', 'still open: active', ProposalKind.Signal, 1n, 0n],
      ],
    );
    assert.equal(fromGateway[1]!.forWork, 800n);
    assert.equal(fromGateway[2]!.forWork, 200n);
    assert.equal(typeof fromGateway[0]!.voteEnd, 'bigint');

    const page = new DaoReader({
      chainId: chain.anvil.chainId,
      rpcUrl: chain.anvil.rpcUrl,
      token: { address: deployment.token, symbol: 'WORK', decimals: 18 },
      distributor: deployment.distributor,
      governor: deployment.governor,
      treasury: deployment.treasury,
      deployBlock: deployment.deployBlock,
      epochSeconds: 60,
      relayer: alice.address,
    });
    try {
      assert.deepEqual(await page.proposals(), fromGateway, 'one representation on both sides');
    } finally {
      page.destroy();
    }
  });
});
