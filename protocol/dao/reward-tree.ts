// The cumulative reward tree of DESIGN.md ("How a share flows", item 5): one leaf per member,
// `(account, cumulativeWork, cumulativeReward)`, hashed exactly as RewardDistributor.sol hashes it.
// OpenZeppelin's StandardMerkleTree does the hashing and the proofs, so the gateway (building),
// the browser (verifying) and the contract (verifying) cannot disagree on the encoding.
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { checksumAddress } from './address.js';

/** Solidity types of a leaf, in order: what `abi.encode(account, cumulativeWork, cumulativeReward)` packs. */
export const REWARD_LEAF_ENCODING = ['address', 'uint256', 'uint256'] as const;

/** Work is in expected hashes (difficulty x 2^32, summed and rounded per epoch); reward in token base units. */
export interface RewardLeaf {
  account: string;
  cumulativeWork: bigint;
  cumulativeReward: bigint;
}

/** A leaf with its proof against one epoch's root. */
export interface RewardProof extends RewardLeaf {
  proof: string[];
}

export interface RewardTree {
  root: string;
  /** By checksummed account. */
  proofs: Map<string, RewardProof>;
  /** The sum of cumulativeWork over the leaves: the epoch's `totalWork` on-chain. */
  totalWork: bigint;
}

type LeafValue = [string, string, string];

function leafValue(leaf: RewardLeaf): LeafValue {
  // Decimal strings rather than bigints: the tree's dump is then plain JSON.
  return [checksumAddress(leaf.account), leaf.cumulativeWork.toString(), leaf.cumulativeReward.toString()];
}

/**
 * Builds the tree of one epoch. Leaves are sorted by account first so the same ledger always gives
 * the same root (a gateway that rebuilds an epoch after a crash must find the root it may already
 * have published). Throws for an empty set, a duplicate account or a negative amount.
 */
export function buildRewardTree(leaves: readonly RewardLeaf[]): RewardTree {
  if (leaves.length === 0) throw new Error('a reward tree needs at least one leaf');
  const values = leaves.map((leaf) => {
    if (leaf.cumulativeWork < 0n || leaf.cumulativeReward < 0n) throw new RangeError(`negative amount in the leaf of ${leaf.account}`);
    return leafValue(leaf);
  });
  values.sort((a, b) => (a[0].toLowerCase() < b[0].toLowerCase() ? -1 : a[0].toLowerCase() > b[0].toLowerCase() ? 1 : 0));
  for (let i = 1; i < values.length; i++) {
    if (values[i]![0] === values[i - 1]![0]) throw new Error(`two leaves for ${values[i]![0]}`);
  }
  const tree = StandardMerkleTree.of(values, [...REWARD_LEAF_ENCODING], { sortLeaves: false });
  const proofs = new Map<string, RewardProof>();
  let totalWork = 0n;
  for (const [index, [account, work, reward]] of tree.entries()) {
    const cumulativeWork = BigInt(work);
    totalWork += cumulativeWork;
    proofs.set(account, { account, cumulativeWork, cumulativeReward: BigInt(reward), proof: tree.getProof(index) });
  }
  return { root: tree.root, proofs, totalWork };
}

/** True when `leaf` with its proof is in the tree with `root`: what the browser checks against the chain. */
export function verifyRewardProof(root: string, leaf: RewardProof): boolean {
  try {
    return StandardMerkleTree.verify(root, [...REWARD_LEAF_ENCODING], leafValue(leaf), leaf.proof);
  } catch {
    // A malformed proof element or root is simply not a proof.
    return false;
  }
}
