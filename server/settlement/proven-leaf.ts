// A member's leaf with its proof, as both stores answer it: the cumulative amounts and the proof
// from the epoch's tree (epoch-trees.ts), what this epoch added from the epoch's changed-leaf row
// (none: the member did no work this epoch, so it added nothing).
import type { EpochTrees } from './epoch-trees.js';
import type { ProvenLeaf } from './settlement-store.js';

export async function provenLeaf(
  trees: EpochTrees,
  epoch: { epoch: number; root: string },
  member: string,
  changedIn: (epoch: number, account: string) => Promise<{ epochWork: bigint; epochReward: bigint } | undefined>,
): Promise<ProvenLeaf | undefined> {
  const found = await trees.proof(epoch.epoch, epoch.root, member);
  if (!found) return undefined;
  const changed = await changedIn(epoch.epoch, found.leaf.account);
  return {
    epoch: epoch.epoch,
    member: found.leaf.account,
    epochWork: changed?.epochWork ?? 0n,
    epochReward: changed?.epochReward ?? 0n,
    cumulativeWork: found.leaf.cumulativeWork,
    cumulativeReward: found.leaf.cumulativeReward,
    proof: found.proof,
  };
}
