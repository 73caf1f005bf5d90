import { headerFromHex, withNonce } from '../../protocol/header.js';
import { bitsToTarget } from '../../protocol/target.js';
import { NONCE_SPACE, type HashEngine } from './engine.js';

/** Bitcoin's genesis block: a real header and a real (difficulty 1) target for benchmarks. */
export const GENESIS_HEADER = headerFromHex(
  '0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c',
);
export const GENESIS_NONCE = 2083236893;
export const GENESIS_TARGET = bitsToTarget(0x1d00ffff);

/** Checks an engine end to end before timing it: it must find the genesis nonce in a window. */
export async function verifyWithGenesis(engine: HashEngine): Promise<boolean> {
  await engine.setJob({ header: withNonce(GENESIS_HEADER, 0), target: GENESIS_TARGET });
  const result = await engine.scan(GENESIS_NONCE - 2048, 4096);
  return result.nonces.length === 1 && result.nonces[0] === GENESIS_NONCE;
}

/**
 * Hashes per second of `engine` over about `seconds`, in calls of `chunk` nonces, after one
 * warm-up call (JIT tiers, GPU pipeline creation). `shouldStop` ends it early.
 */
export async function measureHashRate(
  engine: HashEngine,
  seconds: number,
  chunk: number,
  shouldStop: () => boolean = () => false,
): Promise<number> {
  await engine.setJob({ header: GENESIS_HEADER, target: GENESIS_TARGET });
  await engine.scan(0, chunk);
  let nonce = chunk;
  let hashed = 0;
  const began = performance.now();
  while (performance.now() - began < seconds * 1000 && !shouldStop()) {
    hashed += (await engine.scan(nonce % NONCE_SPACE, chunk)).scanned;
    nonce += chunk;
  }
  return hashed / ((performance.now() - began) / 1000);
}
