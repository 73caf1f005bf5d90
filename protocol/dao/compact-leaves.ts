// The compact binary form of one epoch's reward leaves: what the ledger stores for each epoch
// instead of one JSON proof per member (a proof is recomputed from these bytes on demand).
//
// One fixed-size record per leaf, sorted by account (ascending bytes, the order buildRewardTree
// uses), so the n-th leaf is at n * LEAF_RECORD_BYTES and a member is found by binary search:
//   20 bytes  account
//   32 bytes  cumulativeWork    (uint256, big-endian: exactly its abi.encode word)
//   32 bytes  cumulativeReward  (uint256, big-endian)
import { bytesToHex, hexDigitValue } from '../hex.js';
import { checksumAddress } from './address.js';
import type { RewardLeaf } from './reward-tree.js';

export const ACCOUNT_BYTES = 20;
export const AMOUNT_BYTES = 32;
export const LEAF_RECORD_BYTES = ACCOUNT_BYTES + 2 * AMOUNT_BYTES;
const MAX_UINT256 = (1n << 256n) - 1n;

/**
 * Parses `account` (0x and 40 hex digits, any case) into `out` at `offset`; throws on anything
 * else. Digit by digit from the char codes: a regex and a slice per byte were most of the time
 * encoding a million leaves took.
 */
function writeAccount(out: Uint8Array, offset: number, account: string): void {
  if (typeof account !== 'string' || account.length !== 2 + 2 * ACCOUNT_BYTES || account.charCodeAt(0) !== 48 || account.charCodeAt(1) !== 120) {
    throw new Error(`not an address: ${String(account).slice(0, 50)}`);
  }
  for (let i = 0; i < ACCOUNT_BYTES; i++) {
    const high = hexDigitValue(account.charCodeAt(2 + 2 * i));
    const low = hexDigitValue(account.charCodeAt(3 + 2 * i));
    if ((high | low) < 0) throw new Error(`not an address: ${account.slice(0, 50)}`);
    out[offset + i] = (high << 4) | low;
  }
}

/** The account of `leaf` as 20 bytes; throws on anything that is not a 20-byte hex address. */
export function accountBytes(account: string): Uint8Array {
  const bytes = new Uint8Array(ACCOUNT_BYTES);
  writeAccount(bytes, 0, account);
  return bytes;
}

const MAX_UINT64 = (1n << 64n) - 1n;

/** Writes `leaf[field]` big-endian into 32 bytes of `view` (zeroed already) at `offset`. */
function writeAmount(view: DataView, offset: number, leaf: RewardLeaf, field: 'cumulativeWork' | 'cumulativeReward'): void {
  const value = leaf[field];
  if (typeof value !== 'bigint' || value < 0n || value > MAX_UINT256) throw new RangeError(`${field} of ${leaf.account} is not a uint256: ${value}`);
  // 64 bits a step from the low end, stopping at the first all-zero rest (most amounts fit the
  // first step), where a step per byte made 64 bigint operations a leaf.
  if (value <= MAX_UINT64) {
    view.setBigUint64(offset + AMOUNT_BYTES - 8, value);
    return;
  }
  let v = value;
  for (let at = offset + AMOUNT_BYTES - 8; v !== 0n; at -= 8) {
    view.setBigUint64(at, BigInt.asUintN(64, v));
    v >>= 64n;
  }
}

function readAmount(bytes: Uint8Array, offset: number): bigint {
  let value = 0n;
  // Eight bytes at a time: a bigint step per byte would dominate decoding a million leaves.
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, AMOUNT_BYTES);
  for (let i = 0; i < AMOUNT_BYTES; i += 8) value = (value << 64n) | view.getBigUint64(i);
  return value;
}

function compareAccounts(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number): number {
  for (let i = 0; i < ACCOUNT_BYTES; i++) {
    const d = a[aOffset + i]! - b[bOffset + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Ranges this small are finished by insertion sort: cheaper than another counting pass. */
const INSERTION_SORT_MAX = 24;

/**
 * Sorts `order[low, high)`, indices of records in `records` (each starts with its account) whose
 * accounts all agree on their first `depth` bytes: an MSD radix sort, one counting pass per byte
 * over ever smaller ranges, finished by insertion sort. A million random accounts take two passes; a
 * comparator sort over a million account objects took seconds.
 */
function sortAccountRange(records: Uint8Array, order: Uint32Array, scratch: Uint32Array, low: number, high: number, depth: number): void {
  for (; depth < ACCOUNT_BYTES; depth++) {
    if (high - low <= INSERTION_SORT_MAX) {
      for (let i = low + 1; i < high; i++) {
        const index = order[i]!;
        let j = i;
        for (; j > low && compareAccounts(records, order[j - 1]! * LEAF_RECORD_BYTES, records, index * LEAF_RECORD_BYTES) > 0; j--) order[j] = order[j - 1]!;
        order[j] = index;
      }
      return;
    }
    const starts = new Uint32Array(257);
    for (let i = low; i < high; i++) starts[records[order[i]! * LEAF_RECORD_BYTES + depth]! + 1]!++;
    // All in one bucket (a long shared prefix): go on to the next byte without moving anything.
    if (starts[records[order[low]! * LEAF_RECORD_BYTES + depth]! + 1] === high - low) continue;
    for (let b = 1; b <= 256; b++) starts[b]! += starts[b - 1]!;
    // Where each bucket ends, kept before the scatter below moves `starts` on.
    const ends = starts.slice(1);
    for (let i = low; i < high; i++) {
      const index = order[i]!;
      scratch[low + starts[records[index * LEAF_RECORD_BYTES + depth]!]!++] = index;
    }
    order.set(scratch.subarray(low, high), low);
    for (let b = 0; b < 256; b++) {
      const from = b === 0 ? 0 : ends[b - 1]!;
      if (ends[b]! - from > 1) sortAccountRange(records, order, scratch, low + from, low + ends[b]!, depth + 1);
    }
    return;
  }
}

/** The indices of the `count` records in `records`, in ascending account order. */
function sortedRecordIndices(records: Uint8Array, count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  sortAccountRange(records, order, new Uint32Array(count), 0, count, 0);
  return order;
}

/**
 * Encodes leaves, sorted by account. Throws for a duplicate account, a malformed address or an
 * amount outside uint256 (the same leaf set must always give the same bytes and the same root).
 */
export function encodeLeaves(leaves: readonly RewardLeaf[]): Uint8Array {
  const count = leaves.length;
  // Records in the caller's order first, reading the leaf objects front to back: visiting them in
  // account order instead was a cache miss or three per leaf.
  const unsorted = new Uint8Array(count * LEAF_RECORD_BYTES);
  const view = new DataView(unsorted.buffer);
  for (let i = 0; i < count; i++) {
    const leaf = leaves[i]!;
    const offset = i * LEAF_RECORD_BYTES;
    writeAccount(unsorted, offset, leaf.account);
    writeAmount(view, offset + ACCOUNT_BYTES, leaf, 'cumulativeWork');
    writeAmount(view, offset + ACCOUNT_BYTES + AMOUNT_BYTES, leaf, 'cumulativeReward');
  }
  const order = sortedRecordIndices(unsorted, count);
  const out = new Uint8Array(count * LEAF_RECORD_BYTES);
  // A record is 21 whole 32-bit words: moved a word at a time, not a byte.
  const fromWords = new Uint32Array(unsorted.buffer);
  const toWords = new Uint32Array(out.buffer);
  const recordWords = LEAF_RECORD_BYTES / 4;
  for (let n = 0; n < count; n++) {
    const from = order[n]! * recordWords;
    const to = n * recordWords;
    for (let w = 0; w < recordWords; w++) toWords[to + w] = fromWords[from + w]!;
    if (n > 0 && compareAccounts(out, (n - 1) * LEAF_RECORD_BYTES, out, n * LEAF_RECORD_BYTES) === 0) {
      throw new Error(`two leaves for ${checksumAddress(leaves[order[n]!]!.account.toLowerCase())}`);
    }
  }
  return out;
}

/** How many leaves `bytes` holds; throws when its length is not a whole number of records. */
export function leafCountOf(bytes: Uint8Array): number {
  if (bytes.length % LEAF_RECORD_BYTES !== 0) throw new Error(`a leaf table of ${bytes.length} bytes is not a whole number of ${LEAF_RECORD_BYTES}-byte records`);
  return bytes.length / LEAF_RECORD_BYTES;
}

/**
 * The leaf at `index` (0-based, in account order). The account is checksummed unless `checksummed`
 * is false: then it is lower case, which saves a keccak per leaf when a whole table is listed.
 */
export function leafAt(bytes: Uint8Array, index: number, checksummed = true): RewardLeaf {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leafCountOf(bytes)) throw new RangeError(`no leaf ${index}`);
  const offset = index * LEAF_RECORD_BYTES;
  const account = `0x${bytesToHex(bytes.subarray(offset, offset + ACCOUNT_BYTES))}`;
  return {
    account: checksummed ? checksumAddress(account) : account,
    cumulativeWork: readAmount(bytes, offset + ACCOUNT_BYTES),
    cumulativeReward: readAmount(bytes, offset + ACCOUNT_BYTES + AMOUNT_BYTES),
  };
}

/** The index of `account`'s leaf, or -1 when it has none. */
export function indexOfAccount(bytes: Uint8Array, account: string): number {
  const wanted = accountBytes(account);
  let low = 0;
  let high = leafCountOf(bytes) - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const order = compareAccounts(bytes, mid * LEAF_RECORD_BYTES, wanted, 0);
    if (order === 0) return mid;
    if (order < 0) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}
