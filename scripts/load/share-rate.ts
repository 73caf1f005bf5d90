// How fast this process makes valid shares alone, at the run's share target, on a mainnet-sized
// job: measured before the run, it bounds the rate the generator could ever send, and shows that
// making shares is not what limits a run.
import { u32ToHex } from '../../protocol/hex.js';
import { prevhashToStratum } from '../../protocol/stratum-job.js';
import { difficultyToTarget } from '../../protocol/target.js';
import { realisticJob } from '../bench-gateway-verify.js';
import { MinerShares } from './shares.js';

/** The realistic job as a gateway would send it in mining.notify. */
function notifyParams(): unknown[] {
  const job = realisticJob();
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  return [job.jobId, prevhashToStratum(job.prevhash), hex(job.coinb1), hex(job.coinb2), job.merkleBranch.map(hex), u32ToHex(job.version), u32ToHex(job.bits), u32ToHex(job.ntime), true];
}

export async function measureShareMaking(difficulty: number, durationMs = 300): Promise<number> {
  const factory = new MinerShares('0x0000000000000000000000000000000000000001.bench', Uint8Array.of(1, 2, 3, 4), 4, difficultyToTarget(difficulty));
  factory.setJob(notifyParams());
  // The first scan compiles and instantiates the WASM engine: not part of the rate.
  await factory.refill();
  for (let i = 0; i < 10_000 && factory.take() !== undefined; i++);
  let shares = 0;
  const began = performance.now();
  while (performance.now() - began < durationMs) {
    await factory.refill();
    // While counting, shares never run out: take them in rounds, checking the clock between.
    for (let i = 0; i < 10_000 && factory.take() !== undefined; i++) shares++;
  }
  return (shares * 1000) / (performance.now() - began);
}
