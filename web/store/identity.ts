// Pure rules for the member's key: creating one, and checking one a member pastes in. ethers does
// the cryptography; this module only decides what is accepted and how it is written down.
import { SigningKey, computeAddress, getAddress, hexlify, isAddress } from 'ethers';
import type { IdentityRecord } from './schema.js';

/** What the app sees of an identity: never the key itself (that takes exportIdentity). */
export interface Identity {
  address: string;
  source: IdentityRecord['source'];
  imported?: boolean;
}

export function publicIdentity(record: IdentityRecord): Identity {
  return { address: record.address, source: record.source, ...(record.imported ? { imported: true } : {}) };
}

/**
 * A key pair from 32 bytes: the address is keccak256 of the public key, as every EVM wallet computes
 * it. SigningKey (rather than ethers' Wallet) because Wallet brings the JSON keystore and mnemonic
 * code along: the store bundles to 66 kB gzipped instead of 21 kB, for features it does not use.
 * Throws for zero and for numbers at or above the secp256k1 group order (when computing the
 * public key: SigningKey itself checks only the length).
 */
function keyPair(privateKeyHex: string): { address: string; privateKeyHex: string } {
  const key = new SigningKey(privateKeyHex);
  return { address: computeAddress(key), privateKeyHex: key.privateKey.toLowerCase() };
}

/** A fresh random key for this browser, from crypto.getRandomValues (window and worker alike). */
export function newLocalIdentity(nowMs: number): IdentityRecord {
  // Only the private key is kept: the export is the key hex, which every wallet imports; a mnemonic
  // would be a second secret to guard for no gain.
  for (;;) {
    try {
      return { ...keyPair(hexlify(crypto.getRandomValues(new Uint8Array(32)))), source: 'local', createdAtMs: nowMs };
    } catch {
      // 32 random bytes are outside the key range with odds of about 2^-128: draw again.
    }
  }
}

/**
 * A local identity from a private key a member pasted: 64 hex digits with or without 0x,
 * surrounding whitespace ignored. Anything else (a wrong length, non-hex, an address, a mnemonic,
 * zero or a number at or above the secp256k1 group order) is refused with an Error that says what
 * was expected, without echoing the input: it may be a real secret pasted in the wrong box.
 */
export function localIdentityFromKey(privateKeyHex: unknown, nowMs: number): IdentityRecord {
  if (typeof privateKeyHex !== 'string') throw new Error('the private key must be a string of 64 hex digits');
  const trimmed = privateKeyHex.trim();
  const hex = /^0[xX]/.test(trimmed) ? trimmed.slice(2) : trimmed;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new Error(`not a private key: expected 64 hex digits (optionally after 0x), got ${trimmed.length} characters`);
  }
  let pair: ReturnType<typeof keyPair>;
  try {
    pair = keyPair(`0x${hex.toLowerCase()}`);
  } catch {
    throw new Error('not a private key: the number is outside the secp256k1 key range');
  }
  return { ...pair, source: 'local', createdAtMs: nowMs };
}

/** An identity for an address held by an injected wallet (EIP-1193); the key stays there. */
export function injectedIdentity(address: unknown, nowMs: number): IdentityRecord {
  if (typeof address !== 'string' || !isAddress(address.trim())) {
    throw new Error('not an address: expected 0x and 40 hex digits with a valid EIP-55 checksum if mixed-case');
  }
  return { address: getAddress(address.trim()), source: 'injected', createdAtMs: nowMs };
}

/**
 * Derives one throwaway public key, so that secp256k1's precomputed tables (tens of milliseconds
 * the first time) are built while the page is idle rather than on the click that creates the
 * member's key. Stores nothing.
 */
export function warmUpKeyDerivation(): void {
  void new SigningKey('0x' + '00'.repeat(31) + '01').publicKey;
}
