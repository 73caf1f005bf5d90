// Invariant fuzzing of the DAO contracts on a real anvil chain: a seeded random sequence of
// publishes, claims (direct and batched, with bad proofs, replays and claims of nothing), proposals,
// votes (direct, signed, batched, doubled), executes and time warps. Every action is checked
// against a model kept here, and after every step the chain's state is checked against the model
// and against invariants that hold whatever the sequence:
//   - total claimed never exceeds what the latest root owes its members, and equals what left the
//     distributor: its balance is funded minus claimed; the treasury holds every reinvested share;
//   - an account's claimed total never decreases, equals the cumulativeReward of the leaf it last
//     claimed with, and is exactly what its token balance gained;
//   - an account votes at most once per proposal, and each tally is the sum of its voters' proven
//     weights; an executed ParameterChange sets exactly the passed value.
// FUZZ_SEED replays a run (the seed is printed, and named in any failure); FUZZ_STEPS sets its length.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonRpcProvider, type Contract, type Wallet } from 'ethers';
import { REINVESTMENT_BPS_PARAMETER } from '../protocol/dao/index.js';
import { connectDao } from '../server/chain/deploy.js';
import { startTestChain, type TestChain } from './helpers/chain.js';
import type { FuzzContext } from './helpers/dao-fuzz-context.js';
import { claimAction, claimManyAction, publishAction } from './helpers/dao-fuzz-distributor.js';
import { executeAction, proposeAction, voteAction, warpAction } from './helpers/dao-fuzz-governor.js';
import { DistributorModel, GovernorModel } from './helpers/dao-model.js';
import { Rng, seedFrom } from './helpers/fuzz-rng.js';

const SEED = seedFrom(process.env.FUZZ_SEED);
const STEPS = Number(process.env.FUZZ_STEPS ?? 300);
if (!Number.isInteger(STEPS) || STEPS < 1) throw new Error(`FUZZ_STEPS must be a positive integer, got "${process.env.FUZZ_STEPS}"`);
/** A step that takes longer has hung: it fails, naming the seed and the trace, instead of stalling the suite. */
const STEP_TIMEOUT_MS = 60_000;
/** Every this many steps (and at the end) all proposals are checked, not only those just touched. */
const FULL_CHECK_EVERY = 20;

const ACTIONS: [weight: number, name: string, run: (ctx: FuzzContext) => Promise<void>][] = [
  [10, 'publish', publishAction],
  [22, 'claim', claimAction],
  [12, 'claimMany', claimManyAction],
  [14, 'propose', proposeAction],
  [26, 'vote', voteAction],
  [9, 'execute', executeAction],
  [7, 'warp', warpAction],
];
const TOTAL_WEIGHT = ACTIONS.reduce((sum, [w]) => sum + w, 0);

function pickAction(rng: Rng): (typeof ACTIONS)[number] {
  let roll = rng.int(TOTAL_WEIGHT);
  for (const action of ACTIONS) {
    roll -= action[0];
    if (roll < 0) return action;
  }
  throw new Error('unreachable');
}

let chain: TestChain;
let batched: JsonRpcProvider;
before(async () => {
  chain = await startTestChain();
  batched = new JsonRpcProvider(chain.anvil.rpcUrl, chain.anvil.chainId, { staticNetwork: true, cacheTimeout: -1, batchStallTime: 0 });
  // Each block is one second after the previous, whatever the wall clock does, so a seed replays
  // the same block times and therefore the same choices.
  await chain.provider.send('anvil_setBlockTimestampInterval', [1]);
});
after(async () => {
  batched?.destroy();
  await chain?.stop();
});

async function newContext(rng: Rng): Promise<FuzzContext> {
  const { deployment: d, contracts: c } = await chain.deploy();
  const [m1, m2, m3, m4, m5, m6, relayer, outsider] = chain.wallets as Wallet[];
  const members = [m1!, m2!, m3!, m4!, m5!, m6!];
  const dist = new DistributorModel();
  const gov = new GovernorModel(dist, await c.governor.quorumBps(), await c.governor.votingPeriod(), {
    parameter: REINVESTMENT_BPS_PARAMETER,
    value: await c.governor.parameters(REINVESTMENT_BPS_PARAMETER),
  }, await c.governor.executionWindow());
  return {
    rng, chain, d, c, reads: connectDao(d, batched), members, relayer: relayer!, outsider: outsider!, dist, gov, trace: [], touched: new Set(),
    memberWallet: (address) => members.find((m) => m.address.toLowerCase() === address.toLowerCase()),
    as: <T extends Contract>(contract: T, wallet: Wallet) => contract.connect(wallet) as T,
    now: async () => BigInt((await chain.provider.getBlock('latest'))!.timestamp),
  };
}

interface Observed {
  treasury: string;
  startBalance: Map<string, bigint>;
  lastClaimed: Map<string, bigint>;
}

async function checkDistributor(ctx: FuzzContext, seen: Observed): Promise<void> {
  const { reads: c, dist } = ctx;
  const accounts = [...ctx.members, ctx.outsider, ctx.relayer].map((w) => w.address);
  const [latestEpoch, distributorBalance, treasuryBalance, claimed, balances] = await Promise.all([
    c.distributor.latestEpoch() as Promise<bigint>,
    c.token.balanceOf(ctx.d.distributor) as Promise<bigint>,
    c.token.balanceOf(seen.treasury) as Promise<bigint>,
    Promise.all(accounts.map((a) => c.distributor.claimed(a) as Promise<bigint>)),
    Promise.all(accounts.map((a) => c.token.balanceOf(a) as Promise<bigint>)),
  ]);
  assert.equal(latestEpoch, BigInt(dist.latestEpoch), 'latestEpoch');
  let totalClaimed = 0n;
  accounts.forEach((account, i) => {
    const onChain = claimed[i]!;
    totalClaimed += onChain;
    assert.equal(onChain, dist.claimedBy(account), `claimed(${account}) matches the model`);
    assert.ok(onChain >= (seen.lastClaimed.get(account) ?? 0n), `claimed(${account}) never decreases`);
    seen.lastClaimed.set(account, onChain);
    const epoch = dist.lastClaimEpoch.get(account.toLowerCase());
    const leafReward = epoch === undefined ? 0n : dist.leafIn(epoch, account)!.reward;
    assert.equal(onChain, leafReward, `claimed(${account}) equals the cumulativeReward of the leaf it last claimed with`);
    assert.equal(balances[i]! - seen.startBalance.get(account)!, onChain, `${account}'s token balance gained exactly what it claimed`);
  });
  assert.equal(totalClaimed, dist.paid, 'the claimed totals add up to what was paid');
  assert.ok(totalClaimed <= dist.publishedToMembers(), `total claimed ${totalClaimed} exceeds total published to members ${dist.publishedToMembers()}`);
  assert.equal(distributorBalance, dist.funded - totalClaimed, "the distributor's balance is funded minus claimed");
  assert.equal(treasuryBalance, dist.reinvested, 'the treasury holds every reinvested share');
}

async function checkGovernor(ctx: FuzzContext, all: boolean): Promise<void> {
  const { reads: c, gov } = ctx;
  const accounts = [...ctx.members, ctx.outsider].map((w) => w.address);
  const [count, reinvestment, nonces, now] = await Promise.all([
    c.governor.proposalCount() as Promise<bigint>,
    c.governor.parameters(REINVESTMENT_BPS_PARAMETER) as Promise<bigint>,
    Promise.all(accounts.map((a) => c.governor.nonces(a) as Promise<bigint>)),
    ctx.now(),
  ]);
  assert.equal(count, BigInt(gov.proposals.length), 'proposalCount');
  assert.equal(reinvestment, gov.parameters.get(REINVESTMENT_BPS_PARAMETER), 'the parameter equals the last executed change');
  accounts.forEach((a, i) => assert.equal(nonces[i], gov.nonceOf(a), `nonce of ${a}`));

  const proposals = all ? gov.proposals : gov.proposals.filter((p) => ctx.touched.has(p.id));
  await Promise.all(
    proposals.map(async (p) => {
      const [onChain, state, voted] = await Promise.all([
        c.governor.getProposal(p.id),
        c.governor.state(p.id) as Promise<bigint>,
        Promise.all(accounts.map((a) => c.governor.hasVoted(p.id, a) as Promise<boolean>)),
      ]);
      const tally = gov.tally(p);
      assert.deepEqual(
        [onChain.forWork, onChain.againstWork, onChain.abstainWork],
        [tally.forWork, tally.againstWork, tally.abstainWork],
        `proposal ${p.id}: the tally is the sum of its voters' proven weights`,
      );
      assert.deepEqual([onChain.voteEnd, onChain.quorumWork, onChain.executed], [p.voteEnd, p.quorumWork, p.executed], `proposal ${p.id}`);
      accounts.forEach((a, i) => assert.equal(voted[i], p.votes.has(a.toLowerCase()), `hasVoted(${p.id}, ${a})`));
      const expected = gov.stateAt(p, now);
      if (expected !== undefined) assert.equal(state, BigInt(expected), `state of proposal ${p.id}`);
    }),
  );
}

async function withTimeout(ms: number, body: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`step still running after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([body(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

test(`random DAO action sequences keep the contracts' invariants (${STEPS} steps)`, async (t) => {
  t.diagnostic(`FUZZ_SEED=${SEED} FUZZ_STEPS=${STEPS} replays this run`);
  const rng = new Rng(SEED);
  const ctx = await newContext(rng);
  const accounts = [...ctx.members, ctx.outsider, ctx.relayer].map((w) => w.address);
  const seen: Observed = {
    treasury: await ctx.c.distributor.treasury(),
    startBalance: new Map(await Promise.all(accounts.map(async (a) => [a, (await ctx.c.token.balanceOf(a)) as bigint] as const))),
    lastClaimed: new Map(),
  };
  for (let step = 0; step < STEPS; step++) {
    const [, name, run] = ctx.dist.latestEpoch === 0 ? ACTIONS[0]! : pickAction(rng);
    ctx.touched.clear();
    try {
      await withTimeout(STEP_TIMEOUT_MS, async () => {
        await run(ctx);
        await checkDistributor(ctx, seen);
        await checkGovernor(ctx, step % FULL_CHECK_EVERY === 0 || step === STEPS - 1);
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const recent = ctx.trace.slice(-20).map((line, i, lines) => `  ${ctx.trace.length - lines.length + i}: ${line}`);
      throw new Error(`FUZZ_SEED=${SEED} failed at step ${step} (${name}): ${message}\nlast actions:\n${recent.join('\n')}`, { cause: err });
    }
  }
  // How often each action was expected to succeed or to revert (and with which error): a run that
  // only ever reverts would check little.
  const outcomes = new Map<string, number>();
  for (const line of ctx.trace) {
    const outcome = `${line.split(' ')[0]} ${line.includes(' expecting ') ? line.split(' expecting ')[1]!.replace(/^pay .*|^\d+ payments/, 'paid') : 'done'}`;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  t.diagnostic(`outcomes: ${[...outcomes].sort().map(([o, k]) => `${o} ×${k}`).join(', ')}`);
  t.diagnostic(`${ctx.gov.proposals.length} proposals (${ctx.gov.proposals.filter((p) => p.executed).length} executed), ${ctx.dist.latestEpoch} epochs, paid ${ctx.dist.paid}`);
});
