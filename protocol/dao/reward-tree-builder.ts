// Builds an epoch's reward tree from its compact leaves (compact-leaves.ts) fast enough for a
// million members: the same tree as @openzeppelin/merkle-tree's StandardMerkleTree.of(values,
// ['address','uint256','uint256'], { sortLeaves: false }) over the leaves in account order, so the
// root, every proof and RewardDistributor.sol agree with the library (which the tests compare
// against). Keccak comes from hash-wasm's WebAssembly build: about five times @noble/hashes here.
//
// Layout (the library's): one array of 2n - 1 nodes of 32 bytes; leaf i sits at node
// 2n - 2 - i; node k's children are 2k + 1 and 2k + 2; an inner node hashes its two children
// sorted (OpenZeppelin's hashPair); a leaf's node is keccak256(keccak256(abi.encode(leaf))).
import { createKeccak, type IHasher } from 'hash-wasm';
import { ACCOUNT_BYTES, AMOUNT_BYTES, LEAF_RECORD_BYTES, leafCountOf } from './compact-leaves.js';

const NODE_BYTES = 32;

export interface BuiltRewardTree {
  /** 0x-prefixed hex. */
  root: string;
  leafCount: number;
  /** Sum of cumulativeWork over the leaves: the epoch's totalWork on-chain. */
  totalWork: bigint;
  /** (2n - 1) * 32 bytes, the library's array order (see above). */
  nodes: Uint8Array;
}

let hasher: Promise<IHasher> | undefined;
function keccak(): Promise<IHasher> {
  hasher ??= createKeccak(256);
  return hasher;
}

function toHex(bytes: Uint8Array): string {
  let hex = '0x';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

function lessOrEqual(nodes: Uint8Array, a: number, b: number): boolean {
  for (let i = 0; i < NODE_BYTES; i++) {
    const d = nodes[a + i]! - nodes[b + i]!;
    if (d !== 0) return d < 0;
  }
  return true;
}

/** Builds the tree over `leaves` (compact, account order); throws for an empty table. */
export async function buildRewardTreeNodes(leaves: Uint8Array): Promise<BuiltRewardTree> {
  const leafCount = leafCountOf(leaves);
  if (leafCount === 0) throw new Error('a reward tree needs at least one leaf');
  const k = await keccak();
  const nodes = new Uint8Array((2 * leafCount - 1) * NODE_BYTES);
  // abi.encode(address, uint256, uint256): the address left-padded to a 32-byte word.
  const encoded = new Uint8Array(3 * 32);
  let totalWork = 0n;
  for (let i = 0; i < leafCount; i++) {
    const offset = i * LEAF_RECORD_BYTES;
    encoded.set(leaves.subarray(offset, offset + ACCOUNT_BYTES), 32 - ACCOUNT_BYTES);
    encoded.set(leaves.subarray(offset + ACCOUNT_BYTES, offset + LEAF_RECORD_BYTES), 32);
    k.init();
    k.update(encoded);
    const inner = k.digest('binary');
    k.init();
    k.update(inner);
    nodes.set(k.digest('binary'), (2 * leafCount - 2 - i) * NODE_BYTES);
    const view = new DataView(leaves.buffer, leaves.byteOffset + offset + ACCOUNT_BYTES, AMOUNT_BYTES);
    let work = 0n;
    for (let j = 0; j < AMOUNT_BYTES; j += 8) work = (work << 64n) | view.getBigUint64(j);
    totalWork += work;
  }
  for (let node = leafCount - 2; node >= 0; node--) {
    const left = (2 * node + 1) * NODE_BYTES;
    const right = (2 * node + 2) * NODE_BYTES;
    const [first, second] = lessOrEqual(nodes, left, right) ? [left, right] : [right, left];
    k.init();
    k.update(nodes.subarray(first, first + NODE_BYTES));
    k.update(nodes.subarray(second, second + NODE_BYTES));
    nodes.set(k.digest('binary'), node * NODE_BYTES);
  }
  return { root: toHex(nodes.subarray(0, NODE_BYTES)), leafCount, totalWork, nodes };
}

/** The proof of leaf `index` (account order): the library's getProof. */
export function rewardProofAt(tree: Pick<BuiltRewardTree, 'leafCount' | 'nodes'>, index: number): string[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= tree.leafCount) throw new RangeError(`no leaf ${index}`);
  const proof: string[] = [];
  for (let node = 2 * tree.leafCount - 2 - index; node > 0; node = (node - 1) >> 1) {
    const sibling = node % 2 === 1 ? node + 1 : node - 1;
    proof.push(toHex(tree.nodes.subarray(sibling * NODE_BYTES, (sibling + 1) * NODE_BYTES)));
  }
  return proof;
}
