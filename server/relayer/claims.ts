// Signed claim requests: the relayer pays the gas of a member's reward claim (claimMany in
// batches). A claim pays the leaf's account whoever submits it; the signature and its short
// deadline only keep strangers from spending the relayer's gas on claims nobody asked for.
import type { AcceptedClaim } from '../../protocol/api.js';
import { HttpError } from '../http/respond.js';
import { CLAIM_REQUEST_TYPES, relayDomain } from '../../protocol/dao/typed-data.js';
import { chainRead } from './chain-errors.js';
import { requireLatestFinal } from './final-epoch.js';
import { addressField, hexField, integerField, onlyFields, type Body } from './input.js';
import { big, enqueueOrConflict, proofOf, skippedIn, text, type Lane, type RelayContext } from './lane.js';
import type { RelayRecord } from './request-store.js';
import { checkTypedSignature } from './signature.js';

/** The API's answer (protocol/api.ts), named here for the relayer that returns it. */
export type { AcceptedClaim };

/** Claims per claimMany: each is a proof check and a token transfer, roughly 50-70k gas. */
export const MAX_CLAIMS_PER_BATCH = 50;
/** A request signed for further ahead than this is refused: a deadline is meant to be short. */
export const MAX_CLAIM_DEADLINE_AHEAD_SECONDS = 24 * 3600;

export function claimKey(account: string, epoch: bigint): string {
  return `claim:${account.toLowerCase()}:${epoch}`;
}

/**
 * Checks a signed `{ account, epoch, deadline, signature }` (epoch: the latest final one: published,
 * past its challenge period, not vetoed) and queues a claim of the account's leaf in it: 400 for a
 * malformed, expired or foreign request, 422 when there is nothing to claim or the epoch's root was
 * vetoed, 409 when the root is still in its challenge period, the epoch is not the latest final
 * one, or a claim for the account is already on its way.
 */
export async function acceptClaim(ctx: RelayContext, body: Body, nowSeconds = Math.floor(Date.now() / 1000)): Promise<AcceptedClaim> {
  onlyFields(body, ['account', 'epoch', 'deadline', 'signature']);
  const account = addressField(body, 'account');
  const signedEpoch = integerField(body, 'epoch');
  const deadline = integerField(body, 'deadline');
  const signature = hexField(body, 'signature', 65);
  if (deadline <= BigInt(nowSeconds)) {
    throw new HttpError(400, `claim request expired at ${isoSeconds(deadline)} (deadline ${deadline}); sign a new one`);
  }
  if (deadline > BigInt(nowSeconds + MAX_CLAIM_DEADLINE_AHEAD_SECONDS)) {
    throw new HttpError(400, `claim request deadline ${isoSeconds(deadline)} is more than ${MAX_CLAIM_DEADLINE_AHEAD_SECONDS / 3600} hours ahead; sign one that expires sooner`);
  }
  const { chain } = ctx;
  checkTypedSignature(relayDomain(chain.chainId, chain.deployment.distributor), CLAIM_REQUEST_TYPES, { account, epoch: signedEpoch, deadline }, signature, account, 'claim request');
  ctx.limits.admitMember(account);

  if ((await ctx.store.latestPublishedEpoch()) === undefined) throw new HttpError(422, 'nothing to claim: no epoch has been published yet');
  const epoch = await requireLatestFinal(ctx, signedEpoch, 'claim request');
  const leaf = await ctx.store.publishedLeaf(epoch, account);
  if (!leaf) throw new HttpError(422, `nothing to claim: ${account} has no leaf in the latest final epoch ${epoch}`);
  const claimed = (await chainRead('claimed', () => ctx.reads.distributor.getFunction('claimed')(account))) as bigint;
  if (leaf.cumulativeReward <= claimed) {
    throw new HttpError(422, `nothing to claim: ${account}'s cumulative reward as of epoch ${epoch} is ${leaf.cumulativeReward} and ${claimed} is already claimed`);
  }
  // One claim per account in flight: a second one would pay nothing once the first is mined (in
  // the same batch, claimMany would skip it as already done).
  const pending = (await ctx.store.pendingFor('claim', account))[0];
  if (pending) throw new HttpError(409, `a claim for ${account} is already ${pending.status} (request ${pending.id})`);
  const amount = leaf.cumulativeReward - claimed;
  ctx.limits.checkClaimAmount(account, amount);
  const id = await enqueueOrConflict(
    ctx,
    'claim',
    claimKey(account, epoch),
    account,
    {
      account,
      deadline: deadline.toString(),
      signature,
      epoch: epoch.toString(),
      cumulativeWork: leaf.cumulativeWork.toString(),
      cumulativeReward: leaf.cumulativeReward.toString(),
      proof: leaf.proof,
      amount: amount.toString(),
    },
    `a claim for ${account} in epoch ${epoch}`,
  );
  ctx.limits.accepted(account);
  return { id, status: 'queued', epoch, amount };
}

function isoSeconds(seconds: bigint): string {
  const ms = Number(seconds) * 1000;
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${seconds} s`;
}

/** The RewardDistributor.Claim of a queued request. */
function claimOf(record: RelayRecord) {
  const p = record.payload;
  return {
    account: text(p, 'account'),
    epoch: big(p, 'epoch'),
    cumulativeWork: big(p, 'cumulativeWork'),
    cumulativeReward: big(p, 'cumulativeReward'),
    proof: proofOf(p),
  };
}

export function claimLane(ctx: RelayContext): Lane {
  const distributor = ctx.reads.distributor;
  return {
    kind: 'claim',
    maxBatch: MAX_CLAIMS_PER_BATCH,
    iface: distributor.interface,
    doneIsExact: true,
    async check(record) {
      const c = claimOf(record);
      await distributor.getFunction('claim').staticCall(c.account, c.epoch, c.cumulativeWork, c.cumulativeReward, c.proof);
    },
    send(records, overrides) {
      return ctx.chain.relayer.distributor.getFunction('claimMany')(records.map(claimOf), overrides);
    },
    async tookEffect(record) {
      const c = claimOf(record);
      return ((await distributor.getFunction('claimed')(c.account)) as bigint) >= c.cumulativeReward;
    },
    results(receipt, records) {
      return skippedIn(
        receipt,
        distributor,
        'Claimed',
        'ClaimSkipped',
        records,
        (args, reason) => `already done: ${reason} (${args.getValue('alreadyClaimed')} of cumulative reward ${args.getValue('cumulativeReward')} was claimed by another transaction first)`,
      );
    },
  };
}
