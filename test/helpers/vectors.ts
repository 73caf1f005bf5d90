import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The known-answer vectors in test/vectors/: real Bitcoin headers and Stratum sessions, each
 * verified with an independent SHA-256 (public blockchain data, kept in the repository so that a
 * plain clone tests with nothing beside it). A missing file fails the test that needs it, saying
 * where it looked.
 */
export function loadVectors(): Vectors {
  const file = fileURLToPath(new URL('../vectors/sha256d-stratum.json', import.meta.url));
  if (!existsSync(file)) throw new Error(`known-answer vectors not found at ${file}: test/vectors/ is part of the repository; is the checkout complete?`);
  return JSON.parse(readFileSync(file, 'utf8')) as Vectors;
}

export interface BlockHeaderVector {
  name: string;
  height: number;
  version: string;
  prevhash: string;
  merkle_root: string;
  time: number;
  bits: string;
  nonce: number;
  header_hex: string;
  expected: { hash: string; target: string; pow_valid: boolean; stratum_prevhash_of_this_block: string };
}

export interface StratumExample {
  id: string;
  messages: {
    notify: { params: unknown[] };
    submit: { params: unknown[] };
    subscribe_response: { result: [unknown, string, number] };
    configure_response?: { result: Record<string, unknown> };
  };
  extranonce1: string;
  extranonce2_size: number;
  version_mask?: string;
  pool_difficulty: number;
  template_txids?: string[];
  expected: {
    coinbase_hex: string;
    coinbase_txid: string;
    merkle_branch_from_template?: string[];
    merkle_root: string;
    merkle_root_internal: string;
    header_version: string;
    header_hex: string;
    hash: string;
    share_difficulty: string;
    meets_pool_difficulty: boolean;
  };
}

export interface Vectors {
  bits_targets: { bits: string; target: string; sign_bit_set: boolean }[];
  network_difficulty: { bits: string; difficulty: number }[];
  pool_difficulty_targets: { difficulty: string; target: string }[];
  block_headers: BlockHeaderVector[];
  stratum_examples: StratumExample[];
  share_difficulty_examples: {
    id: string;
    coinbase_hex?: string;
    merkle_branch?: string[];
    merkle_root_internal?: string;
    header_hex?: string;
    prevhash_stratum?: string;
    version?: string;
    nbits?: string;
    ntime?: string;
    nonce?: string;
    expected: { merkle_root_internal?: string; share_difficulty_int?: number; share_difficulty?: string };
  }[];
  midstate_examples: {
    prevhash_stratum: string;
    version: string;
    nbits: string;
    ntime: string;
    merkle_root_internal: string;
    expected: { midstate_le_words: string };
  }[];
  negative_examples: { id: string; base: string; mistake: string; expected: { hash: string; meets_pool_difficulty: boolean } }[];
}
