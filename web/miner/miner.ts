import { serializeHeader } from '../../protocol/header.js';
import { shareMerkleRoot } from '../../protocol/share.js';
import { NONCE_SPACE, type HashEngine } from './engine.js';
import type { PoolClient, PoolJob, ShareOutcome } from './pool-client.js';
import { ShareTally } from './share-tally.js';

/** One engine's next piece of work: a disjoint (extranonce2, nonce range) of the current job. */
interface WorkUnit {
  job: PoolJob;
  extranonce2: Uint8Array;
  header: Uint8Array;
  nonceStart: number;
  count: number;
}

export interface MinerStats {
  hashes: number;
  hashesPerSecond: number;
  /** The same window's rate of the CPU engines and of the GPU engine, apart (they share the machine). */
  cpuHashesPerSecond: number;
  gpuHashesPerSecond: number;
  /** Read from the tally (not counted here): kept for callers that only know the Miner. */
  sharesFound: number;
  accepted: number;
  rejected: number;
  lastRejectReason?: string;
  /** The last error an engine threw while mining (it is retried after a second). */
  engineError?: string;
}

/** Whether two jobs hash the same headers: everything but the job id and the difficulty. */
function sameWorkAs(a: PoolJob, b: PoolJob): boolean {
  const x = a.job;
  const y = b.job;
  const same = (p: Uint8Array, q: Uint8Array) => p.length === q.length && p.every((v, i) => v === q[i]);
  return (
    same(a.extranonce1, b.extranonce1) &&
    same(x.prevhash, y.prevhash) &&
    same(x.coinb1, y.coinb1) &&
    same(x.coinb2, y.coinb2) &&
    x.merkleBranch.length === y.merkleBranch.length &&
    x.merkleBranch.every((h, i) => same(h, y.merkleBranch[i]!)) &&
    x.version === y.version &&
    x.bits === y.bits &&
    x.ntime === y.ntime
  );
}

const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/** The window every hash rate is measured over (the page says so next to each rate). */
export const RATE_WINDOW_S = 10;

/** How long one engine call should last: short enough that a new block stops it within 100 ms. */
const TARGET_CALL_MS = 50;

/**
 * Drives engines on the pool's current job. Work is handed out from one cursor, so no
 * (extranonce2, nonce) is ever scanned twice for a job; a new job moves every engine to it at its
 * next call, at most one call (about 50 ms) later.
 */
export class Miner {
  private running = false;
  private job: PoolJob | undefined;
  private unitIndex = 0;
  private workSerial = 0;
  private readonly headers = new Map<string, Uint8Array>();
  private readonly rates = new Map<HashEngine, number>();
  private readonly windowHashes: { atMs: number; hashes: number; gpu: boolean }[] = [];
  private loops: Promise<void>[] = [];
  /** This miner's shares sent and not answered yet. */
  private inFlight = 0;
  /** Resolves once every share sent so far has its answer. */
  private answered: Promise<void> = Promise.resolve();
  private readonly work: Pick<MinerStats, 'hashes' | 'hashesPerSecond' | 'cpuHashesPerSecond' | 'gpuHashesPerSecond' | 'engineError'> = {
    hashes: 0,
    hashesPerSecond: 0,
    cpuHashesPerSecond: 0,
    gpuHashesPerSecond: 0,
  };

  constructor(
    private readonly pool: PoolClient,
    private readonly engines: HashEngine[],
    /** Called with each share's answer, the job it was for and the engine that found it. */
    private readonly onShare: (outcome: ShareOutcome, job: PoolJob, engine: HashEngine) => void = () => {},
    /** Where every share and its outcome are counted (the only place: see share-tally.ts). */
    readonly tally: ShareTally = new ShareTally(),
  ) {
    pool.onJob((job) => this.setJob(job));
  }

  /** The hashing figures, and the share counts as the tally has them. */
  get stats(): MinerStats {
    const t = this.tally.snapshot();
    return {
      ...this.work,
      sharesFound: t.found,
      accepted: t.accepted,
      rejected: t.rejected,
      ...(t.lastRejectReason !== undefined ? { lastRejectReason: t.lastRejectReason } : {}),
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.pool.start();
    this.loops = this.engines.map((engine) => this.run(engine));
  }

  /**
   * Stops hashing after the engines' current calls (at most about 50 ms), then waits up to
   * `drainMs` for the pool's answers to shares in flight (so the tally matches what the pool
   * credited), then closes the pool, which answers whatever is left as not sent.
   */
  async stop(drainMs = 2000): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    const until = performance.now() + drainMs;
    while (this.inFlight > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    this.pool.stop();
    await this.answered;
  }

  /**
   * A job with new work restarts the cursor. The same work under a new job id (the pool's
   * re-notify after a difficulty change, or its periodic refresh) continues it: the headers are
   * the same, so starting over would hash the same nonces again.
   */
  private setJob(job: PoolJob): void {
    const sameWork = this.job !== undefined && sameWorkAs(this.job, job);
    this.job = job;
    if (sameWork) return;
    this.workSerial++;
    this.unitIndex = 0;
    this.headers.clear();
  }

  private async run(engine: HashEngine): Promise<void> {
    let prepared: Uint8Array | undefined;
    let preparedTarget: bigint | undefined;
    while (this.running) {
      const unit = this.next(engine);
      if (!unit) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      let result;
      const began = performance.now();
      try {
        if (prepared !== unit.header || preparedTarget !== unit.job.target) {
          await engine.setJob({ header: unit.header, target: unit.job.target });
          prepared = unit.header;
          preparedTarget = unit.job.target;
        }
        result = await engine.scan(unit.nonceStart, unit.count);
      } catch (err) {
        // Stop disposes the engines under their last call: that call's failure is expected.
        if (!this.running) return;
        this.work.engineError = err instanceof Error ? err.message : String(err);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      const elapsedMs = Math.max(performance.now() - began, 0.1);
      this.rates.set(engine, (result.scanned / elapsedMs) * 1000);
      this.count(result.scanned, engine.name === 'webgpu');
      for (const nonce of result.nonces) this.submit(unit, nonce, engine);
      // An engine in this thread (the CLI's single-thread WASM) resolves at once: without a real
      // yield here, the pool's messages, timers and a stop request would never get a turn.
      await yieldToEventLoop();
    }
  }

  /** The next disjoint unit for `engine`, sized to its measured speed. */
  private next(engine: HashEngine): WorkUnit | undefined {
    const job = this.job;
    if (!job) return undefined;
    const rate = this.rates.get(engine) ?? 100_000;
    // Power-of-two sizes tile the nonce space exactly, so units never overlap.
    const count = 2 ** Math.min(30, Math.max(12, Math.floor(Math.log2((rate * TARGET_CALL_MS) / 1000))));
    // Units are numbered in the smallest size; a larger one skips ahead to stay aligned.
    const smallest = 2 ** 12;
    const step = count / smallest;
    this.unitIndex = Math.ceil(this.unitIndex / step) * step;
    const index = this.unitIndex;
    this.unitIndex += step;
    const en2Number = Math.floor((index * smallest) / NONCE_SPACE);
    if (en2Number >= 2 ** (8 * Math.min(job.extranonce2Size, 6))) return undefined;
    const extranonce2 = new Uint8Array(job.extranonce2Size);
    for (let i = 0, v = en2Number; i < job.extranonce2Size; i++, v = Math.floor(v / 256)) extranonce2[job.extranonce2Size - 1 - i] = v % 256;
    const nonceStart = (index * smallest) % NONCE_SPACE;
    return { job, extranonce2, header: this.header(job, extranonce2, en2Number), nonceStart, count };
  }

  private header(job: PoolJob, extranonce2: Uint8Array, en2Number: number): Uint8Array {
    const key = `${this.workSerial}:${en2Number}`;
    let header = this.headers.get(key);
    if (!header) {
      const j = job.job;
      header = serializeHeader({ version: j.version, prevhash: j.prevhash, merkleRoot: shareMerkleRoot(j, job.extranonce1, extranonce2), ntime: j.ntime, bits: j.bits, nonce: 0 });
      if (this.headers.size > 64) this.headers.clear();
      this.headers.set(key, header);
    }
    return header;
  }

  private submit(unit: WorkUnit, nonce: number, engine: HashEngine): void {
    const share = { job: unit.job, extranonce2: unit.extranonce2, nonce };
    this.inFlight++;
    const answer = this.tally.track(share, engine.name, this.pool.submit(share)).then((outcome) => this.onShare(outcome, unit.job, engine)).finally(() => this.inFlight--);
    this.answered = Promise.all([this.answered, answer]).then(() => undefined);
  }

  /** Hashes per second over the last RATE_WINDOW_S seconds: in all, on the CPU and on the GPU. */
  private count(hashes: number, gpu: boolean): void {
    const nowMs = performance.now();
    this.work.hashes += hashes;
    this.windowHashes.push({ atMs: nowMs, hashes, gpu });
    while (this.windowHashes.length > 0 && nowMs - this.windowHashes[0]!.atMs > RATE_WINDOW_S * 1000) this.windowHashes.shift();
    const spanMs = Math.max(nowMs - (this.windowHashes[0]?.atMs ?? nowMs), 1000);
    let cpu = 0;
    let onGpu = 0;
    for (const w of this.windowHashes) {
      if (w.gpu) onGpu += w.hashes;
      else cpu += w.hashes;
    }
    this.work.cpuHashesPerSecond = (cpu / spanMs) * 1000;
    this.work.gpuHashesPerSecond = (onGpu / spanMs) * 1000;
    this.work.hashesPerSecond = this.work.cpuHashesPerSecond + this.work.gpuHashesPerSecond;
  }
}
