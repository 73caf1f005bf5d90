// The WorkGovernor's fuzz actions: proposals direct and by signature, votes direct, by signature and
// in relayed batches (double votes, strangers, wrong signers and stale leaves mixed in), executes,
// and time warps. Each asks the model first, then checks the chain agrees.
import assert from 'node:assert/strict';
import { ZeroHash, id, type Wallet } from 'ethers';
import { BALLOT_TYPES, governorDomain, PROPOSAL_REQUEST_TYPES, REINVESTMENT_BPS_PARAMETER } from '../../protocol/dao/index.js';
import { comparable, eventsOf, expectRevert, mined, type LeafProof } from './chain.js';
import type { FuzzContext } from './dao-fuzz-context.js';
import type { Expected, ProposalModel, ProposalRequest } from './dao-model.js';

const NO_LEAF: LeafProof = { cumulativeWork: 0n, cumulativeReward: 0n, proof: [] };

/** `account`'s leaf in `epoch` when it has one; otherwise someone else's, or a zero leaf. */
function leafFor(ctx: FuzzContext, epoch: number, account: string): LeafProof {
  const published = ctx.dist.epochs.get(epoch);
  if (!published) return NO_LEAF;
  const holders = [...published.tree.tree.entries()].map(([, [address]]) => address);
  const own = holders.some((h) => h.toLowerCase() === account.toLowerCase());
  if (own && ctx.rng.chance(0.9)) return published.tree.leaf(account);
  if (ctx.rng.chance(0.5)) return published.tree.leaf(ctx.rng.pick(holders));
  // A leaf from another epoch: valid there, usually not here.
  const other = ctx.dist.epochs.get(ctx.rng.pick([...ctx.dist.epochs.keys()]))!;
  const otherHolders = [...other.tree.tree.entries()].map(([, [address]]) => address);
  const inOther = otherHolders.some((h) => h.toLowerCase() === account.toLowerCase());
  return own && inOther && ctx.rng.chance(0.5) ? other.tree.leaf(account) : NO_LEAF;
}

const accounts = (ctx: FuzzContext): Wallet[] => [...ctx.members, ctx.outsider];

function randomRequest(ctx: FuzzContext): ProposalRequest {
  const { rng, dist } = ctx;
  // Mostly the latest epoch (the only one a proposal may be pinned to); now and then an older or a future one.
  const epoch = rng.chance(0.85) ? dist.latestEpoch : rng.chance(0.3) ? dist.latestEpoch + 1 : rng.pick([...dist.epochs.keys()]);
  const description = `proposal ${rng.u32()}`;
  if (rng.chance(0.4)) {
    // Now and then a Signal that wrongly names a parameter or a value.
    const parameter = rng.chance(0.05) ? REINVESTMENT_BPS_PARAMETER : ZeroHash;
    return { kind: 0, epoch, parameter, value: rng.chance(0.05) ? 1n : 0n, description };
  }
  const parameter = rng.chance(0.05) ? id('feeBps') : REINVESTMENT_BPS_PARAMETER;
  const value = rng.chance(0.05) ? 10_001n : BigInt(rng.range(0, 10_000));
  return { kind: 1, epoch, parameter, value, description };
}

/** A member (or the outsider) proposes directly, or signs and a relayer submits. */
export async function proposeAction(ctx: FuzzContext): Promise<void> {
  const { rng, gov } = ctx;
  const proposer = rng.pick(accounts(ctx));
  const request = randomRequest(ctx);
  const leaf = leafFor(ctx, request.epoch, proposer.address);
  const bySig = rng.chance(0.5);
  let expected = gov.expectPropose(proposer.address, request, leaf);
  let send = () => ctx.as(ctx.c.governor, proposer).propose(request, leaf);
  let how = 'direct';
  if (bySig) {
    const nonce = gov.nonceOf(proposer.address);
    // A wrong signer, or a signature over a used nonce (a replay), is refused before anything else.
    const variant = rng.int(20);
    const signer = variant === 0 ? rng.pick(accounts(ctx)) : proposer;
    const signedNonce = variant === 1 && nonce > 0n ? nonce - 1n : nonce;
    const typed = { proposer: proposer.address, kind: request.kind, epoch: request.epoch, parameter: request.parameter, value: request.value, descriptionHash: id(request.description), nonce: signedNonce };
    const signature = await signer.signTypedData(governorDomain(ctx.d.chainId, ctx.d.governor), PROPOSAL_REQUEST_TYPES, typed);
    if (signer !== proposer || signedNonce !== nonce) expected = { ok: false, error: 'InvalidSignature', args: [proposer.address] };
    send = () => ctx.as(ctx.c.governor, ctx.relayer).proposeBySig(proposer.address, request, leaf, signature);
    how = `bySig(signer ${signer.address.slice(0, 8)}, nonce ${signedNonce})`;
  }
  ctx.trace.push(`propose ${how} by ${proposer.address.slice(0, 8)} kind ${request.kind} epoch ${request.epoch} value ${request.value} expecting ${outcome(expected)}`);
  if (!expected.ok) return expectRevert(send(), expected.error, expected.args);

  const receipt = await mined(send());
  const block = await ctx.chain.provider.getBlock(receipt.blockNumber);
  const p = gov.applyPropose(request, BigInt(block!.timestamp));
  if (bySig) gov.useNonce(proposer.address);
  ctx.touched.add(p.id);
  assert.deepEqual(
    eventsOf(receipt, ctx.c.governor, 'ProposalCreated').map(comparable),
    [[p.id, proposer.address, p.kind, p.epoch, p.parameter, p.value, p.voteEnd, p.quorumWork, request.description]].map(comparable),
    'ProposalCreated',
  );
}

interface Ballot {
  proposal: ProposalModel;
  voter: Wallet;
  support: number;
  leaf: LeafProof;
  signer: Wallet;
}

/** Proposals whose voting state is certain at `now`, and an unknown id now and then. */
async function votable(ctx: FuzzContext): Promise<{ now: bigint; proposals: ProposalModel[] }> {
  const now = await ctx.now();
  return { now, proposals: ctx.gov.proposals.filter((p) => ctx.gov.phase(p, now) !== 'unsure') };
}

function randomBallot(ctx: FuzzContext, proposals: ProposalModel[]): Ballot {
  const { rng } = ctx;
  // Recent proposals are likelier to be open.
  const proposal = rng.chance(0.6) ? proposals[proposals.length - 1 - rng.int(Math.min(3, proposals.length))]! : rng.pick(proposals);
  const voter = rng.pick(accounts(ctx));
  const signer = rng.chance(0.08) ? rng.pick(accounts(ctx)) : voter;
  return { proposal, voter, support: rng.int(3), leaf: leafFor(ctx, proposal.epoch, voter.address), signer };
}

/** Votes directly, by one signed ballot, or by a relayed batch of 1 to 3 (all counted or skipped as already voted, or none). */
export async function voteAction(ctx: FuzzContext): Promise<void> {
  const { rng, gov } = ctx;
  const { now, proposals: certain } = await votable(ctx);
  const open = certain.filter((p) => gov.phase(p, now) === 'open');
  // Mostly open proposals; closed ones now and then (VotingClosed).
  const proposals = open.length > 0 && rng.chance(0.85) ? open : certain;
  if (proposals.length === 0) return proposeAction(ctx);
  const mode = rng.pick(['direct', 'bySig', 'batch'] as const);
  const ballots = Array.from({ length: mode === 'batch' ? rng.range(1, 3) : 1 }, () => randomBallot(ctx, proposals));
  if (mode === 'direct') ballots[0]!.signer = ballots[0]!.voter;
  if (mode === 'batch' && ballots.length > 1 && rng.chance(0.3)) ballots[1] = { ...ballots[0]! };

  let expected: Expected = { ok: true };
  const counted: { ballot: Ballot; weight: bigint }[] = [];
  const skipped: unknown[][] = [];
  const votedNow = new Set<string>();
  for (const b of ballots) {
    const weight = gov.weightOf(b.proposal.epoch, b.voter.address, b.leaf);
    const signedByVoter = b.signer === b.voter;
    const voted = b.proposal.votes.has(b.voter.address.toLowerCase()) || votedNow.has(`${b.proposal.id}:${b.voter.address.toLowerCase()}`);
    // castVotesBySig skips a ballot whose voter has already voted (checked after the signature).
    if (mode === 'batch' && signedByVoter && voted) {
      skipped.push([b.proposal.id, b.voter.address, ctx.c.governor.interface.getError('AlreadyVoted')!.selector]);
      continue;
    }
    const result: Expected = !signedByVoter ? { ok: false, error: 'InvalidSignature', args: [b.voter.address] } : gov.expectVote(b.proposal, b.voter.address, weight, now, votedNow);
    if (!result.ok) {
      expected = result;
      break;
    }
    votedNow.add(`${b.proposal.id}:${b.voter.address.toLowerCase()}`);
    counted.push({ ballot: b, weight: weight! });
  }
  const submitter = mode === 'direct' ? ballots[0]!.voter : ctx.relayer;
  const domain = governorDomain(ctx.d.chainId, ctx.d.governor);
  const signed = await Promise.all(
    ballots.map(async (b) => ({
      proposalId: b.proposal.id,
      support: b.support,
      voter: b.voter.address,
      leaf: b.leaf,
      signature: await b.signer.signTypedData(domain, BALLOT_TYPES, { proposalId: b.proposal.id, support: b.support, voter: b.voter.address }),
    })),
  );
  const send = () => {
    const b = ballots[0]!;
    if (mode === 'direct') return ctx.as(ctx.c.governor, b.voter).castVote(b.proposal.id, b.support, b.leaf);
    if (mode === 'bySig') return ctx.as(ctx.c.governor, ctx.relayer).castVoteBySig(signed[0]!);
    return ctx.as(ctx.c.governor, ctx.relayer).castVotesBySig(signed);
  };
  const described = ballots.map((b) => `${b.voter.address.slice(0, 8)}->${b.proposal.id}:${b.support}${b.signer === b.voter ? '' : ' (signed by another)'}`);
  ctx.trace.push(`vote ${mode} [${described.join(', ')}] expecting ${outcome(expected)}`);
  for (const b of ballots) ctx.touched.add(b.proposal.id);
  if (!expected.ok) return expectRevert(send(), expected.error, expected.args);

  const receipt = await mined(send());
  assert.deepEqual(
    eventsOf(receipt, ctx.c.governor, 'VoteCast').map(comparable),
    counted.map(({ ballot: b, weight }) => [b.proposal.id, b.voter.address, b.support, weight, submitter.address]).map(comparable),
    'VoteCast',
  );
  assert.deepEqual(eventsOf(receipt, ctx.c.governor, 'VoteSkipped').map(comparable), skipped.map(comparable), 'VoteSkipped');
  for (const { ballot: b, weight } of counted) gov.applyVote(b.proposal, b.voter.address, b.support, weight);
}

/** Anyone executes a proposal: succeeded ones apply, the others revert with their state. */
export async function executeAction(ctx: FuzzContext): Promise<void> {
  const { rng, gov } = ctx;
  const { now, proposals: certain } = await votable(ctx);
  // Mostly proposals whose vote is over and that are not yet executed (the ones that may pass).
  const finished = certain.filter((p) => !p.executed && gov.phase(p, now) === 'closed');
  const proposals = finished.length > 0 && rng.chance(0.75) ? finished : certain;
  if (proposals.length === 0) return warpAction(ctx);
  const p = rng.pick(proposals);
  const expected = gov.expectExecute(p, now)!;
  const sender = rng.pick([ctx.relayer, ...accounts(ctx)]);
  ctx.trace.push(`execute ${p.id} expecting ${outcome(expected)}`);
  ctx.touched.add(p.id);
  const send = () => ctx.as(ctx.c.governor, sender).execute(p.id);
  if (!expected.ok) return expectRevert(send(), expected.error, expected.args);

  const oldValue = gov.parameters.get(p.parameter);
  const receipt = await mined(send());
  assert.deepEqual(eventsOf(receipt, ctx.c.governor, 'ProposalExecuted').map(comparable), [[p.id]].map(comparable));
  const changes = p.kind === 1 ? [[p.parameter, oldValue, p.value]] : [];
  assert.deepEqual(eventsOf(receipt, ctx.c.governor, 'ParameterChanged').map(comparable), changes.map(comparable), 'ParameterChanged');
  gov.applyExecute(p);
  assert.equal(await ctx.c.governor.parameters(p.parameter), p.value, 'an executed parameter equals the passed value');
}

/** Moves the clock: a little, or past a whole voting period. */
export async function warpAction(ctx: FuzzContext): Promise<void> {
  const seconds = ctx.rng.pick([120, 900, 1800, Number(ctx.gov.votingPeriodSeconds) + 120]);
  ctx.trace.push(`warp ${seconds} s`);
  // evm_increaseTime has no effect while anvil steps block times by a fixed interval (the test's
  // replayable clock); setting the next block's time does.
  await ctx.chain.provider.send('evm_setNextBlockTimestamp', [Number(await ctx.now()) + seconds]);
  await ctx.chain.provider.send('evm_mine', []);
}

const outcome = (expected: Expected): string => (expected.ok ? 'success' : expected.error);
