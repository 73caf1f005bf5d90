// EIP-55 checksummed addresses, for the reward tree's leaves. Written here on @noble/hashes'
// Keccak rather than imported from ethers: ethers' type declarations pull in @types/node, and
// protocol/ must type-check with no Node or DOM globals (protocol/tsconfig.json).
import { keccak_256 } from '@noble/hashes/sha3.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

/**
 * `address` in EIP-55 mixed case. Takes 40 hex digits, with or without 0x, all in one case or
 * correctly checksummed, and throws for anything else: ethers' getAddress for hex input.
 */
export function checksumAddress(address: string): string {
  const match = /^(?:0x)?([0-9a-fA-F]{40})$/.exec(address);
  if (!match) throw new TypeError(`invalid address: ${JSON.stringify(address)}`);
  const digits = match[1]!;
  const lower = digits.toLowerCase();
  // Digit i is upper-cased when nibble i of keccak256(the lower-case hex text) is 8 or more.
  const hash = keccak_256(utf8ToBytes(lower));
  let checksummed = '';
  for (let i = 0; i < lower.length; i++) {
    const nibble = i % 2 === 0 ? hash[i >> 1]! >> 4 : hash[i >> 1]! & 0xf;
    checksummed += nibble >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  }
  const mixedCase = digits !== lower && digits !== digits.toUpperCase();
  if (mixedCase && digits !== checksummed) throw new TypeError(`bad address checksum: ${JSON.stringify(address)}`);
  return '0x' + checksummed;
}
