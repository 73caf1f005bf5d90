import { createHash } from 'node:crypto';

/**
 * The plain reference every engine is checked against: node:crypto's SHA-256 (OpenSSL), twice,
 * per nonce, compared as a 256-bit integer. Slow and obviously right.
 */
export function referenceScan(header: Uint8Array, target: bigint, nonceStart: number, count: number): number[] {
  const block = Buffer.from(header);
  const found: number[] = [];
  for (let i = 0; i < count; i++) {
    const nonce = (nonceStart + i) % 2 ** 32;
    block.writeUInt32LE(nonce, 76);
    const hash = createHash('sha256').update(createHash('sha256').update(block).digest()).digest();
    if (BigInt('0x' + Buffer.from(hash).reverse().toString('hex')) <= target) found.push(nonce);
  }
  return found;
}

/** A deterministic pseudo-random header, so a failure can be reproduced from its seed. */
export function randomHeader(seed: number): Uint8Array {
  const header = new Uint8Array(80);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < 80; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    header[i] = x & 0xff;
  }
  return header;
}
