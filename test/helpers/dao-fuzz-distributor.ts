// The RewardDistributor's fuzz actions: publish roots whose cumulative leaves only grow, claims
// direct or batched by members and relayers, with invalid proofs, replays and claims of nothing
// mixed in. Each asks the model first, then checks the chain agrees (payments and events, or the
// exact revert).
import assert from 'node:assert/strict';
import { ZeroHash, type ContractTransactionResponse, type Wallet } from 'ethers';
import { comparable, eventsOf, expectRevert, mined, workTree, type LeafValue } from './chain.js';
import type { ClaimInput, Cumulative, Expected, Payment } from './dao-model.js';
import type { FuzzContext } from './dao-fuzz-context.js';

/** Publishes the next root (epochs may skip), or tries an invalid publication. */
export async function publishAction(ctx: FuzzContext): Promise<void> {
  const { rng, dist } = ctx;
  if (dist.latestEpoch > 0 && rng.chance(0.15)) return invalidPublish(ctx);

  const epoch = dist.latestEpoch + rng.range(1, 3);
  const leaves = new Map<string, Cumulative>();
  let reward = 0n;
  for (const member of ctx.members) {
    const current = dist.cumulative.get(member.address.toLowerCase()) ?? { work: 0n, reward: 0n };
    const next = { ...current };
    if (rng.chance(0.6)) {
      // Work and reward grow independently: a leaf may carry reward but no work (it can claim, not vote).
      next.work += BigInt(rng.range(0, 1000));
      const increment = BigInt(rng.range(0, 1_000_000)) * 10n ** 12n;
      next.reward += increment;
      reward += increment;
    }
    if (next.work > 0n || next.reward > 0n) leaves.set(member.address, next);
  }
  if (leaves.size === 0) {
    leaves.set(ctx.members[0]!.address, { work: 1n, reward: 0n });
  }
  const values: LeafValue[] = [...leaves].map(([account, { work, reward: r }]) => [account, work, r]);
  const tree = workTree(values);
  const reinvested = rng.chance(0.5) ? BigInt(rng.range(0, 100_000)) * 10n ** 12n : 0n;
  assert.deepEqual(dist.expectPublish(epoch, tree.root), { ok: true });
  ctx.trace.push(`publish epoch ${epoch}: ${leaves.size} leaves, reward ${reward}, reinvested ${reinvested} expecting success`);
  const receipt = await mined(ctx.c.distributor.publishRoot(epoch, tree.root, tree.totalWork, reward, reinvested, tree.root));
  assert.deepEqual(
    eventsOf(receipt, ctx.c.distributor, 'RootPublished').map(comparable),
    [[epoch, tree.root, tree.totalWork, reward, reinvested, tree.root]].map(comparable),
  );
  dist.applyPublish({ epoch, tree, reward, reinvested }, leaves);
}

async function invalidPublish(ctx: FuzzContext): Promise<void> {
  const { rng, dist } = ctx;
  const root = workTree([[ctx.members[0]!.address, 1n, 1n]]).root;
  const variant = rng.int(3);
  if (variant === 0) {
    ctx.trace.push(`publish by non-publisher ${ctx.outsider.address} expecting AccessControlUnauthorizedAccount`);
    const role = await ctx.c.distributor.PUBLISHER_ROLE();
    await expectRevert(ctx.as(ctx.c.distributor, ctx.outsider).publishRoot(dist.latestEpoch + 1, root, 1, 0, 0, ZeroHash), 'AccessControlUnauthorizedAccount', [ctx.outsider.address, role]);
    return;
  }
  // An old or repeated epoch, or an empty root for the next one.
  const epoch = variant === 1 ? rng.range(0, dist.latestEpoch) : dist.latestEpoch + 1;
  const posted = variant === 1 ? root : ZeroHash;
  const expected = dist.expectPublish(epoch, posted);
  assert.equal(expected.ok, false, 'an invalid publication was generated');
  ctx.trace.push(`publish epoch ${epoch} with ${posted === ZeroHash ? 'an empty root' : 'a root'} expecting ${expected.ok ? 'success' : expected.error}`);
  if (!expected.ok) await expectRevert(ctx.c.distributor.publishRoot(epoch, posted, 1, 0, 0, ZeroHash), expected.error, expected.args);
}

/**
 * A claim with a holder's own leaf in a published epoch (usually), or a broken one. `owedOnly`
 * picks the latest epoch and, where there is one, a holder it still owes something.
 */
function buildClaim(ctx: FuzzContext, owedOnly = false): ClaimInput {
  const { rng, dist } = ctx;
  const epochs = [...dist.epochs.keys()];
  const epoch = owedOnly || rng.chance(0.7) ? dist.latestEpoch : rng.pick(epochs);
  const tree = dist.epochs.get(epoch)!.tree;
  const holders = [...tree.tree.entries()].map(([, [address]]) => address);
  const owed = holders.filter((h) => tree.leaf(h).cumulativeReward > dist.claimedBy(h));
  const account = rng.pick(owedOnly && owed.length > 0 ? owed : holders);
  const leaf = tree.leaf(account);
  const honest: ClaimInput = { account, epoch, cumulativeWork: leaf.cumulativeWork, cumulativeReward: leaf.cumulativeReward, proof: leaf.proof };
  if (!rng.chance(0.2)) return honest;
  switch (rng.int(5)) {
    case 0:
      return { ...honest, cumulativeReward: honest.cumulativeReward + BigInt(rng.range(1, 10 ** 6)) };
    case 1:
      return { ...honest, cumulativeWork: honest.cumulativeWork + 1n };
    case 2:
      return { ...honest, proof: tree.leaf(rng.pick(holders)).proof };
    case 3:
      return { ...honest, account: ctx.outsider.address };
    default:
      // Any epoch number: a skipped or future one (UnknownEpoch) or another published one.
      return { ...honest, epoch: rng.range(0, dist.latestEpoch + 3) };
  }
}

const describeClaim = (c: ClaimInput): string => `${c.account.slice(0, 8)}@${c.epoch}=${c.cumulativeReward}`;

/** One claim, sent by the member itself, a relayer or a stranger. */
export async function claimAction(ctx: FuzzContext): Promise<void> {
  const claim = buildClaim(ctx);
  const sender = ctx.rng.pick<Wallet>([ctx.memberWallet(claim.account) ?? ctx.relayer, ctx.relayer, ctx.outsider]);
  const { expected, payments } = ctx.dist.simulateClaims([claim]);
  ctx.trace.push(`claim ${describeClaim(claim)} by ${sender.address.slice(0, 8)} expecting ${expected.ok ? `pay ${payments[0]!.amount}` : expected.error}`);
  const send = () => ctx.as(ctx.c.distributor, sender).claim(claim.account, claim.epoch, claim.cumulativeWork, claim.cumulativeReward, claim.proof);
  await settle(ctx, send, expected, payments, sender.address);
}

/**
 * A relayer's batch of 1 to 4 claims, usually of the accounts still owed something, which may
 * repeat an account (the repeat is skipped as already done) or include a bad claim (reverts all).
 */
export async function claimManyAction(ctx: FuzzContext): Promise<void> {
  const claims = Array.from({ length: ctx.rng.range(1, 4) }, () => buildClaim(ctx, ctx.rng.chance(0.8)));
  const { expected, payments, skips } = ctx.dist.simulateClaims(claims, true);
  ctx.trace.push(`claimMany [${claims.map(describeClaim).join(', ')}] expecting ${expected.ok ? `${payments.length} payments, ${skips.length} skipped` : expected.error}`);
  const send = () => ctx.as(ctx.c.distributor, ctx.relayer).claimMany(claims);
  await settle(ctx, send, expected, payments, ctx.relayer.address, skips);
}

async function settle(
  ctx: FuzzContext,
  send: () => Promise<ContractTransactionResponse>,
  expected: Expected,
  payments: Payment[],
  submitter: string,
  skips: unknown[][] = [],
): Promise<void> {
  if (!expected.ok) {
    await expectRevert(send(), expected.error, expected.args);
    return;
  }
  const receipt = await mined(send());
  assert.deepEqual(
    eventsOf(receipt, ctx.c.distributor, 'Claimed').map(comparable),
    payments.map((p) => [p.account, p.epoch, p.amount, p.cumulativeReward, submitter]).map(comparable),
    'Claimed events',
  );
  // The reason travels as the selector of the error a lone claim would revert with.
  const reason = (name: unknown) => ctx.c.distributor.interface.getError(String(name))!.selector;
  assert.deepEqual(eventsOf(receipt, ctx.c.distributor, 'ClaimSkipped').map(comparable), skips.map(([a, e, r, c, k]) => [a, e, reason(r), c, k]).map(comparable), 'ClaimSkipped events');
  ctx.dist.applyPayments(payments);
}
