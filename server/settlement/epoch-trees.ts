// Proofs on demand: the ledger keeps each epoch's compact leaves (tree-chunks.ts), not a proof per
// member; a proof is read off the epoch's tree, rebuilt in the tree worker from those leaves the
// first time it is asked for and kept in a small LRU (a million-member tree is ~150 MB: leaves and
// nodes). The rebuilt root must equal the epoch's stored root, so altered or damaged leaves are
// refused with an error naming the epoch rather than served as proofs that fail on-chain.
import { indexOfAccount, leafAt } from '../../protocol/dao/compact-leaves.js';
import type { RewardLeaf } from '../../protocol/dao/reward-tree.js';
import { rewardProofAt } from '../../protocol/dao/reward-tree-builder.js';
import type { EpochTree } from './tree-protocol.js';
import { treeThread } from './tree-thread.js';

/** The trees of this many epochs stay in memory (the latest published and the one being closed, typically). */
export const DEFAULT_CACHED_EPOCHS = 2;

export type { EpochTree } from './tree-protocol.js';

/** An epoch whose stored leaves cannot be served: they do not give its root, or are not whole. */
export class EpochTreeError extends Error {
  override readonly name = 'EpochTreeError';
  constructor(
    readonly epoch: number,
    message: string,
  ) {
    super(message);
  }
}

export interface LeafProof {
  leaf: RewardLeaf;
  proof: string[];
}

export class EpochTrees {
  /** Insertion order is recency: the first entry is the least recently used. */
  private readonly cache = new Map<number, { root: string; tree: Promise<EpochTree> }>();

  /** `load` reads an epoch's compact leaves as its checked chunks (tree-chunks.ts), which are transferred to the worker and joined there. */
  constructor(
    private readonly load: (epoch: number) => Promise<Uint8Array[]>,
    private readonly capacity = DEFAULT_CACHED_EPOCHS,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`the proof cache holds at least one epoch, got ${capacity}`);
  }

  /** Keeps a tree just built (the closing gateway), so the first proofs of a new epoch need no rebuild. */
  seed(epoch: number, tree: EpochTree): void {
    this.remember(epoch, tree.root, Promise.resolve(tree));
  }

  /** The tree of `epoch`, whose stored root is `root`; requests during a load share that load. */
  tree(epoch: number, root: string): Promise<EpochTree> {
    const cached = this.cache.get(epoch);
    if (cached && cached.root === root) {
      this.cache.delete(epoch);
      this.cache.set(epoch, cached);
      return cached.tree;
    }
    const tree = this.rebuild(epoch, root);
    this.remember(epoch, root, tree);
    // A failed load is not kept: the next request tries again (and fails again, if the data is bad).
    tree.catch(() => {
      if (this.cache.get(epoch)?.tree === tree) this.cache.delete(epoch);
    });
    return tree;
  }

  /** `account`'s leaf and proof in `epoch`, or undefined when it has no leaf there. */
  async proof(epoch: number, root: string, account: string): Promise<LeafProof | undefined> {
    const tree = await this.tree(epoch, root);
    const index = indexOfAccount(tree.leaves, account);
    if (index < 0) return undefined;
    return { leaf: leafAt(tree.leaves, index), proof: rewardProofAt(tree, index) };
  }

  private remember(epoch: number, root: string, tree: Promise<EpochTree>): void {
    this.cache.delete(epoch);
    this.cache.set(epoch, { root, tree });
    while (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
  }

  private async rebuild(epoch: number, root: string): Promise<EpochTree> {
    let chunks: Uint8Array[];
    try {
      chunks = await this.load(epoch);
    } catch (err) {
      throw new EpochTreeError(epoch, err instanceof Error ? err.message : String(err));
    }
    if (chunks.length === 0) throw new EpochTreeError(epoch, `epoch ${epoch} has no stored tree leaves (epoch_tree_chunks): its proofs cannot be served`);
    const built = await treeThread.build(chunks).catch((err: unknown) => {
      throw new EpochTreeError(epoch, `epoch ${epoch}: its stored tree leaves are unreadable: ${err instanceof Error ? err.message : String(err)}`);
    });
    if (built.root !== root) {
      throw new EpochTreeError(
        epoch,
        `epoch ${epoch}: the tree of its stored leaves has root ${built.root}, not the epoch's root ${root}; the ledger's epoch_tree_chunks were altered or damaged, so no proof of epoch ${epoch} is served`,
      );
    }
    return built;
  }
}
