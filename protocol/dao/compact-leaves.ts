// The compact binary form of one epoch's reward leaves: what the ledger stores for each epoch
// instead of one JSON proof per member (a proof is recomputed from these bytes on demand).
//
// One fixed-size record per leaf, sorted by account (ascending bytes, the order buildRewardTree
// uses), so the n-th leaf is at n * LEAF_RECORD_BYTES and a member is found by binary search:
//   20 bytes  account
//   32 bytes  cumulativeWork    (uint256, big-endian: exactly its abi.encode word)
//   32 bytes  cumulativeReward  (uint256, big-endian)
import { checksumAddress } from './address.js';
import type { RewardLeaf } from './reward-tree.js';

export const ACCOUNT_BYTES = 20;
export const AMOUNT_BYTES = 32;
export const LEAF_RECORD_BYTES = ACCOUNT_BYTES + 2 * AMOUNT_BYTES;
const MAX_UINT256 = (1n << 256n) - 1n;

/** The account of `leaf` as 20 bytes; throws on anything that is not a 20-byte hex address. */
export function accountBytes(account: string): Uint8Array {
  if (!/^0x[0-9a-fA-F]{40}$/.test(account)) throw new Error(`not an address: ${String(account).slice(0, 50)}`);
  const bytes = new Uint8Array(ACCOUNT_BYTES);
  for (let i = 0; i < ACCOUNT_BYTES; i++) bytes[i] = parseInt(account.slice(2 + 2 * i, 4 + 2 * i), 16);
  return bytes;
}

function writeAmount(out: Uint8Array, offset: number, value: bigint, what: string): void {
  if (value < 0n || value > MAX_UINT256) throw new RangeError(`${what} is not a uint256: ${value}`);
  let v = value;
  for (let i = AMOUNT_BYTES - 1; i >= 0 && v > 0n; i--) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
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

/**
 * Encodes leaves, sorted by account. Throws for a duplicate account, a malformed address or an
 * amount outside uint256 (the same leaf set must always give the same bytes and the same root).
 */
export function encodeLeaves(leaves: readonly RewardLeaf[]): Uint8Array {
  const out = new Uint8Array(leaves.length * LEAF_RECORD_BYTES);
  const accounts = leaves.map((leaf, index) => ({ bytes: accountBytes(leaf.account), index }));
  accounts.sort((a, b) => compareAccounts(a.bytes, 0, b.bytes, 0));
  for (let n = 0; n < accounts.length; n++) {
    const { bytes, index } = accounts[n]!;
    if (n > 0 && compareAccounts(bytes, 0, accounts[n - 1]!.bytes, 0) === 0) throw new Error(`two leaves for ${checksumAddress(leaves[index]!.account)}`);
    const leaf = leaves[index]!;
    const offset = n * LEAF_RECORD_BYTES;
    out.set(bytes, offset);
    writeAmount(out, offset + ACCOUNT_BYTES, leaf.cumulativeWork, `cumulativeWork of ${leaf.account}`);
    writeAmount(out, offset + ACCOUNT_BYTES + AMOUNT_BYTES, leaf.cumulativeReward, `cumulativeReward of ${leaf.account}`);
  }
  return out;
}

/** How many leaves `bytes` holds; throws when its length is not a whole number of records. */
export function leafCountOf(bytes: Uint8Array): number {
  if (bytes.length % LEAF_RECORD_BYTES !== 0) throw new Error(`a leaf table of ${bytes.length} bytes is not a whole number of ${LEAF_RECORD_BYTES}-byte records`);
  return bytes.length / LEAF_RECORD_BYTES;
}

/** The leaf at `index` (0-based, in account order). */
export function leafAt(bytes: Uint8Array, index: number): RewardLeaf {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leafCountOf(bytes)) throw new RangeError(`no leaf ${index}`);
  const offset = index * LEAF_RECORD_BYTES;
  let hex = '0x';
  for (let i = 0; i < ACCOUNT_BYTES; i++) hex += bytes[offset + i]!.toString(16).padStart(2, '0');
  return {
    account: checksumAddress(hex),
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
