// Turns the shares of one epoch and the previous epoch's leaves into the next cumulative tree.
// Pure: the settlement reads the inputs and stores the result in one transaction.
import { getAddress } from 'ethers';
import { buildRewardTree, splitEpochReward } from '../../protocol/dao/index.js';
import type { BuiltEpoch, CloseInput, LeafRecord } from './settlement-store.js';

export type { BuiltEpoch } from './settlement-store.js';

export interface EpochInput extends CloseInput {
  /** The whole epoch reward in token base units (members' part + reinvested). */
  reward: bigint;
  reinvestmentBps: number;
  endMs: number;
}

/**
 * Builds epoch `input.epoch`, or returns undefined when it would add no work: no new shares, or
 * shares whose work rounds to zero expected hashes (those stay pending and count in a later epoch:
 * nothing is stored, so with SQLite the next epoch starts after the previous epoch's last share,
 * and with PostgreSQL the shares keep no epoch).
 */
export function buildEpoch(input: EpochInput): BuiltEpoch | undefined {
  const { pending } = input;
  if (pending.shares === 0) return undefined;

  // Work on-chain is whole expected hashes. Rounded per member and epoch: the REAL sum, so a member
  // with many small shares is not shortchanged by rounding each share.
  const epochWork = new Map<string, bigint>();
  for (const [member, work] of pending.workByMember) {
    const account = getAddress(member);
    const rounded = BigInt(Math.round(work));
    epochWork.set(account, (epochWork.get(account) ?? 0n) + rounded);
  }
  let totalEpochWork = 0n;
  for (const work of epochWork.values()) totalEpochWork += work;
  if (totalEpochWork === 0n) return undefined;

  const split = splitEpochReward(new Map([...epochWork].filter(([, work]) => work > 0n)), input.reward, input.reinvestmentBps);

  // Every member who ever had a leaf stays in every later tree: a newer root must settle all that
  // is owed so far, since a claim against it pays cumulativeReward minus what was already claimed.
  const previous = new Map(input.previous.map((leaf) => [getAddress(leaf.member), leaf]));
  const accounts = new Set([...previous.keys(), ...epochWork.keys()]);
  const leaves: LeafRecord[] = [];
  for (const account of accounts) {
    const before = previous.get(account);
    const work = epochWork.get(account) ?? 0n;
    const reward = split.byMember.get(account) ?? 0n;
    const cumulativeWork = (before?.cumulativeWork ?? 0n) + work;
    const cumulativeReward = (before?.cumulativeReward ?? 0n) + reward;
    // A newcomer whose work rounded to nothing gets no leaf: it would weigh nothing and pay nothing.
    if (cumulativeWork === 0n && cumulativeReward === 0n) continue;
    leaves.push({ epoch: input.epoch, member: account, epochWork: work, epochReward: reward, cumulativeWork, cumulativeReward, proof: [] });
  }

  const tree = buildRewardTree(leaves.map(({ member, cumulativeWork, cumulativeReward }) => ({ account: member, cumulativeWork, cumulativeReward })));
  for (const leaf of leaves) leaf.proof = tree.proofs.get(leaf.member)!.proof;
  leaves.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));

  const firstShareAtMs = pending.firstShareAtMs ?? input.endMs;
  const startMs = Math.min(input.previousEndMs ?? firstShareAtMs, input.endMs);
  return {
    record: {
      epoch: input.epoch,
      startMs,
      endMs: input.endMs,
      firstShareId: pending.shareIds?.afterShareId ?? null,
      lastShareId: pending.shareIds?.maxShareId ?? null,
      epochWork: totalEpochWork,
      totalWork: tree.totalWork,
      reward: split.members,
      reinvested: split.reinvested,
      reinvestmentBps: input.reinvestmentBps,
      root: tree.root,
      createdAtMs: input.endMs,
    },
    leaves,
  };
}
