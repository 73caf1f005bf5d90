// The cumulative leaves of a new epoch, in compact form (protocol/dao/compact-leaves.ts): the
// previous epoch's table with this epoch's work and reward added to the members who worked. Runs
// in the tree worker (tree-worker.ts). The previous table is already in account order, so this is a
// merge: each member who worked is found by binary search and the untouched records between them
// are copied byte for byte, in runs. A million previous leaves are never decoded into objects.
import { checksumAddress } from '../../protocol/dao/address.js';
import { ACCOUNT_BYTES, AMOUNT_BYTES, LEAF_RECORD_BYTES, encodeLeaves, indexOfAccount, leafCountOf } from '../../protocol/dao/compact-leaves.js';
import { splitEpochReward } from '../../protocol/dao/reward-split.js';

export interface MergeInput {
  /** The previous epoch's compact leaves (empty before the first epoch). */
  previous: Uint8Array;
  /** The ledger's members with pending work (any spelling of an address) and their real (unrounded) work, index by index. */
  members: readonly string[];
  work: ArrayLike<number>;
  /** The whole epoch reward in token base units. */
  reward: bigint;
  reinvestmentBps: number;
}

/** A member whose leaf changed this epoch: what epoch_leaves keeps for the member's history. */
export interface ChangedLeaf {
  /** Checksummed. */
  member: string;
  epochWork: bigint;
  epochReward: bigint;
  cumulativeWork: bigint;
  cumulativeReward: bigint;
}

export interface MergedEpoch {
  /** Every leaf of the new epoch, in account order. */
  leaves: Uint8Array;
  changed: ChangedLeaf[];
  /** Whole expected hashes added this epoch. */
  epochWork: bigint;
  /** What the members receive (the sum of the changed leaves' epochReward). */
  reward: bigint;
  reinvested: bigint;
}

function readAmount(bytes: Uint8Array, offset: number): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, AMOUNT_BYTES);
  let value = 0n;
  for (let i = 0; i < AMOUNT_BYTES; i += 8) value = (value << 64n) | view.getBigUint64(i);
  return value;
}

/** The first record of `table` whose account is not below the account of `record` at `recordOffset` in `from`. */
function lowerBound(table: Uint8Array, from: Uint8Array, recordOffset: number): number {
  let low = 0;
  let high = table.length / LEAF_RECORD_BYTES;
  while (low < high) {
    const mid = (low + high) >>> 1;
    let order = 0;
    for (let i = 0; i < ACCOUNT_BYTES && order === 0; i++) order = table[mid * LEAF_RECORD_BYTES + i]! - from[recordOffset + i]!;
    if (order < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Builds the new epoch's leaves, or undefined when the pending work rounds to nothing (then the
 * shares stay pending). Work is rounded per member over the epoch's REAL sum, so many small shares
 * are not shortchanged; a newcomer whose work rounds to zero gets no leaf.
 */
export function mergeEpoch(input: MergeInput): MergedEpoch | undefined {
  const epochWork = new Map<string, bigint>();
  for (let i = 0; i < input.members.length; i++) {
    const account = checksumAddress(input.members[i]!);
    epochWork.set(account, (epochWork.get(account) ?? 0n) + BigInt(Math.round(input.work[i]!)));
  }
  const working = new Map([...epochWork].filter(([, work]) => work > 0n));
  let total = 0n;
  for (const work of working.values()) total += work;
  if (total === 0n) return undefined;
  const split = splitEpochReward(working, input.reward, input.reinvestmentBps);

  const previousCount = leafCountOf(input.previous);
  let newcomers = 0;
  const changed: ChangedLeaf[] = [];
  for (const [member, work] of working) {
    const index = indexOfAccount(input.previous, member);
    if (index < 0) newcomers++;
    const offset = index * LEAF_RECORD_BYTES + ACCOUNT_BYTES;
    const reward = split.byMember.get(member) ?? 0n;
    changed.push({
      member,
      epochWork: work,
      epochReward: reward,
      cumulativeWork: work + (index < 0 ? 0n : readAmount(input.previous, offset)),
      cumulativeReward: reward + (index < 0 ? 0n : readAmount(input.previous, offset + AMOUNT_BYTES)),
    });
  }
  const updated = encodeLeaves(changed.map((c) => ({ account: c.member, cumulativeWork: c.cumulativeWork, cumulativeReward: c.cumulativeReward })));

  // Both tables are in account order: copy the unchanged runs between the updated records.
  const leaves = new Uint8Array((previousCount + newcomers) * LEAF_RECORD_BYTES);
  let read = 0;
  let written = 0;
  for (let offset = 0; offset < updated.length; offset += LEAF_RECORD_BYTES) {
    const at = lowerBound(input.previous, updated, offset) * LEAF_RECORD_BYTES;
    leaves.set(input.previous.subarray(read, at), written);
    written += at - read;
    leaves.set(updated.subarray(offset, offset + LEAF_RECORD_BYTES), written);
    written += LEAF_RECORD_BYTES;
    const replaces = at < input.previous.length && sameAccount(input.previous, at, updated, offset);
    read = replaces ? at + LEAF_RECORD_BYTES : at;
  }
  leaves.set(input.previous.subarray(read), written);
  return { leaves, changed, epochWork: total, reward: split.members, reinvested: split.reinvested };
}

function sameAccount(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): boolean {
  for (let i = 0; i < ACCOUNT_BYTES; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  return true;
}
