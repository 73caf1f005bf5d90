// Seeded reward leaves for the reward-tree builder's test and benchmark: the same seed gives the
// same leaf set, so a failing case or a benchmark figure can be reproduced.
import type { RewardLeaf } from '../../protocol/dao/reward-tree.js';
import { Rng } from './fuzz-rng.js';

export const hexByte = (n: number) => (n & 0xff).toString(16).padStart(2, '0');

/**
 * `bytes` random bytes as lower-case hex without 0x: one flat string, as a database driver hands
 * them over (a string built by `+=` is a rope that the encoder's first charCodeAt must flatten).
 */
export function randomHex(rng: Rng, bytes: number): string {
  return rng.bytes(bytes).toString('hex');
}

/** An amount of random magnitude: 0, small, around 2^64, or up to 2^256 - 1. */
export function randomAmount(rng: Rng): bigint {
  const bytes = rng.pick([0, 1, 4, 8, 9, 16, 31, 32]);
  return bytes === 0 ? 0n : BigInt('0x' + randomHex(rng, bytes));
}

/** `count` leaves with distinct random lower-case accounts, in no particular order. */
export function randomLeaves(count: number, seed: number, amount: (rng: Rng) => bigint = randomAmount): RewardLeaf[] {
  const rng = new Rng(seed);
  const accounts = new Set<string>();
  while (accounts.size < count) accounts.add('0x' + randomHex(rng, 20));
  return Array.from(accounts, (account) => ({ account, cumulativeWork: amount(rng), cumulativeReward: amount(rng) }));
}
