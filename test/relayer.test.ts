// The relayer end to end: members with no ether mine real shares through a real gateway, the
// settlement publishes the epoch on a real anvil chain, and the members' signed proposals, votes and
// claims go over real HTTP to the gateway, which checks them and pays the gas in batches.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { JsonRpcProvider, Wallet, ZeroHash, keccak256, toUtf8Bytes, type Contract, type HDNodeWallet } from 'ethers';
import { pino } from 'pino';
import {
  BALLOT_TYPES,
  CLAIM_REQUEST_TYPES,
  PROPOSAL_REQUEST_TYPES,
  ProposalKind,
  REINVESTMENT_BPS_PARAMETER,
  VoteSupport,
  governorDomain,
  relayDomain,
} from '../protocol/dao/index.js';
import type { DaoChain } from '../server/chain/open-chain.js';
import type { SqliteLedger } from '../server/ledger/sqlite-ledger.js';
import type { PublishedLeaf } from '../server/relayer/leaves.js';
import { publishedLeavesOf } from '../server/settlement/published-leaves.js';
import { startRelayer, type Relayer } from '../server/relayer/relayer.js';
import { RelayStore } from '../server/relayer/request-store.js';
import { TEST_VOTING_PERIOD_SECONDS, startTestChain, type TestChain } from './helpers/chain.js';
import type { AcceptedProposal, ChainInfo, RelayedClaim, RelayedProposal, RelayedVote } from '../protocol/api.js';
import type { ProposalView } from '../protocol/dao/proposals.js';
import { assertFields } from './helpers/api-fields.js';
import { getJson, startSettlingGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

let chain: TestChain;
let gateway: Awaited<ReturnType<typeof startSettlingGateway>>;
let relayer: Relayer;
let governor: Contract;
let api: string;
/** Fresh keys that never held ether: everything they do on-chain, the relayer pays for. */
const [alice, bob, carol, dave] = Array.from({ length: 4 }, () => Wallet.createRandom());
const members = { alice: alice!, bob: bob!, carol: carol! };
/** Never mined: has no leaf. */
const outsider = dave!;
const leaves = new Map<string, PublishedLeaf>();

before(async () => {
  chain = await startTestChain();
  governor = chain.contracts.governor;
  gateway = await startSettlingGateway(chain, {
    // The timer never fires during the test: each test flushes when it wants a batch.
    relayIntervalMs: 3_600_000,
  });
  relayer = gateway.view.relayer!;
  api = gateway.httpUrl + 'api/';
  // Different amounts of real work, so the tallies show each vote's own weight.
  await mine(members.alice.address, 3);
  await mine(members.bob.address, 2);
  await mine(members.carol.address, 1);
  const settlement = gateway.view.settlement!;
  assert.ok(await settlement.closeEpoch(), 'epoch 1 closed');
  await waitFor('epoch 1 published', async () => (await settlement.store.epoch(1))?.status === 'published');
  // Proofs from the settlement's compact store (what the relayer itself reads); the chain checks them.
  const published = publishedLeavesOf(settlement.store);
  for (const wallet of Object.values(members)) leaves.set(wallet.address, (await published.publishedLeaf(1, wallet.address))!);
});

after(async () => {
  await gateway?.close();
  await chain?.stop();
});

const db = () => (gateway.view.ledger as SqliteLedger).db;

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

async function post(path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; body: any }> {
  const res = await fetch(api + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

function leaf(wallet: HDNodeWallet): PublishedLeaf {
  const found = leaves.get(wallet.address);
  assert.ok(found, `${wallet.address} has a leaf`);
  return found;
}

const ballotDomain = () => governorDomain(chain.deployment.chainId, chain.deployment.governor);

async function signedVote(signer: HDNodeWallet, proposalId: bigint, support: number, voter = signer.address) {
  const signature = await signer.signTypedData(ballotDomain(), BALLOT_TYPES, { proposalId, support, voter });
  return { proposalId: proposalId.toString(), support, voter, signature };
}

async function signedClaim(signer: HDNodeWallet, deadline: number, account = signer.address, epoch = 1) {
  const signature = await signer.signTypedData(relayDomain(chain.deployment.chainId, chain.deployment.distributor), CLAIM_REQUEST_TYPES, { account, epoch, deadline });
  return { account, epoch, deadline, signature };
}

async function signedProposal(signer: HDNodeWallet, request: { kind: number; epoch: number; parameter: string; value: bigint; description: string }) {
  const nonce = (await governor.getFunction('nonces')(signer.address)) as bigint;
  const message = { proposer: signer.address, ...request, descriptionHash: keccak256(toUtf8Bytes(request.description)), nonce };
  const signature = await signer.signTypedData(ballotDomain(), PROPOSAL_REQUEST_TYPES, message);
  return {
    proposer: signer.address,
    kind: request.kind,
    epoch: request.epoch,
    parameter: request.parameter,
    value: request.value.toString(),
    description: request.description,
    nonce: nonce.toString(),
    signature,
  };
}

/** The same signature with s → n − s and v flipped: the other valid encoding of one ECDSA signature. */
function malleate(signature: string): string {
  const s = BigInt('0x' + signature.slice(66, 130));
  const v = parseInt(signature.slice(130, 132), 16);
  return signature.slice(0, 66) + (SECP256K1_N - s).toString(16).padStart(64, '0') + (v === 27 ? '1c' : '1b');
}

async function requestsOf(kind: 'votes' | 'claims', address: string) {
  const { status, body } = await getJson(`${api}${kind}/${address}`);
  assert.equal(status, 200);
  return body.requests as { id: number; status: string; txHash: string | null; error: string | null; [key: string]: unknown }[];
}

/** The fields every relayed request has (GET /api/{votes,claims}/:address, /api/proposals/requests/:address). */
const RELAYED = { id: 'required', status: 'required', txHash: 'required', error: 'required', skipped: 'required', createdAtMs: 'required', updatedAtMs: 'required' } as const;
const ethBalance = (address: string) => chain.provider.getBalance(address);
const tokenBalance = async (address: string) => (await chain.contracts.token.getFunction('balanceOf')(address)) as bigint;
const soon = () => Math.floor(Date.now() / 1000) + 600;

test('relayed proposals are created on-chain, one transaction each, and listed by GET /api/proposals', async () => {
  const signal = await signedProposal(members.alice, { kind: ProposalKind.Signal, epoch: 1, parameter: ZeroHash, value: 0n, description: 'Buy a second ASIC ✓' });
  const change = await signedProposal(members.bob, { kind: ProposalKind.ParameterChange, epoch: 1, parameter: REINVESTMENT_BPS_PARAMETER, value: 2500n, description: 'Reinvest 25%' });
  const first = await post('proposals', signal);
  assert.equal(first.status, 202, JSON.stringify(first.body));
  assert.deepEqual(first.body, { id: first.body.id, status: 'queued', nonce: '0' });
  assert.equal((await post('proposals', change)).status, 202);
  // Alice's nonce is still 0 until her first proposal is on-chain: a second request must wait.
  const again = await post('proposals', await signedProposal(members.alice, { kind: 0, epoch: 1, parameter: ZeroHash, value: 0n, description: 'another' }));
  assert.equal(again.status, 409);
  assert.match(again.body.error, /already queued/);

  await relayer.flush();
  const { status, body } = await getJson(api + 'proposals');
  assert.equal(status, 200);
  assert.equal(body.proposals.length, 2);
  const [p1, p2] = body.proposals;
  assert.deepEqual(
    { id: p1.id, proposer: p1.proposer, kind: p1.kind, epoch: p1.epoch, parameter: p1.parameter, value: p1.value, description: p1.description, state: p1.state, forWork: p1.forWork },
    { id: '1', proposer: members.alice.address, kind: 0, epoch: '1', parameter: ZeroHash, value: '0', description: 'Buy a second ASIC ✓', state: 'active', forWork: '0' },
  );
  assert.equal(p2.description, 'Reinvest 25%');
  assert.equal(p2.parameter, REINVESTMENT_BPS_PARAMETER);
  assert.equal(p2.value, '2500');
  assert.match(p1.voteEnd, /^\d+$/);
  assert.match(p1.quorumWork, /^\d+$/);
  assertFields<AcceptedProposal>(first.body, { id: 'required', status: 'required', nonce: 'required' }, 'POST /api/proposals');
  for (const p of body.proposals) {
    assertFields<ProposalView>(
      p,
      {
        id: 'required',
        proposer: 'required',
        kind: 'required',
        epoch: 'required',
        voteEnd: 'required',
        executableUntil: 'required',
        parameter: 'required',
        value: 'required',
        quorumWork: 'required',
        forWork: 'required',
        againstWork: 'required',
        abstainWork: 'required',
        state: 'required',
        description: 'required',
      },
      'GET /api/proposals item',
    );
  }

  const mine = await getJson(`${api}proposals/requests/${members.alice.address}`);
  assert.equal(mine.body.requests[0].status, 'confirmed');
  assert.equal(mine.body.requests[0].proposalId, '1');
  assertFields<RelayedProposal>(
    mine.body.requests[0],
    {
      ...RELAYED,
      nonce: 'required',
      kind: 'required',
      epoch: 'required',
      parameter: 'required',
      value: 'required',
      description: 'required',
      proposalId: 'required',
    },
    'GET /api/proposals/requests/:address item',
  );
  const chainInfo = (await getJson(api + 'chain')).body;
  assertFields<Extract<ChainInfo, { enabled: true }>>(
    chainInfo,
    { enabled: 'required', chainId: 'required', rpcUrl: 'optional', token: 'required', distributor: 'required', governor: 'required', treasury: 'required', deployBlock: 'required', epochSeconds: 'required', relayer: 'required' },
    'GET /api/chain',
  );
  const bobs = await getJson(`${api}proposals/requests/${members.bob.address}`);
  assert.notEqual(bobs.body.requests[0].txHash, mine.body.requests[0].txHash, 'proposals go one per transaction');
  assert.equal(await ethBalance(members.alice.address), 0n);
  assert.equal(await ethBalance(members.bob.address), 0n);
});

test('proposals the governor would refuse are refused before any gas is spent', async () => {
  const cases: [Parameters<typeof signedProposal>[1], RegExp][] = [
    [{ kind: 1, epoch: 1, parameter: '0x' + '12'.repeat(32), value: 1n, description: 'x' }, /unknown parameter/],
    [{ kind: 1, epoch: 1, parameter: REINVESTMENT_BPS_PARAMETER, value: 10_001n, description: 'x' }, /over the maximum 10000/],
    [{ kind: 0, epoch: 1, parameter: ZeroHash, value: 5n, description: 'x' }, /signal proposal carries no parameter/],
  ];
  for (const [request, message] of cases) {
    const { status, body } = await post('proposals', await signedProposal(members.carol, request));
    assert.equal(status, 422, JSON.stringify(body));
    assert.match(body.error, message);
  }
  const future = await post('proposals', await signedProposal(members.carol, { kind: 0, epoch: 9, parameter: ZeroHash, value: 0n, description: 'x' }));
  assert.equal(future.status, 409, JSON.stringify(future.body));
  assert.match(future.body.error, /signed for epoch 9 but the latest final epoch is 1: .*sign again for epoch 1, the latest final one$/);
  const outsiders = await post('proposals', await signedProposal(outsider, { kind: 0, epoch: 1, parameter: ZeroHash, value: 0n, description: 'x' }));
  assert.equal(outsiders.status, 422);
  assert.match(outsiders.body.error, /is not a member in epoch 1/);
  const long = await post('proposals', await signedProposal(members.carol, { kind: 0, epoch: 1, parameter: ZeroHash, value: 0n, description: 'x'.repeat(2001) }));
  assert.equal(long.status, 400);
  assert.match(long.body.error, /"description" is 2001 characters long, over the limit of 2000/);
  // Signed over a different description than the one sent.
  const forged = { ...(await signedProposal(members.carol, { kind: 0, epoch: 1, parameter: ZeroHash, value: 0n, description: 'harmless' })), description: 'evil' };
  const refused = await post('proposals', forged);
  assert.equal(refused.status, 400);
  assert.match(refused.body.error, /proposal request \(nonce 0\) signature was made by 0x[0-9a-fA-F]{40}, not by/);
});

test('signed votes from members without ether go on-chain in one transaction, weighted by their work', async () => {
  const votes = [await signedVote(members.alice, 1n, VoteSupport.For), await signedVote(members.bob, 1n, VoteSupport.Against), await signedVote(members.carol, 1n, VoteSupport.Abstain)];
  for (const vote of votes) {
    const { status, body } = await post('votes', vote);
    assert.equal(status, 202, JSON.stringify(body));
    assert.equal(body.status, 'queued');
    assert.equal(typeof body.id, 'number');
  }
  const queuedTwice = await post('votes', votes[0]);
  assert.equal(queuedTwice.status, 409);
  assert.match(queuedTwice.body.error, /a vote by 0x[0-9a-fA-F]{40} on proposal 1 is already queued \(request \d+\)/);

  await relayer.flush();
  const hashes = new Set<string>();
  for (const wallet of Object.values(members)) {
    const [record] = await requestsOf('votes', wallet.address);
    assert.equal(record?.status, 'confirmed', JSON.stringify(record));
    assert.match(record.txHash!, /^0x[0-9a-f]{64}$/);
    hashes.add(record.txHash!);
    assertFields<RelayedVote>(
      record,
      { ...RELAYED, proposalId: 'required', support: 'required', epoch: 'required', weight: 'required' },
      'GET /api/votes/:address item',
    );
    assert.equal(await governor.getFunction('hasVoted')(1n, wallet.address), true);
    assert.equal(await ethBalance(wallet.address), 0n, `${wallet.address} paid no gas`);
  }
  assert.equal(hashes.size, 1, 'all three votes in one transaction');
  const tx = await chain.provider.getTransaction([...hashes][0]!);
  assert.equal(tx?.from, relayer.address);
  assert.equal(tx?.to, chain.deployment.governor);

  const tally = await governor.getFunction('getProposal')(1n);
  assert.equal(tally.forWork, leaf(members.alice).cumulativeWork);
  assert.equal(tally.againstWork, leaf(members.bob).cumulativeWork);
  assert.equal(tally.abstainWork, leaf(members.carol).cumulativeWork);
  assert.notEqual(tally.forWork, tally.abstainWork, 'different work, different weights');
  const listed = (await getJson(api + 'proposals')).body.proposals[0];
  assert.equal(listed.forWork, tally.forWork.toString());

  const replay = await post('votes', votes[0]);
  assert.equal(replay.status, 409);
  assert.match(replay.body.error, /has already voted on proposal 1/);
});

test('votes with a bad, foreign or malleated signature are refused with 400 and say why', async () => {
  const good = await signedVote(members.alice, 2n, VoteSupport.For);
  const cases: [unknown, RegExp][] = [
    // Signed For, sent as Against: the signature recovers someone else.
    [{ ...good, support: VoteSupport.Against }, /ballot signature was made by 0x[0-9a-fA-F]{40}, not by 0x/],
    // Bob signs a ballot that names Alice as the voter.
    [await signedVote(members.bob, 2n, VoteSupport.For, members.alice.address), new RegExp(`made by ${members.bob.address}, not by ${members.alice.address}`)],
    // The same signature in its high-s form: valid ECDSA, but the contracts refuse it.
    [{ ...good, signature: malleate(good.signature) }, /high s value/],
    [{ ...good, signature: good.signature.slice(0, 130) + '01' }, /v = 1; expected 27 or 28/],
    [{ ...good, signature: good.signature.slice(0, 100) }, /"signature" must be 0x followed by 130 hex digits/],
  ];
  for (const [body, message] of cases) {
    const res = await post('votes', body);
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.body.error, message);
  }
  // Refused on its merits, not for anything else: the untouched ballot is accepted.
  assert.equal((await post('votes', good)).status, 202);
});

test("a non-member's vote is refused with 422, and so is a vote on a proposal that does not exist", async () => {
  const res = await post('votes', await signedVote(outsider, 2n, VoteSupport.For));
  assert.equal(res.status, 422);
  assert.match(res.body.error, new RegExp(`${outsider.address} is not a member in epoch 1`));
  const unknown = await post('votes', await signedVote(members.bob, 99n, VoteSupport.For));
  assert.equal(unknown.status, 422);
  assert.equal(unknown.body.error, 'proposal 99 does not exist');
});

test('after the deadline a vote is refused, and a queued one is marked failed with the decoded chain error', async () => {
  // Carol's vote on proposal 2 is queued next to Alice's (from the previous test) while voting is open...
  assert.equal((await post('votes', await signedVote(members.carol, 2n, VoteSupport.Against))).status, 202);
  await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 1);
  // ...and the batch runs after it closed: each is checked alone and refused, nothing is sent for
  // them. The round's one transaction is the relayer executing proposal 1, which passed (next test).
  const nonceBefore = await chain.provider.getTransactionCount(relayer.address);
  await relayer.flush();
  assert.equal(await chain.provider.getTransactionCount(relayer.address), nonceBefore + 1, 'no transaction for refused votes, one execution');
  for (const wallet of [members.alice, members.carol]) {
    const [record] = await requestsOf('votes', wallet.address);
    assert.equal(record?.status, 'failed');
    assert.match(record.error!, /^VotingClosed\(proposalId: 2, voteEnd: \d+\)$/);
  }
  const late = await post('votes', await signedVote(members.bob, 2n, VoteSupport.For));
  assert.equal(late.status, 422);
  assert.match(late.body.error, /voting on proposal 2 closed at \d{4}-\d\d-\d\dT/);
});

test('the relayer executes a passed proposal once its vote has ended, and only once', async () => {
  // Proposal 1 (a signal: For outweighs Against, quorum met) passed when the previous test moved
  // the clock past its end; that round executed it. Proposal 2 had no counted vote: defeated.
  const executed = await governor.queryFilter(governor.getEvent('ProposalExecuted'));
  assert.deepEqual(executed.map((log) => (log as unknown as { args: { proposalId: bigint } }).args.proposalId), [1n]);
  const tx = await chain.provider.getTransaction(executed[0]!.transactionHash);
  assert.equal(tx?.from, relayer.address, 'sent by the relayer');
  const listed = (await getJson(api + 'proposals')).body.proposals as { id: string; state: string }[];
  assert.deepEqual(listed.map((p) => [p.id, p.state]), [['1', 'executed'], ['2', 'defeated']]);
  // Idempotent: a second round (or another gateway's) finds nothing to execute and sends nothing.
  const nonceBefore = await chain.provider.getTransactionCount(relayer.address);
  await relayer.flush();
  assert.equal(await chain.provider.getTransactionCount(relayer.address), nonceBefore, 'an executed proposal is not sent again');
});

test('with no new block, a proposal whose vote has ended is listed as ended, not active', async () => {
  const request = { kind: ProposalKind.Signal, epoch: 1, parameter: ZeroHash, value: 0n, description: 'ends between blocks' };
  assert.equal((await post('proposals', await signedProposal(members.carol, request))).status, 202);
  await relayer.flush();
  const id = BigInt((await getJson(api + 'proposals')).body.proposals.length);
  assert.equal((await post('votes', await signedVote(members.carol, id, VoteSupport.For))).status, 202);
  await relayer.flush();
  // The chain's latest block lands 2 s before the vote's end, and nothing is mined after it: a
  // chain that mines only on transactions. The contract still says Active at that block.
  const voteEnd = ((await governor.getFunction('getProposal')(id)) as { voteEnd: bigint }).voteEnd;
  await chain.provider.send('evm_setNextBlockTimestamp', [Number(voteEnd) - 2]);
  await chain.provider.send('evm_mine', []);
  const head = await chain.provider.getBlockNumber();
  const stateOf = async () => ((await getJson(api + 'proposals')).body.proposals as { id: string; state: string }[]).find((p) => p.id === id.toString())?.state;
  assert.equal(await stateOf(), 'active');
  assert.equal(await governor.getFunction('state')(id), 0n, 'the contract, at the latest block: Active');
  await new Promise((resolve) => setTimeout(resolve, 3_200));
  assert.equal(await stateOf(), 'succeeded', 'chain time (block time + wall time since) is past the end');
  assert.equal(await chain.provider.getBlockNumber(), head, 'no block was mined meanwhile');
});

test('a relayed claim pays the member its cumulative reward; a second one has nothing to claim', async () => {
  const alicesLeaf = leaf(members.alice);
  assert.ok(alicesLeaf.cumulativeReward > 0n);
  const res = await post('claims', await signedClaim(members.alice, soon()));
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.deepEqual(res.body, { id: res.body.id, status: 'queued', epoch: '1', amount: alicesLeaf.cumulativeReward.toString() });
  // Bob's claim rides in the same batch.
  assert.equal((await post('claims', await signedClaim(members.bob, soon()))).status, 202);
  const pending = await post('claims', await signedClaim(members.alice, soon()));
  assert.equal(pending.status, 409);

  await relayer.flush();
  assert.equal(await tokenBalance(members.alice.address), alicesLeaf.cumulativeReward);
  assert.equal(await tokenBalance(members.bob.address), leaf(members.bob).cumulativeReward);
  const [aliceRecord] = await requestsOf('claims', members.alice.address);
  const [bobRecord] = await requestsOf('claims', members.bob.address);
  assert.equal(aliceRecord?.status, 'confirmed');
  assert.equal(aliceRecord.amount, alicesLeaf.cumulativeReward.toString());
  assertFields<RelayedClaim>(
    aliceRecord,
    { ...RELAYED, epoch: 'required', amount: 'required', cumulativeReward: 'required', deadline: 'required' },
    'GET /api/claims/:address item',
  );
  assert.equal(aliceRecord.txHash, bobRecord?.txHash, 'one claimMany for both');
  assert.equal(await ethBalance(members.alice.address), 0n);

  const second = await post('claims', await signedClaim(members.alice, soon()));
  assert.equal(second.status, 422);
  assert.match(second.body.error, /^nothing to claim: .* is already claimed$/);
  const stranger = await post('claims', await signedClaim(outsider, soon()));
  assert.equal(stranger.status, 422);
  assert.match(stranger.body.error, /nothing to claim: 0x[0-9a-fA-F]{40} has no leaf in the latest final epoch 1/);
});

test('expired, far-future and foreign claim requests are refused with 400', async () => {
  const now = Math.floor(Date.now() / 1000);
  const expired = await post('claims', await signedClaim(members.carol, now - 1));
  assert.equal(expired.status, 400);
  assert.match(expired.body.error, /claim request expired at .*; sign a new one/);
  const far = await post('claims', await signedClaim(members.carol, now + 2 * 86_400));
  assert.equal(far.status, 400);
  assert.match(far.body.error, /more than 24 hours ahead/);
  const foreign = await post('claims', await signedClaim(outsider, soon(), members.carol.address));
  assert.equal(foreign.status, 400);
  assert.match(foreign.body.error, new RegExp(`claim request signature was made by ${outsider.address}, not by ${members.carol.address}`));
  assert.deepEqual(await requestsOf('claims', members.carol.address), [], 'nothing was queued');
});

test('the same ballot twice in one batch: the second is skipped as already done, and says so', async () => {
  const proposal = await post('proposals', await signedProposal(members.carol, { kind: 0, epoch: 1, parameter: ZeroHash, value: 0n, description: 'third' }));
  assert.equal(proposal.status, 202);
  await relayer.flush();
  const proposalId = BigInt((await getJson(`${api}proposals/requests/${members.carol.address}`)).body.requests[0].proposalId);
  // The same ballot twice under two keys (the API never queues that): castVotesBySig counts the first and skips the second.
  const ballot = await signedVote(members.bob, proposalId, VoteSupport.For);
  const bobsLeaf = leaf(members.bob);
  const payload = { ...ballot, epoch: '1', cumulativeWork: bobsLeaf.cumulativeWork.toString(), cumulativeReward: bobsLeaf.cumulativeReward.toString(), proof: bobsLeaf.proof };
  const store = new RelayStore(db());
  const ids = ['a', 'b'].map((suffix) => {
    const result = store.enqueue('vote', `vote:${proposalId}:test-${suffix}`, members.bob.address, payload);
    assert.ok('id' in result);
    return result.id;
  });
  await relayer.flush();
  const [first, second] = ids.map((id) => store.byId(id)!);
  assert.equal(first?.status, 'confirmed');
  assert.equal(first?.payload['skipped'], undefined);
  assert.equal(second?.status, 'confirmed');
  assert.equal(second?.txHash, first?.txHash, 'one transaction');
  assert.match(String(second?.payload['skipped']), /^already done: AlreadyVoted \(the vote was counted by another transaction first\)$/);
  const listed = (await requestsOf('votes', members.bob.address)).find((r) => r.id === second!.id);
  assert.match(String(listed?.skipped), /^already done: AlreadyVoted/, 'GET /api/votes/:address shows why it was skipped');
  assert.equal((await governor.getFunction('getProposal')(proposalId)).forWork, bobsLeaf.cumulativeWork, 'counted once');
});

test('malformed requests get precise 4xx answers and the gateway keeps serving', async () => {
  const vote = await signedVote(members.bob, 1n, VoteSupport.For);
  const cases: [Promise<{ status: number; body: any }>, number, RegExp][] = [
    [post('votes', '{"proposalId": "1",', { 'content-type': 'application/json' }), 400, /^body is not valid JSON/],
    [post('votes', JSON.stringify(vote), { 'content-type': 'text/plain' }), 415, /expected content-type application\/json, got text\/plain/],
    [post('votes', JSON.stringify({ ...vote, pad: 'x'.repeat(20_000) })), 413, /over the 16384-byte limit/],
    [post('votes', '[1, 2]'), 400, /body must be a JSON object/],
    [post('votes', { proposalId: '1', support: 1, signature: vote.signature }), 400, /^missing field "voter"$/],
    [post('votes', { ...vote, proposalId: 1 }), 400, /field "proposalId" must be a decimal string, got number 1/],
    [post('votes', { ...vote, proposalId: '-1' }), 400, /field "proposalId" must be a non-negative decimal integer/],
    [post('votes', { ...vote, support: 3 }), 400, /field "support" must be one of 0, 1, 2, got number 3/],
    [post('votes', { ...vote, support: '1' }), 400, /field "support" must be one of 0, 1, 2, got string "1"/],
    [post('votes', { ...vote, voter: 'bob' }), 400, /field "voter" must be 0x followed by 40 hex digits/],
    [post('votes', { ...vote, voter: members.bob.address.replace(/[a-f]/, (c) => c.toUpperCase()) }), 400, /bad EIP-55 checksum/],
    [post('votes', { ...vote, suport: 1 }), 400, /unknown field "suport"/],
    [post('claims', { account: members.bob.address, epoch: 1, deadline: 1.5, signature: vote.signature }), 400, /field "deadline" must be a non-negative integer, got number 1.5/],
    [post('claims', { account: members.bob.address, epoch: 1, deadline: soon() }), 400, /^missing field "signature"$/],
    [post('proposals', { proposer: members.bob.address, kind: 0, epoch: 1, parameter: '0x00', value: '0', description: '', nonce: '0', signature: vote.signature }), 400, /"parameter" must be 0x followed by 64 hex digits/],
    [post('proposals', { proposer: members.bob.address, kind: 0, epoch: 1, parameter: ZeroHash, value: '0', description: '', signature: vote.signature }), 400, /^missing field "nonce"$/],
  ];
  for (const [response, status, message] of cases) {
    const res = await response;
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.match(res.body.error, message);
  }
  const wrongMethod = await fetch(api + 'votes', { method: 'PUT' });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
  const badAddress = await getJson(api + 'votes/0x1234');
  assert.equal(badAddress.status, 400);
  assert.match(badAddress.body.error, /"0x1234" is not an address/);
  assert.equal((await getJson(api + 'claims/' + members.bob.address + '/extra')).status, 404);
  // Still serving: a listing and a valid request work after all of that.
  assert.equal((await getJson(api + 'proposals')).status, 200);
  assert.equal((await getJson(gateway.httpUrl + 'healthz')).status, 200);
});

test('on start, requests a crash left "sent" are reconciled with the chain; the timer relays the rest and logs the gas', async () => {
  const store = new RelayStore(db());
  const lost = '0x' + 'ab'.repeat(32);
  // Alice's vote on proposal 1 took effect, but say the process died before recording it...
  const [vote] = store.forAccount('vote', members.alice.address, 10).filter((r) => r.payload['proposalId'] === '1');
  assert.ok(vote);
  store.markSent([vote.id], lost);
  // ...and Carol's claim was sent in a transaction the node never mined.
  const carolsLeaf = leaf(members.carol);
  const enqueued = store.enqueue('claim', `claim:${members.carol.address.toLowerCase()}:1`, members.carol.address, {
    account: members.carol.address,
    deadline: String(soon()),
    signature: '0x',
    epoch: '1',
    cumulativeWork: carolsLeaf.cumulativeWork.toString(),
    cumulativeReward: carolsLeaf.cumulativeReward.toString(),
    proof: carolsLeaf.proof,
    amount: carolsLeaf.cumulativeReward.toString(),
  });
  assert.ok('id' in enqueued);
  store.markSent([enqueued.id], lost);

  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const restarted = await startRelayer({ chain: gateway.view.chain!, store: gateway.view.relayer!.store, leadership: gateway.view.relayer!.leadership, log, config: { ...gateway.view.config, relayIntervalMs: 50 } });
  assert.equal(store.byId(vote.id)?.status, 'confirmed', 'hasVoted: the vote counted');
  assert.equal(store.byId(enqueued.id)?.status, 'queued', 'the claim took no effect: back in the queue');
  // No flush: the relayer's own timer submits it.
  await waitFor('the requeued claim relayed', () => store.byId(enqueued.id)?.status === 'confirmed', 5_000);
  await restarted.stop();
  const claim = store.byId(enqueued.id)!;
  assert.equal(claim.status, 'confirmed');
  assert.notEqual(claim.txHash, lost);
  assert.equal(await tokenBalance(members.carol.address), carolsLeaf.cumulativeReward);
  const batch = lines.map((line) => JSON.parse(line)).find((entry) => entry.kind === 'claim' && entry.gasUsed);
  assert.ok(batch, `a gas report in ${lines.join('')}`);
  assert.equal(batch.items, 1);
  assert.match(batch.gasUsed, /^\d+$/);
  assert.ok(Number(batch.gasUsed) > 21_000);
});

test('an unreachable chain node leaves requests queued, with a warning and no crash', async () => {
  const live = gateway.view.chain!;
  const dead = new JsonRpcProvider('http://127.0.0.1:9', live.chainId, { staticNetwork: true });
  const wallet = new Wallet(chain.anvil.accounts[0]!.privateKey, dead);
  const deadChain: DaoChain = {
    ...live,
    provider: dead,
    relayer: {
      ...live.relayer,
      governor: live.relayer.governor.connect(wallet) as Contract,
      distributor: live.relayer.distributor.connect(wallet) as Contract,
      token: live.relayer.token.connect(wallet) as Contract,
    },
  };
  const store = new RelayStore(db());
  // Queued directly: the API itself would need the chain to accept it.
  const enqueued = store.enqueue('vote', 'vote:1:synthetic', members.bob.address, {
    proposalId: '1',
    support: 1,
    voter: members.bob.address,
    signature: '0x' + '11'.repeat(65),
    epoch: '1',
    cumulativeWork: '1',
    cumulativeReward: '0',
    proof: [],
  });
  assert.ok('id' in enqueued);
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  try {
    const offline = await startRelayer({ chain: deadChain, store: gateway.view.relayer!.store, leadership: gateway.view.relayer!.leadership, log, config: gateway.view.config });
    await offline.flush();
    await offline.stop();
    assert.equal(store.byId(enqueued.id)?.status, 'queued');
    assert.ok(lines.some((line) => /relaying stopped for this round; the requests stay queued/.test(line)), lines.join(''));
  } finally {
    store.markFailed([enqueued.id], 'test cleanup');
    dead.destroy();
  }
});

// ---------------------------------------------------------------- epoch 2: front-running and a later member

/** Joins in epoch 2: has no leaf in epoch 1. */
const erin = Wallet.createRandom();

/** Runs `work` with automine off (transactions wait in the pool until `evm_mine`), then turns it back on. */
async function withAutomineOff<T>(work: () => Promise<T>): Promise<T> {
  await chain.provider.send('evm_setAutomine', [false]);
  try {
    return await work();
  } finally {
    await chain.provider.send('evm_setAutomine', [true]);
  }
}

/** Waits until the relayer's batch for `ids` is in the pool, and returns that transaction. */
async function pendingBatch(store: RelayStore, ids: number[]) {
  await waitFor('the relayer sent its batch', () => ids.every((id) => store.byId(id)?.status === 'sent'), 10_000);
  const tx = await chain.provider.getTransaction(store.byId(ids[0]!)!.txHash!);
  assert.ok(tx, 'the batch is in the pool');
  return tx;
}

/** Fees above the pending transaction's, so anvil (which orders a block by fee) mines the copy first. */
const outbid = (tx: { maxFeePerGas: bigint | null; maxPriorityFeePerGas: bigint | null }) => ({ maxFeePerGas: tx.maxFeePerGas! * 2n, maxPriorityFeePerGas: tx.maxPriorityFeePerGas! * 2n + 1n });

test('epoch 2: a proposal pinned to epoch 1 is refused, and a member who joined in epoch 2 votes on a new one', async () => {
  for (const wallet of [...Object.values(members), erin]) await mine(wallet.address, 1);
  const settlement = gateway.view.settlement!;
  assert.ok(await settlement.closeEpoch(), 'epoch 2 closed');
  await waitFor('epoch 2 published', async () => (await settlement.store.epoch(2))?.status === 'published');
  const published = publishedLeavesOf(settlement.store);
  for (const wallet of [...Object.values(members), erin]) leaves.set(wallet.address, (await published.publishedLeaf(2, wallet.address))!);

  const stale = await post('proposals', await signedProposal(members.alice, { kind: 1, epoch: 1, parameter: REINVESTMENT_BPS_PARAMETER, value: 10_000n, description: 'only the early members' }));
  assert.equal(stale.status, 409, JSON.stringify(stale.body));
  assert.match(stale.body.error, /signed for epoch 1 but the latest final epoch is 2/);
  const fresh = await post('proposals', await signedProposal(members.alice, { kind: 1, epoch: 2, parameter: REINVESTMENT_BPS_PARAMETER, value: 10_000n, description: 'everyone votes' }));
  assert.equal(fresh.status, 202, JSON.stringify(fresh.body));
  await relayer.flush();
  const proposalId = BigInt((await getJson(`${api}proposals/requests/${members.alice.address}`)).body.requests[0].proposalId);
  assert.equal((await governor.getFunction('getProposal')(proposalId)).epoch, 2n);

  const vote = await post('votes', await signedVote(erin, proposalId, VoteSupport.Against));
  assert.equal(vote.status, 202, JSON.stringify(vote.body));
  await relayer.flush();
  const [record] = await requestsOf('votes', erin.address);
  assert.equal(record?.status, 'confirmed', JSON.stringify(record));
  assert.equal((await governor.getFunction('getProposal')(proposalId)).againstWork, leaf(erin).cumulativeWork, "erin's epoch-2 work counts");
});

test('a claim() sent with a higher fee ahead of the pending claimMany: the others are paid, the copied one is done and says why', async () => {
  const store = new RelayStore(db());
  const claimants = [members.alice, members.bob, erin];
  const ids: number[] = [];
  for (const wallet of claimants) {
    const res = await post('claims', await signedClaim(wallet, soon(), wallet.address, 2));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    ids.push(res.body.id);
  }
  const outsiderWallet = chain.wallets[8]!;
  const bobs = leaf(members.bob);
  const flushed = await withAutomineOff(async () => {
    const flushing = relayer.flush();
    const batch = await pendingBatch(store, ids);
    const copy = await (chain.contracts.distributor.connect(outsiderWallet) as Contract).getFunction('claim')(members.bob.address, 2, bobs.cumulativeWork, bobs.cumulativeReward, bobs.proof, { gasLimit: 200_000, ...outbid(batch) });
    await chain.provider.send('evm_mine', []);
    return { flushing, batch, copy };
  });
  await flushed.flushing;
  const [batchReceipt, copyReceipt] = await Promise.all([chain.provider.getTransactionReceipt(flushed.batch.hash), chain.provider.getTransactionReceipt(flushed.copy.hash)]);
  assert.equal(copyReceipt?.status, 1);
  assert.equal(batchReceipt?.status, 1, 'the batch did not revert');
  assert.ok(copyReceipt!.blockNumber === batchReceipt!.blockNumber && copyReceipt!.index < batchReceipt!.index, 'the copy was mined first');
  for (const wallet of claimants) assert.equal(await tokenBalance(wallet.address), leaf(wallet).cumulativeReward, `${wallet.address} is paid in full`);
  const [alices, bobRecord, erins] = ids.map((id) => store.byId(id)!);
  for (const record of [alices, erins]) {
    assert.equal(record?.status, 'confirmed');
    assert.equal(record?.payload['skipped'], undefined);
  }
  assert.equal(bobRecord?.status, 'confirmed');
  assert.match(String(bobRecord?.payload['skipped']), new RegExp(`^already done: NothingToClaim \\(${bobs.cumulativeReward} of cumulative reward ${bobs.cumulativeReward} was claimed by another transaction first\\)$`));
  const [listed] = await requestsOf('claims', members.bob.address);
  assert.match(String(listed?.skipped), /^already done: NothingToClaim/);
});

test('a ballot copied out of the pending castVotesBySig and mined first: the other votes are counted, the copied one is done', async () => {
  const store = new RelayStore(db());
  const proposal = await post('proposals', await signedProposal(members.bob, { kind: 0, epoch: 2, parameter: ZeroHash, value: 0n, description: 'front-run me' }));
  assert.equal(proposal.status, 202, JSON.stringify(proposal.body));
  await relayer.flush();
  const proposalId = BigInt((await getJson(`${api}proposals/requests/${members.bob.address}`)).body.requests[0].proposalId);
  const voters = [members.alice, members.carol, erin];
  const ids: number[] = [];
  for (const wallet of voters) {
    const res = await post('votes', await signedVote(wallet, proposalId, VoteSupport.For));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    ids.push(res.body.id);
  }
  const outsiderWallet = chain.wallets[8]!;
  const flushed = await withAutomineOff(async () => {
    const flushing = relayer.flush();
    const batch = await pendingBatch(store, ids);
    // The last ballot, decoded from the pending transaction's calldata and sent alone.
    const [ballots] = governor.interface.decodeFunctionData('castVotesBySig', batch.data);
    const last = ballots[ballots.length - 1];
    const copied = { proposalId: last.proposalId, support: last.support, voter: last.voter, leaf: { cumulativeWork: last.leaf.cumulativeWork, cumulativeReward: last.leaf.cumulativeReward, proof: [...last.leaf.proof] }, signature: last.signature };
    const copy = await (governor.connect(outsiderWallet) as Contract).getFunction('castVoteBySig')(copied, { gasLimit: 300_000, ...outbid(batch) });
    await chain.provider.send('evm_mine', []);
    return { flushing, batch, copy };
  });
  await flushed.flushing;
  const copyReceipt = await chain.provider.getTransactionReceipt(flushed.copy.hash);
  assert.equal(copyReceipt?.status, 1);
  assert.equal((await chain.provider.getTransactionReceipt(flushed.batch.hash))?.status, 1, 'the batch did not revert');
  const tally = await governor.getFunction('getProposal')(proposalId);
  assert.equal(tally.forWork, voters.reduce((sum, w) => sum + leaf(w).cumulativeWork, 0n), 'all three counted, once each');
  const records = ids.map((id) => store.byId(id)!);
  assert.deepEqual(records.map((r) => r.status), ['confirmed', 'confirmed', 'confirmed']);
  assert.deepEqual(records.map((r) => r.payload['skipped'] !== undefined), [false, false, true], 'only the copied ballot was skipped');
});

/** A proposal about to close and one that stays open, with ballots queued on both (alice and erin on the open one, bob on the closing one). */
async function ballotsOnClosingAndOpen(tag: string) {
  const proposalOf = async (proposer: HDNodeWallet, description: string) => {
    assert.equal((await post('proposals', await signedProposal(proposer, { kind: 0, epoch: 2, parameter: ZeroHash, value: 0n, description }))).status, 202);
    await relayer.flush();
    return BigInt((await getJson(`${api}proposals/requests/${proposer.address}`)).body.requests[0].proposalId);
  };
  const closing = await proposalOf(members.carol, `${tag}: closes first`);
  await chain.increaseTime(600);
  const open = await proposalOf(erin, `${tag}: stays open`);
  const ids: number[] = [];
  for (const [wallet, proposalId] of [[members.alice, open], [members.bob, closing], [erin, open]] as const) {
    const res = await post('votes', await signedVote(wallet, proposalId, VoteSupport.For));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    ids.push(res.body.id);
  }
  const voteEnd = (await governor.getFunction('getProposal')(closing)).voteEnd as bigint;
  return { closing, open, ids, voteEnd };
}

/** A relayer of its own over the gateway's chain and queue, whose log lines the test reads. */
async function loggedRelayer() {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const own = await startRelayer({ chain: gateway.view.chain!, store: relayer.store, leadership: relayer.leadership, log, config: gateway.view.config });
  return { own, lines };
}

function assertOnlyBobsFailed(ids: number[], closing: bigint, voteEnd: bigint) {
  const [alices, bobs, erins] = ids.map((id) => new RelayStore(db()).byId(id)!);
  assert.equal(alices?.status, 'confirmed', JSON.stringify(alices));
  assert.equal(erins?.status, 'confirmed', JSON.stringify(erins));
  assert.equal(bobs?.status, 'failed');
  assert.match(bobs!.error!, new RegExp(`^VotingClosed\\(proposalId: ${closing}, voteEnd: ${voteEnd}\\)$`));
  return { alices: alices!, erins: erins! };
}

test('a batch refused at estimation for one request still lands the others; the one at fault fails with its own reason', async () => {
  const { closing, open, ids, voteEnd } = await ballotsOnClosingAndOpen('estimate');
  // The next block falls just after `closing`'s vote: each ballot still passes its check (a call
  // at the latest block), but the batch's gas estimate (for the next block) is refused as a whole.
  await chain.provider.send('evm_setNextBlockTimestamp', [Number(voteEnd) + 1]);
  const { own, lines } = await loggedRelayer();
  await own.flush();
  await own.stop();
  assert.ok(lines.some((line) => /relay batch refused as a whole/.test(line)), `the batch was refused: ${lines.join('')}`);
  assertOnlyBobsFailed(ids, closing, voteEnd);
  assert.equal((await governor.getFunction('getProposal')(open)).forWork, leaf(members.alice).cumulativeWork + leaf(erin).cumulativeWork);
});

test('a mined batch that reverts for one request: the others go back to the queue and land in the next batch', async () => {
  const { closing, open, ids, voteEnd } = await ballotsOnClosingAndOpen('mined');
  const store = new RelayStore(db());
  const { own, lines } = await loggedRelayer();
  const reverted = await withAutomineOff(async () => {
    const flushing = own.flush();
    const batch = await pendingBatch(store, ids);
    // Passed its estimate, then mined just after `closing`'s vote ended.
    await chain.provider.send('evm_setNextBlockTimestamp', [Number(voteEnd) + 1]);
    await chain.provider.send('evm_mine', []);
    return { flushing, batch };
  });
  await reverted.flushing;
  await own.stop();
  assert.equal((await chain.provider.getTransactionReceipt(reverted.batch.hash))?.status, 0, 'the first batch reverted on-chain');
  assert.ok(lines.some((line) => /relayed batch reverted; checking each request again/.test(line)), lines.join(''));
  const { alices, erins } = assertOnlyBobsFailed(ids, closing, voteEnd);
  assert.notEqual(alices.txHash, reverted.batch.hash, 'relayed again in a new transaction');
  assert.equal(alices.txHash, erins.txHash, 'the two still valid went together');
  assert.equal((await governor.getFunction('getProposal')(open)).forWork, leaf(members.alice).cumulativeWork + leaf(erin).cumulativeWork);
});
