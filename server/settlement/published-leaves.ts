// The settlement's leaves as the relayer reads them (server/relayer/leaves.ts): a leaf and its
// proof from the epoch's tree, only for a published epoch (a leaf is worth relaying only once the
// chain holds its root).
import type { PublishedLeaves } from '../relayer/leaves.js';
import type { SettlementStorage } from './settlement-store.js';

export function publishedLeavesOf(store: SettlementStorage): PublishedLeaves {
  return {
    async publishedLeaf(epoch, member) {
      const n = Number(epoch);
      if (!Number.isSafeInteger(n) || n < 1) return undefined;
      if ((await store.epoch(n))?.status !== 'published') return undefined;
      const leaf = await store.leaf(n, member);
      return leaf && { epoch: BigInt(n), account: leaf.member, cumulativeWork: leaf.cumulativeWork, cumulativeReward: leaf.cumulativeReward, proof: leaf.proof };
    },
  };
}
