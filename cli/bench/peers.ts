import { createHash } from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { createSHA256 } from 'hash-wasm';

/**
 * The peers the benchmark measures our engines against: well-known SHA-256 libraries, each in the
 * naive loop a miner without our optimisations would run (write the nonce, hash the 80 bytes,
 * hash the digest). Each returns a function that hashes `count` nonces of `header`.
 */
export interface Peer {
  name: string;
  prepare(header: Uint8Array): Promise<(start: number, count: number) => void>;
}

function nonceWriter(header: Uint8Array): { block: Uint8Array; setNonce(n: number): void } {
  const block = Uint8Array.from(header);
  const view = new DataView(block.buffer);
  return { block, setNonce: (n) => view.setUint32(76, n, true) };
}

export const PEERS: Peer[] = [
  {
    name: 'hash-wasm',
    async prepare(header) {
      const hasher = await createSHA256();
      const { block, setNonce } = nonceWriter(header);
      return (start, count) => {
        for (let i = 0; i < count; i++) {
          setNonce(start + i);
          const first = hasher.init().update(block).digest('binary');
          hasher.init().update(first).digest('binary');
        }
      };
    },
  },
  {
    name: '@noble/hashes',
    async prepare(header) {
      const { block, setNonce } = nonceWriter(header);
      return (start, count) => {
        for (let i = 0; i < count; i++) {
          setNonce(start + i);
          nobleSha256(nobleSha256(block));
        }
      };
    },
  },
  {
    name: 'node:crypto',
    async prepare(header) {
      const { block, setNonce } = nonceWriter(header);
      return (start, count) => {
        for (let i = 0; i < count; i++) {
          setNonce(start + i);
          createHash('sha256').update(createHash('sha256').update(block).digest()).digest();
        }
      };
    },
  },
];
