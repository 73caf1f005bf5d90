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
import { bytesToHex } from '../hex.js';
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

/** 0x-prefixed hex; bytesToHex builds it from char codes (a proof is some 20 of these). */
function toHex(bytes: Uint8Array): string {
  return '0x' + bytesToHex(bytes);
}

/** Whether node `a` sorts before or equal to node `b` (byte offsets into `nodes`): hashPair's order. */
function lessOrEqual(nodes: Uint8Array, a: number, b: number): boolean {
  for (let i = 0; i < NODE_BYTES; i++) {
    const d = nodes[a + i]! - nodes[b + i]!;
    if (d !== 0) return d < 0;
  }
  return true;
}

function copy(from: Uint8Array, fromOffset: number, to: Uint8Array, toOffset: number, length: number): void {
  for (let i = 0; i < length; i++) to[toOffset + i] = from[fromOffset + i]!;
}

/** Leaves summed a 32-bit word at a time in plain numbers (exact below 2^53): no bigint per leaf. */
const WORDS_PER_AMOUNT = AMOUNT_BYTES / 4;
/**
 * Leaves per flush of the word sums into a bigint: 2^12 * (2^32 - 1) is far below 2^53 (2^21
 * would do), and a test of some thousands of leaves crosses flushes.
 */
export const LEAVES_PER_WORK_FLUSH = 1 << 12;

function wordSums(words: Float64Array): bigint {
  let total = 0n;
  for (let w = 0; w < WORDS_PER_AMOUNT; w++) total = (total << 32n) + BigInt(words[w]!);
  words.fill(0);
  return total;
}

/** Builds the tree over `leaves` (compact, account order); throws for an empty table. */
export async function buildRewardTreeNodes(leaves: Uint8Array): Promise<BuiltRewardTree> {
  const leafCount = leafCountOf(leaves);
  if (leafCount === 0) throw new Error('a reward tree needs at least one leaf');
  const k = await keccak();
  const nodes = new Uint8Array((2 * leafCount - 1) * NODE_BYTES);
  // abi.encode(address, uint256, uint256) is the record itself behind 12 zero bytes (the address
  // left-padded to a word): copied behind them so each hash is one update (hash-wasm wraps every
  // update in views of its own). set() of a subarray measured faster than a byte loop.
  const encoded = new Uint8Array(32 - ACCOUNT_BYTES + LEAF_RECORD_BYTES);
  const view = new DataView(leaves.buffer, leaves.byteOffset, leaves.byteLength);
  const workWords = new Float64Array(WORDS_PER_AMOUNT);
  let totalWork = 0n;
  for (let i = 0; i < leafCount; i++) {
    const offset = i * LEAF_RECORD_BYTES;
    encoded.set(leaves.subarray(offset, offset + LEAF_RECORD_BYTES), 32 - ACCOUNT_BYTES);
    k.init();
    k.update(encoded);
    const inner = k.digest('binary');
    k.init();
    k.update(inner);
    nodes.set(k.digest('binary'), (2 * leafCount - 2 - i) * NODE_BYTES);
    for (let w = 0; w < WORDS_PER_AMOUNT; w++) workWords[w]! += view.getUint32(offset + ACCOUNT_BYTES + 4 * w);
    if ((i + 1) % LEAVES_PER_WORK_FLUSH === 0) totalWork += wordSums(workWords);
  }
  totalWork += wordSums(workWords);
  const pair = new Uint8Array(2 * NODE_BYTES);
  for (let node = leafCount - 2; node >= 0; node--) {
    const left = (2 * node + 1) * NODE_BYTES;
    const right = left + NODE_BYTES;
    k.init();
    // The children are adjacent: in order already, they are hashed where they lie.
    if (lessOrEqual(nodes, left, right)) k.update(nodes.subarray(left, left + 2 * NODE_BYTES));
    else {
      copy(nodes, right, pair, 0, NODE_BYTES);
      copy(nodes, left, pair, NODE_BYTES, NODE_BYTES);
      k.update(pair);
    }
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
