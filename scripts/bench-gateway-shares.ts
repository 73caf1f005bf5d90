// Valid, distinct shares for the gateway benchmark, made cheaply: the WASM engine scans a short
// nonce range per extranonce2 against a very low share target, so about one nonce in four is a
// share and making one costs about a microsecond, far below what the gateway spends checking it.
import { buildCoinbaseParts } from '../protocol/coinbase.js';
import { openWasmEngine } from '../cli/wasm-node.js';
import { sha256d } from '../protocol/sha256.js';
import { serializeHeader } from '../protocol/header.js';
import { u32ToHex } from '../protocol/hex.js';
import { shareMerkleRoot } from '../protocol/share.js';
import type { StratumJob } from '../protocol/stratum-job.js';
import type { Target } from '../protocol/target.js';
import type { WorkTemplate } from '../server/work/work-source.js';
import type { HashEngine } from '../web/miner/engine.js';

/**
 * Nonces scanned per extranonce2. A browser miner submits many shares per extranonce2, and the
 * gateway caches one merkle root per (job, extranonce2); ~60 shares each keeps that realistic.
 */
const NONCES_PER_EXTRANONCE2 = 256;

let engine: HashEngine | undefined;
/**
 * One engine for the whole process, so setJob and scan of two factories must not interleave;
 * every scan goes through this chain.
 */
let engineTurn: Promise<unknown> = Promise.resolve();

/** The shares of one session: the job it was sent, its extranonce1, a counter of extranonce2. */
export class ShareFactory {
  private ready: string[] = [];
  private nextExtranonce2 = 0;
  private job: StratumJob | undefined;

  constructor(
    private readonly worker: string,
    private readonly extranonce1: Uint8Array,
    private readonly extranonce2Size: number,
    private target: Target,
  ) {}

  /**
   * A new job: shares made for the old one are dropped. The extranonce2 counter goes on, because a
   * refreshed job can carry the same template, and then equal (extranonce2, nonce) pairs would
   * make equal hashes, which the gateway rightly refuses as duplicates.
   */
  setJob(job: StratumJob): void {
    this.job = job;
    this.ready = [];
  }

  setTarget(target: Target): void {
    this.target = target;
    this.ready = [];
  }

  /** How many shares are made and not yet taken. */
  get available(): number {
    return this.ready.length;
  }

  /** The params of a share not yet taken, as JSON text (so the hot loop only splices in the id). */
  take(): string | undefined {
    return this.ready.pop();
  }

  /** Makes the shares of the next extranonce2. */
  refill(): Promise<void> {
    const turn = engineTurn.then(() => this.scanNext());
    engineTurn = turn.catch(() => undefined);
    return turn;
  }

  private async scanNext(): Promise<void> {
    const job = this.job;
    if (!job) throw new Error('no job yet');
    const en2 = (this.nextExtranonce2++ >>> 0).toString(16).padStart(2 * this.extranonce2Size, '0');
    const en2Bytes = Uint8Array.from(Buffer.from(en2, 'hex'));
    const merkleRoot = shareMerkleRoot(job, this.extranonce1, en2Bytes);
    const header = serializeHeader({ version: job.version, prevhash: job.prevhash, merkleRoot, ntime: job.ntime, bits: job.bits, nonce: 0 });
    engine ??= openWasmEngine('simd');
    await engine.setJob({ header, target: this.target });
    const { nonces } = await engine.scan(0, NONCES_PER_EXTRANONCE2);
    // The job may have changed while this scan waited its turn: then these shares are for old work.
    if (job !== this.job) return;
    const ntime = u32ToHex(job.ntime);
    for (const nonce of nonces) this.ready.push(JSON.stringify([this.worker, job.jobId, en2, ntime, u32ToHex(nonce)]));
  }
}

/** Deterministic filler bytes, so every run hashes the same data. */
function filler(seed: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 32) out.set(sha256d(new TextEncoder().encode(`${seed}/${i}`)).subarray(0, Math.min(32, length - i)), i);
  return out;
}

/**
 * A mainnet-sized template: a segwit coinbase of about 200 bytes (P2WPKH payout, witness
 * commitment, a pool tag) and a 12-entry merkle branch (a block of 2049..4096 transactions).
 */
export function realisticTemplate(): WorkTemplate {
  const extranonceSize = 8;
  const payoutScript = Uint8Array.of(0x00, 0x14, ...filler('payout', 20));
  const witnessCommitmentScript = Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed, ...filler('commitment', 32));
  const tag = new TextEncoder().encode('/Computing Power DAO benchmark coinbase tag, padded out/');
  const { coinb1, coinb2 } = buildCoinbaseParts({ height: 900_000, valueSats: 315_000_000n, payoutScript, witnessCommitmentScript, extranonceSize, tag });
  return {
    prevhash: filler('prevhash', 32),
    coinb1,
    coinb2,
    extranonceSize,
    merkleBranch: Array.from({ length: 12 }, (_, i) => filler(`branch ${i}`, 32)),
    version: 0x20000000,
    bits: 0x17031abe,
    ntime: 1_750_000_000,
    height: 900_000,
    cleanJobs: true,
  };
}
