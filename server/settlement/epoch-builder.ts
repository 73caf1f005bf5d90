// Turns the shares of one epoch and the previous epoch's compact leaves into the next cumulative
// tree. The merge and the hashing run in the tree worker (tree-thread.ts), off the event loop.
import type { BuiltEpoch, CloseInput } from './settlement-store.js';
import { treeThread } from './tree-thread.js';

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
 * and with PostgreSQL the shares keep no epoch). Every member who ever had a leaf stays in every
 * later tree: a newer root must settle all that is owed so far, since a claim against it pays
 * cumulativeReward minus what was already claimed. Transfers `input.previous` to the worker.
 */
export async function buildEpoch(input: EpochInput): Promise<BuiltEpoch | undefined> {
  const { pending } = input;
  if (pending.shares === 0) return undefined;
  const closed = await treeThread.close({
    previous: input.previous,
    members: [...pending.workByMember.keys()],
    work: Float64Array.from(pending.workByMember.values()),
    reward: input.reward,
    reinvestmentBps: input.reinvestmentBps,
  });
  if (!closed) return undefined;

  const firstShareAtMs = pending.firstShareAtMs ?? input.endMs;
  const startMs = Math.min(input.previousEndMs ?? firstShareAtMs, input.endMs);
  return {
    record: {
      epoch: input.epoch,
      startMs,
      endMs: input.endMs,
      firstShareId: pending.shareIds?.afterShareId ?? null,
      lastShareId: pending.shareIds?.maxShareId ?? null,
      epochWork: closed.epochWork,
      totalWork: closed.totalWork,
      reward: closed.reward,
      reinvested: closed.reinvested,
      reinvestmentBps: input.reinvestmentBps,
      root: closed.root,
      createdAtMs: input.endMs,
    },
    tree: { leaves: closed.leaves, nodes: closed.nodes, root: closed.root, leafCount: closed.leafCount },
    changed: closed.changed,
    buildMs: closed.buildMs,
  };
}
