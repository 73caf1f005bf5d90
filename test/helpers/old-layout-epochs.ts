// Two epochs as the ledgers stored them before compact trees (migration step 3 of SQLite, step 2 of
// the settlement's PostgreSQL component): every member's row in epoch_leaves with its JSON proof.
// The migration tests of both ledgers write these rows and expect the same proofs afterwards.
import { buildRewardTree, type RewardLeaf, type RewardTree } from '../../protocol/dao/index.js';

export interface OldLayout {
  /** Each epoch's cumulative leaves: a works in epoch 2, b and c do not. */
  epochs: RewardLeaf[][];
  trees: RewardTree[];
  /** The old epoch_leaves rows of epoch `i + 1`: epoch, member, epoch_work, epoch_reward, cumulative_work, cumulative_reward, proof. */
  rows(i: number): [number, string, string, string, string, string, string][];
}

export function oldLayout(a: string, b: string, c: string): OldLayout {
  const epochs: RewardLeaf[][] = [
    [
      { account: a, cumulativeWork: 100n, cumulativeReward: 10n },
      { account: b, cumulativeWork: 300n, cumulativeReward: 30n },
      { account: c, cumulativeWork: 50n, cumulativeReward: 5n },
    ],
    [
      { account: a, cumulativeWork: 180n, cumulativeReward: 70n },
      { account: b, cumulativeWork: 300n, cumulativeReward: 30n },
      { account: c, cumulativeWork: 50n, cumulativeReward: 5n },
    ],
  ];
  const trees = epochs.map((leaves) => buildRewardTree(leaves));
  const rows = (i: number) =>
    epochs[i]!.map((leaf): [number, string, string, string, string, string, string] => {
      const before = epochs[i - 1]?.find((l) => l.account === leaf.account);
      return [
        i + 1,
        leaf.account,
        String(leaf.cumulativeWork - (before?.cumulativeWork ?? 0n)),
        String(leaf.cumulativeReward - (before?.cumulativeReward ?? 0n)),
        String(leaf.cumulativeWork),
        String(leaf.cumulativeReward),
        JSON.stringify(trees[i]!.proofs.get(leaf.account)!.proof),
      ];
    });
  return { epochs, trees, rows };
}
