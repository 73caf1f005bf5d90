// Messages between the main thread (tree-thread.ts) and the reward-tree worker (tree-worker.ts).
// Tables and nodes travel as transferred ArrayBuffers (moved, not copied); amounts as bigints.

/** A built tree: its compact leaves (account order) and the library's node array. */
export interface TreeBuild {
  leaves: Uint8Array;
  nodes: Uint8Array;
  root: string;
  leafCount: number;
  totalWork: bigint;
  /** Milliseconds the worker spent merging and hashing. */
  buildMs: number;
}

/** What serving proofs needs of a tree. */
export type EpochTree = Pick<TreeBuild, 'leaves' | 'nodes' | 'root' | 'leafCount'>;

export interface ClosedTree extends TreeBuild {
  /** changed-leaves.ts's text form. */
  changed: string;
  epochWork: bigint;
  reward: bigint;
  reinvested: bigint;
}

export type ToTree =
  | { type: 'close'; id: number; previous: Uint8Array[]; members: string[]; work: Float64Array; reward: bigint; reinvestmentBps: number }
  | { type: 'build'; id: number; chunks: Uint8Array[] };

export type FromTree =
  | { type: 'closed'; id: number; result: ClosedTree | null }
  | { type: 'built'; id: number; result: TreeBuild }
  | { type: 'failed'; id: number; message: string };
