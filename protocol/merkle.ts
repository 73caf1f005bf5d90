import { ProtocolError } from './errors.js';
import { bytesToHex, concatBytes, hexToBytes, type Hex } from './hex.js';
import { sha256d } from './sha256.js';
import { sha256dPair } from './sha256d-fixed.js';

/**
 * The merkle root from the coinbase txid and a Stratum branch: each step hashes the running root
 * with the next branch entry, on the right. All hashes in internal byte order, as on the wire.
 */
export function merkleRootFromBranch(coinbaseTxid: Uint8Array, branch: readonly Uint8Array[]): Uint8Array {
  let root = coinbaseTxid;
  for (const sibling of branch) root = sha256dPair(root, sibling);
  return root;
}

/** Decodes a Stratum merkle branch (an array of 32-byte hex hashes, internal order). */
export function parseMerkleBranch(branch: unknown, field = 'merkle_branch'): Uint8Array[] {
  if (!Array.isArray(branch)) throw new ProtocolError(field, 'expected an array of hex hashes');
  return branch.map((h: unknown, i) => hexToBytes(h, `${field}[${i}]`, 32));
}

/**
 * The Stratum branch for the coinbase (leaf 0) over a block's other txids (internal order), as a
 * pool builds it from getblocktemplate: at each level the sibling of the leftmost node, with the
 * odd node at the end of a level paired with itself.
 */
export function merkleBranchForCoinbase(otherTxids: readonly Uint8Array[]): Uint8Array[] {
  const branch: Uint8Array[] = [];
  // Level nodes after the leftmost one; the leftmost is the (unknown) coinbase side.
  let level = [...otherTxids];
  while (level.length > 0) {
    branch.push(level[0]!);
    const rest = level.slice(1);
    const next: Uint8Array[] = [];
    for (let i = 0; i < rest.length; i += 2) next.push(sha256d(concatBytes(rest[i]!, rest[i + 1] ?? rest[i]!)));
    level = next;
  }
  return branch;
}

export function branchToHex(branch: readonly Uint8Array[]): Hex[] {
  return branch.map(bytesToHex);
}
