// Signed votes: checked as the governor would check them, queued, and cast in batches
// (castVotesBySig) so members pay no gas.
import { isCallException } from 'ethers';
import type { AcceptedVote } from '../../protocol/api.js';
import { HttpError } from '../http/respond.js';
import { BALLOT_TYPES, VoteSupport, governorDomain } from '../../protocol/dao/typed-data.js';
import { chainRead, latestBlock } from './chain-errors.js';
import { addressField, choiceField, decimalField, hexField, onlyFields, type Body } from './input.js';
import { big, enqueueOrConflict, proofOf, skippedIn, text, type Lane, type RelayContext } from './lane.js';
import type { RelayRecord } from './request-store.js';
import { checkTypedSignature } from './signature.js';

/** The API's answer (protocol/api.ts), named here for the relayer that returns it. */
export type { AcceptedVote };

/** Ballots per castVotesBySig: each costs roughly 40-60k gas with its proof, so 50 stay near 3M. */
export const MAX_VOTES_PER_BATCH = 50;

export function voteKey(proposalId: bigint, voter: string): string {
  return `vote:${proposalId}:${voter.toLowerCase()}`;
}

const SUPPORTS = [VoteSupport.Against, VoteSupport.For, VoteSupport.Abstain] as const;

/**
 * Checks a signed ballot `{ proposalId, support, voter, signature }` and queues it: 400 for a
 * malformed body or a signature that is not the voter's, 422 for a proposal that does not exist or
 * is closed or a voter without weight in its epoch, 409 for a vote already cast or queued.
 */
export async function acceptVote(ctx: RelayContext, body: Body): Promise<AcceptedVote> {
  onlyFields(body, ['proposalId', 'support', 'voter', 'signature']);
  const proposalId = decimalField(body, 'proposalId');
  const support = choiceField(body, 'support', SUPPORTS);
  const voter = addressField(body, 'voter');
  const signature = hexField(body, 'signature', 65);
  const { chain } = ctx;
  checkTypedSignature(governorDomain(chain.chainId, chain.deployment.governor), BALLOT_TYPES, { proposalId, support, voter }, signature, voter, 'ballot');
  ctx.limits.admitMember(voter);

  const governor = ctx.reads.governor;
  let proposal: { epoch: bigint; voteEnd: bigint };
  try {
    proposal = await chainRead('getProposal', () => governor.getFunction('getProposal')(proposalId));
  } catch (err) {
    if (isCallException(err) && err.revert?.name === 'UnknownProposal') throw new HttpError(422, `proposal ${proposalId} does not exist`);
    throw err;
  }
  const block = await chainRead('latest block', () => latestBlock(chain.provider));
  if (block.timestamp > proposal.voteEnd) {
    const closedAt = new Date(Number(proposal.voteEnd) * 1000).toISOString();
    throw new HttpError(422, `voting on proposal ${proposalId} closed at ${closedAt} (voteEnd ${proposal.voteEnd}, chain time ${block.timestamp})`);
  }
  const leaf = await ctx.store.publishedLeaf(proposal.epoch, voter);
  if (!leaf || leaf.cumulativeWork === 0n) {
    throw new HttpError(422, `${voter} is not a member in epoch ${proposal.epoch} (no work in that epoch's root), the epoch proposal ${proposalId} is pinned to`);
  }
  if (await chainRead('hasVoted', () => governor.getFunction('hasVoted')(proposalId, voter) as Promise<boolean>)) {
    throw new HttpError(409, `${voter} has already voted on proposal ${proposalId}`);
  }
  const id = await enqueueOrConflict(
    ctx,
    'vote',
    voteKey(proposalId, voter),
    voter,
    {
      proposalId: proposalId.toString(),
      support,
      voter,
      signature,
      epoch: leaf.epoch.toString(),
      cumulativeWork: leaf.cumulativeWork.toString(),
      cumulativeReward: leaf.cumulativeReward.toString(),
      proof: leaf.proof,
    },
    `a vote by ${voter} on proposal ${proposalId}`,
  );
  ctx.limits.accepted(voter);
  return { id, status: 'queued' };
}

/** The WorkGovernor.SignedBallot of a queued vote. */
function ballotOf(record: RelayRecord) {
  const p = record.payload;
  return {
    proposalId: big(p, 'proposalId'),
    support: Number(p['support']),
    voter: text(p, 'voter'),
    leaf: { cumulativeWork: big(p, 'cumulativeWork'), cumulativeReward: big(p, 'cumulativeReward'), proof: proofOf(p) },
    signature: text(p, 'signature'),
  };
}

export function voteLane(ctx: RelayContext): Lane {
  const governor = ctx.reads.governor;
  return {
    kind: 'vote',
    maxBatch: MAX_VOTES_PER_BATCH,
    iface: governor.interface,
    doneIsExact: true,
    async check(record) {
      await governor.getFunction('castVoteBySig').staticCall(ballotOf(record));
    },
    send(records, overrides) {
      return ctx.chain.relayer.governor.getFunction('castVotesBySig')(records.map(ballotOf), overrides);
    },
    async tookEffect(record) {
      return (await governor.getFunction('hasVoted')(big(record.payload, 'proposalId'), text(record.payload, 'voter'))) as boolean;
    },
    results(receipt, records) {
      return skippedIn(receipt, governor, 'VoteCast', 'VoteSkipped', records, (_, reason) => `already done: ${reason} (the vote was counted by another transaction first)`);
    },
  };
}
