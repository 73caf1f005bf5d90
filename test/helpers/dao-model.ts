// What the DAO contracts should do, kept in plain TypeScript for the invariant fuzz test: each
// action asks the model for the expected outcome (a payment, a count, or the exact custom error),
// the chain must agree, and only then is the model updated. Proof validity is recomputed with
// OpenZeppelin's StandardMerkleTree.verify, not taken from how the test built a claim.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { ZeroHash } from 'ethers';
import type { WorkTree } from './chain.js';

export type Expected = { ok: true } | { ok: false; error: string; args: unknown[] };
export const OK: Expected = { ok: true };
const fail = (error: string, ...args: unknown[]): Expected => ({ ok: false, error, args });

const LEAF_ENCODING = ['address', 'uint256', 'uint256'];
const BPS = 10_000n;

export interface Cumulative {
  work: bigint;
  reward: bigint;
}

export interface PublishedEpoch {
  epoch: number;
  tree: WorkTree;
  reward: bigint;
  reinvested: bigint;
}

export interface ClaimInput {
  account: string;
  epoch: number;
  cumulativeWork: bigint;
  cumulativeReward: bigint;
  proof: string[];
}

export interface Payment {
  account: string;
  epoch: number;
  amount: bigint;
  cumulativeReward: bigint;
}

const key = (account: string): string => account.toLowerCase();

export class DistributorModel {
  latestEpoch = 0;
  readonly epochs = new Map<number, PublishedEpoch>();
  /** Each member's leaf in the latest root: totals only grow. */
  readonly cumulative = new Map<string, Cumulative>();
  readonly claimed = new Map<string, bigint>();
  /** The epoch of the leaf each account last claimed with. */
  readonly lastClaimEpoch = new Map<string, number>();
  funded = 0n;
  reinvested = 0n;
  paid = 0n;

  expectPublish(epoch: number, root: string): Expected {
    if (root === ZeroHash) return fail('EmptyRoot');
    if (this.epochs.has(epoch)) return fail('EpochAlreadyPublished', epoch);
    if (epoch <= this.latestEpoch) return fail('EpochOutOfOrder', epoch, this.latestEpoch);
    return OK;
  }

  applyPublish(published: PublishedEpoch, leaves: Map<string, Cumulative>): void {
    this.epochs.set(published.epoch, published);
    this.latestEpoch = published.epoch;
    this.funded += published.reward;
    this.reinvested += published.reinvested;
    for (const [account, values] of leaves) this.cumulative.set(key(account), values);
  }

  claimedBy(account: string): bigint {
    return this.claimed.get(key(account)) ?? 0n;
  }

  /** The leaf's values in `epoch`, or undefined when the account has none there. */
  leafIn(epoch: number, account: string): Cumulative | undefined {
    const published = this.epochs.get(epoch);
    if (!published) return undefined;
    for (const [, [address, work, reward]] of published.tree.tree.entries()) {
      if (key(address) === key(account)) return { work, reward };
    }
    return undefined;
  }

  leafIsValid(epoch: number, account: string, work: bigint, reward: bigint, proof: string[]): boolean {
    const published = this.epochs.get(epoch);
    return published !== undefined && StandardMerkleTree.verify(published.tree.root, LEAF_ENCODING, [account, work, reward], proof);
  }

  /**
   * Claims in order as one transaction: the payments, or the error of the first claim that fails,
   * which reverts the whole batch. In a claimMany (`batch`) a claim already done is skipped (with
   * its ClaimSkipped arguments in `skips`) instead; a lone claim reverts with NothingToClaim.
   */
  simulateClaims(claims: readonly ClaimInput[], batch = false): { expected: Expected; payments: Payment[]; skips: unknown[][] } {
    const claimed = new Map(this.claimed);
    const payments: Payment[] = [];
    const skips: unknown[][] = [];
    for (const c of claims) {
      if (!this.epochs.has(c.epoch)) return { expected: fail('UnknownEpoch', c.epoch), payments: [], skips: [] };
      if (!this.leafIsValid(c.epoch, c.account, c.cumulativeWork, c.cumulativeReward, c.proof)) {
        return { expected: fail('InvalidProof', c.account, c.epoch), payments: [], skips: [] };
      }
      const already = claimed.get(key(c.account)) ?? 0n;
      if (c.cumulativeReward <= already && batch) {
        skips.push([c.account, c.epoch, 'NothingToClaim', c.cumulativeReward, already]);
        continue;
      }
      if (c.cumulativeReward <= already) return { expected: fail('NothingToClaim', c.account, c.cumulativeReward, already), payments: [], skips: [] };
      claimed.set(key(c.account), c.cumulativeReward);
      payments.push({ account: c.account, epoch: c.epoch, amount: c.cumulativeReward - already, cumulativeReward: c.cumulativeReward });
    }
    return { expected: OK, payments, skips };
  }

  applyPayments(payments: readonly Payment[]): void {
    for (const p of payments) {
      this.claimed.set(key(p.account), p.cumulativeReward);
      this.lastClaimEpoch.set(key(p.account), p.epoch);
      this.paid += p.amount;
    }
  }

  /** Everything the latest root owes its members: the sum of their cumulativeReward. */
  publishedToMembers(): bigint {
    let sum = 0n;
    for (const values of this.cumulative.values()) sum += values.reward;
    return sum;
  }
}

// ---------------------------------------------------------------- governance

export const STATE = { Active: 0, Defeated: 1, Succeeded: 2, Executed: 3, Expired: 4, Superseded: 5 } as const;
/** Seconds around voteEnd where a call's block time is too close to call Active or closed. */
export const TIME_MARGIN_SECONDS = 60n;

export interface ProposalModel {
  id: bigint;
  kind: number;
  epoch: number;
  parameter: string;
  value: bigint;
  voteEnd: bigint;
  quorumWork: bigint;
  /** Each voter's support and proven weight; one entry per voter by construction. */
  votes: Map<string, { support: number; weight: bigint }>;
  executed: boolean;
}

export interface ProposalRequest {
  kind: number;
  epoch: number;
  parameter: string;
  value: bigint;
  description: string;
}

export class GovernorModel {
  readonly proposals: ProposalModel[] = [];
  readonly nonces = new Map<string, bigint>();
  readonly parameters = new Map<string, bigint>();
  readonly parameterMax = new Map<string, bigint>();
  /** The id of the last proposal applied to each parameter (WorkGovernor.lastApplied). */
  readonly lastApplied = new Map<string, bigint>();

  constructor(
    readonly roots: DistributorModel,
    readonly quorumBps: bigint,
    readonly votingPeriodSeconds: bigint,
    reinvestment: { parameter: string; value: bigint },
    readonly executionWindowSeconds: bigint,
  ) {
    this.parameters.set(reinvestment.parameter, reinvestment.value);
    this.parameterMax.set(reinvestment.parameter, BPS);
  }

  nonceOf(account: string): bigint {
    return this.nonces.get(key(account)) ?? 0n;
  }

  /** The weight `leaf` proves for `account` in `epoch`, or undefined when it proves none. */
  weightOf(epoch: number, account: string, leaf: { cumulativeWork: bigint; cumulativeReward: bigint; proof: string[] }): bigint | undefined {
    if (leaf.cumulativeWork === 0n) return undefined;
    return this.roots.leafIsValid(epoch, account, leaf.cumulativeWork, leaf.cumulativeReward, leaf.proof) ? leaf.cumulativeWork : undefined;
  }

  expectPropose(proposer: string, request: ProposalRequest, leaf: Parameters<GovernorModel['weightOf']>[2]): Expected {
    // Only the latest published epoch: the proposer cannot choose an older electorate.
    if (request.epoch !== this.roots.latestEpoch) return fail('EpochNotLatest', request.epoch, this.roots.latestEpoch);
    if (!this.roots.epochs.has(request.epoch)) return fail('UnknownEpoch', request.epoch);
    if (request.kind === 1) {
      const max = this.parameterMax.get(request.parameter) ?? 0n;
      if (max === 0n) return fail('UnknownParameter', request.parameter);
      if (request.value > max) return fail('ParameterOutOfRange', request.parameter, request.value, max);
    } else if (request.parameter !== ZeroHash || request.value !== 0n) {
      return fail('SignalWithParameter');
    }
    if (this.weightOf(request.epoch, proposer, leaf) === undefined) return fail('NotAMember', proposer, request.epoch);
    return OK;
  }

  /** Adds the proposal a successful propose opened in a block at `timestamp`. */
  applyPropose(request: ProposalRequest, timestamp: bigint): ProposalModel {
    const totalWork = this.roots.epochs.get(request.epoch)!.tree.totalWork;
    const proposal: ProposalModel = {
      id: BigInt(this.proposals.length + 1),
      kind: request.kind,
      epoch: request.epoch,
      parameter: request.parameter,
      value: request.value,
      voteEnd: timestamp + this.votingPeriodSeconds,
      quorumWork: (totalWork * this.quorumBps + BPS - 1n) / BPS,
      votes: new Map(),
      executed: false,
    };
    this.proposals.push(proposal);
    return proposal;
  }

  /** 'unsure' within TIME_MARGIN_SECONDS before voteEnd, where the next block may fall either side. */
  phase(p: ProposalModel, now: bigint): 'open' | 'closed' | 'unsure' {
    if (now > p.voteEnd) return 'closed';
    return now + TIME_MARGIN_SECONDS <= p.voteEnd ? 'open' : 'unsure';
  }

  tally(p: ProposalModel): { forWork: bigint; againstWork: bigint; abstainWork: bigint } {
    const sums = [0n, 0n, 0n];
    for (const { support, weight } of p.votes.values()) sums[support]! += weight;
    return { againstWork: sums[0]!, forWork: sums[1]!, abstainWork: sums[2]! };
  }

  /** The state at block time `now`, or undefined when `now` is too close to voteEnd (or to the execution deadline) to say. */
  stateAt(p: ProposalModel, now: bigint): number | undefined {
    if (p.executed) return STATE.Executed;
    const phase = this.phase(p, now);
    if (phase === 'unsure') return undefined;
    if (phase === 'open') return STATE.Active;
    const { forWork, againstWork, abstainWork } = this.tally(p);
    if (forWork + againstWork + abstainWork < p.quorumWork || forWork <= againstWork) return STATE.Defeated;
    if (p.kind === 1 && (this.lastApplied.get(key(p.parameter)) ?? 0n) > p.id) return STATE.Superseded;
    const deadline = p.voteEnd + this.executionWindowSeconds;
    if (now > deadline) return STATE.Expired;
    return now + TIME_MARGIN_SECONDS <= deadline ? STATE.Succeeded : undefined;
  }

  /** A vote's outcome given the voters already counted in this transaction (`votedNow`). */
  expectVote(p: ProposalModel, voter: string, weight: bigint | undefined, now: bigint, votedNow: Set<string>): Expected {
    if (this.phase(p, now) === 'closed') return fail('VotingClosed', p.id, p.voteEnd);
    if (p.votes.has(key(voter)) || votedNow.has(`${p.id}:${key(voter)}`)) return fail('AlreadyVoted', p.id, voter);
    if (weight === undefined) return fail('NotAMember', voter, p.epoch);
    return OK;
  }

  applyVote(p: ProposalModel, voter: string, support: number, weight: bigint): void {
    if (p.votes.has(key(voter))) throw new Error(`model: ${voter} voted twice on ${p.id}`);
    p.votes.set(key(voter), { support, weight });
  }

  expectExecute(p: ProposalModel, now: bigint): Expected | undefined {
    const state = this.stateAt(p, now);
    if (state === undefined) return undefined;
    if (state === STATE.Succeeded) return OK;
    if (state === STATE.Superseded) return fail('ProposalSuperseded', p.id, this.lastApplied.get(key(p.parameter))!);
    if (state === STATE.Expired) return fail('ProposalExpired', p.id, p.voteEnd + this.executionWindowSeconds);
    return fail('ProposalNotSucceeded', p.id, state);
  }

  applyExecute(p: ProposalModel): void {
    p.executed = true;
    if (p.kind !== 1) return;
    this.parameters.set(p.parameter, p.value);
    this.lastApplied.set(key(p.parameter), p.id);
  }

  useNonce(account: string): void {
    this.nonces.set(key(account), this.nonceOf(account) + 1n);
  }
}
