// The controller between the page and the miner: it owns the pool client, the Miner, the worker
// engines and the member store, and gives the UI start(), stop() and a plain snapshot. No Lit here.
import { bytesToHex, u32ToHex } from '../../protocol/hex.js';
import type { HashEngine } from '../miner/engine.js';
import { openBrowserGpuEngine } from '../miner/browser-gpu.js';
import { browserTransport, sameOriginStratumUrl } from '../miner/browser-transport.js';
import { Miner } from '../miner/miner.js';
import { PoolClient, type FoundShare, type PoolClientOptions, type PoolState, type ShareOutcome } from '../miner/pool-client.js';
import { throttleEngine, type ThrottledEngine } from '../miner/throttle.js';
import { wasmSimdSupported } from '../miner/wasm-support.js';
import { openWorkerEngine } from '../miner/worker-engine.js';
import type { MemberStore, ShareCounts } from '../store/member-store.js';
import type { MinerSettings } from '../store/schema.js';

export type SessionState = 'idle' | 'starting' | 'mining' | 'stopping';

export interface RatePoint {
  atMs: number;
  hashesPerSecond: number;
}

export interface SessionSnapshot {
  state: SessionState;
  pool: PoolState | 'not connected';
  poolDetail?: string;
  threads: number;
  cpuPercent: number;
  /** The member's "Use GPU" setting. */
  useGpu: boolean;
  /** The WebGPU adapter mining now (engine.hardware); undefined when the GPU is not in use. */
  gpu?: string;
  /** Why the GPU is not in use although the member asked for it. */
  gpuNote?: string;
  /** This session's answered shares by the engine that found them (wasm, wasm-simd, webgpu). */
  byEngine: Record<string, { accepted: number; rejected: number }>;
  /** Mean busy share of the workers over the last 5 s, 0..1; undefined while not mining. */
  measuredCpuShare?: number;
  hashesPerSecond: number;
  hashes: number;
  /** This session's shares. */
  accepted: number;
  rejected: number;
  rejectReasons: Record<string, number>;
  /** Every share this device has recorded (IndexedDB). */
  local: ShareCounts;
  /** Hash rate once a second over the last minute. */
  history: RatePoint[];
  error?: string;
}

/**
 * WebGPU dispatches in the app adapt to about 8 ms each (DESIGN.md: the page must stay smooth),
 * from 1024 nonces on a software adapter up to 2^24 on a fast GPU.
 */
export const APP_GPU_BATCH_SIZE = 1 << 24;
const GPU_DISPATCH_MS = 8;

/**
 * A WebGPU engine on this page's main thread (a dispatch is queued work, not JavaScript, so the
 * thread only waits for it). Rejects with the reason where the browser has no WebGPU or no adapter.
 */
export function openGpuEngine(): Promise<HashEngine> {
  return openBrowserGpuEngine({ batchSize: APP_GPU_BATCH_SIZE, targetDispatchMs: GPU_DISPATCH_MS });
}

/** A PoolClient that records every share it sends in the member store, then its outcome. */
class RecordingPoolClient extends PoolClient {
  constructor(
    options: PoolClientOptions,
    private readonly record: (share: FoundShare, outcome: Promise<ShareOutcome>) => void,
  ) {
    super(options);
  }

  override submit(share: FoundShare): Promise<ShareOutcome> {
    const outcome = super.submit(share);
    this.record(share, outcome);
    return outcome;
  }
}

export interface MiningSessionOptions {
  poolUrl?: string;
  /** The WebAssembly build; by default SIMD where the browser has it. */
  build?: 'scalar' | 'simd';
}

export class MiningSession {
  private state: SessionState = 'idle';
  private miner: Miner | undefined;
  /** The CPU workers' engines (measured CPU share) and the GPU's, if any. */
  private engines: ThrottledEngine[] = [];
  private gpuEngine: ThrottledEngine | undefined;
  private gpuNote: string | undefined;
  private byEngine: Record<string, { accepted: number; rejected: number }> = {};
  private poolState: PoolState | 'not connected' = 'not connected';
  private poolDetail: string | undefined;
  private settings: MinerSettings | undefined;
  private local: ShareCounts = { pending: 0, accepted: 0, rejected: 0 };
  private accepted = 0;
  private rejected = 0;
  private rejectReasons: Record<string, number> = {};
  private history: RatePoint[] = [];
  private sampler: ReturnType<typeof setInterval> | undefined;
  private error: string | undefined;
  private emitTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly poolUrl: string;

  constructor(
    private readonly store: MemberStore,
    private readonly options: MiningSessionOptions = {},
  ) {
    this.poolUrl = options.poolUrl ?? sameOriginStratumUrl();
  }

  /** Reads the stored settings and share counts; call once before showing the page. */
  async load(): Promise<void> {
    this.settings = await this.store.getSettings();
    await this.refreshCounts();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async saveSettings(changes: Partial<MinerSettings>): Promise<MinerSettings> {
    this.settings = await this.store.saveSettings(changes);
    this.emit();
    return this.settings;
  }

  /** The settings as last read or saved (undefined before load()). */
  get currentSettings(): MinerSettings | undefined {
    return this.settings;
  }

  get running(): boolean {
    return this.state === 'starting' || this.state === 'mining';
  }

  /** Opens the workers and the pool connection and starts hashing. Only ever called from a click. */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'starting';
    this.error = undefined;
    this.accepted = 0;
    this.rejected = 0;
    this.rejectReasons = {};
    this.byEngine = {};
    this.gpuNote = undefined;
    this.history = [];
    this.emit();
    try {
      const settings = (this.settings = await this.store.getSettings());
      const identity = await this.store.getOrCreateIdentity();
      const build = this.options.build ?? (wasmSimdSupported() ? 'simd' : 'scalar');
      // One worker engine per thread: each gets its own Miner loop and its own duty cycle.
      const gpuOpening = settings.useGpu ? openGpuEngine() : undefined;
      const opened = await Promise.allSettled(Array.from({ length: settings.threads }, () => openWorkerEngine(build)));
      const engines = opened.flatMap((r) => (r.status === 'fulfilled' ? [throttleEngine(r.value, () => this.cpuPercent)] : []));
      // A GPU that cannot be opened is reported, and the CPU workers mine without it.
      const gpu = await gpuOpening?.then(
        (engine) => throttleEngine(engine, () => this.cpuPercent),
        (err: unknown) => void (this.gpuNote = `GPU not used: ${err instanceof Error ? err.message : String(err)}`),
      );
      const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed || (this.state as SessionState) !== 'starting') {
        for (const engine of engines) engine.dispose();
        gpu?.dispose();
        if (failed) throw failed.reason;
        return;
      }
      this.engines = engines;
      this.gpuEngine = gpu ?? undefined;
      const pool = new RecordingPoolClient(
        { url: this.poolUrl, username: identity.address, userAgent: 'dao-web-miner', connect: browserTransport },
        (share, outcome) => this.recordShare(share, outcome),
      );
      pool.onState((state, detail) => {
        this.poolState = state;
        this.poolDetail = detail;
        this.emit();
      });
      this.miner = new Miner(pool, gpu ? [...engines, gpu] : engines, (outcome, _job, engine) => {
        const counts = (this.byEngine[engine.name] ??= { accepted: 0, rejected: 0 });
        if (outcome.accepted) counts.accepted++;
        else counts.rejected++;
      });
      this.miner.start();
      this.state = 'mining';
      this.sampler = setInterval(() => this.sample(), 1000);
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      this.state = 'idle';
    }
    this.emit();
  }

  /** Terminates every worker at once (their hashing ends now, not after the current scan) and closes the pool connection. */
  async stop(): Promise<void> {
    if (this.state === 'idle' || this.state === 'stopping') return;
    if (this.state === 'starting') {
      this.state = 'stopping';
      this.emit();
      this.state = 'idle';
      this.emit();
      return;
    }
    this.state = 'stopping';
    clearInterval(this.sampler);
    const stopped = this.miner?.stop();
    for (const engine of this.engines) engine.dispose();
    this.gpuEngine?.dispose();
    this.engines = [];
    this.gpuEngine = undefined;
    this.emit();
    await stopped;
    this.miner = undefined;
    this.poolState = 'stopped';
    this.state = 'idle';
    await this.refreshCounts();
    this.emit();
  }

  snapshot(): SessionSnapshot {
    const stats = this.miner?.stats;
    const shares = this.engines.map((e) => e.measuredCpuShare());
    return {
      state: this.state,
      pool: this.poolState,
      ...(this.poolDetail ? { poolDetail: this.poolDetail } : {}),
      threads: this.settings?.threads ?? 1,
      cpuPercent: this.cpuPercent,
      useGpu: this.settings?.useGpu ?? false,
      ...(this.gpuEngine ? { gpu: this.gpuEngine.hardware ?? 'unknown adapter' } : {}),
      ...(this.gpuNote ? { gpuNote: this.gpuNote } : {}),
      byEngine: Object.fromEntries(Object.entries(this.byEngine).map(([name, counts]) => [name, { ...counts }])),
      ...(shares.length > 0 ? { measuredCpuShare: shares.reduce((a, b) => a + b, 0) / shares.length } : {}),
      hashesPerSecond: this.state === 'mining' ? (stats?.hashesPerSecond ?? 0) : 0,
      hashes: stats?.hashes ?? 0,
      accepted: this.accepted,
      rejected: this.rejected,
      rejectReasons: { ...this.rejectReasons },
      local: { ...this.local },
      history: [...this.history],
      ...(this.error ? { error: this.error } : {}),
    };
  }

  private get cpuPercent(): number {
    return this.settings?.cpuPercent ?? 50;
  }

  private recordShare(share: FoundShare, outcome: Promise<ShareOutcome>): void {
    const id = this.store.addShare({
      poolUrl: this.poolUrl,
      jobId: share.job.job.jobId,
      extranonce2: bytesToHex(share.extranonce2),
      nonce: u32ToHex(share.nonce),
      ntime: u32ToHex(share.job.job.ntime),
      difficulty: share.job.difficulty,
      submittedAtMs: Date.now(),
    });
    this.local.pending++;
    void Promise.all([id, outcome])
      .then(async ([shareId, answer]) => {
        if (answer.accepted) this.accepted++;
        else {
          this.rejected++;
          const reason = answer.reason ?? 'refused';
          this.rejectReasons[reason] = (this.rejectReasons[reason] ?? 0) + 1;
        }
        await this.store.settleShare(shareId, {
          status: answer.accepted ? 'accepted' : 'rejected',
          ...(answer.reason !== undefined ? { reason: answer.reason } : {}),
          answeredAtMs: Date.now(),
        });
        // While mining, counted here rather than re-read per share; stop() re-reads the store.
        if (this.state !== 'mining') return this.refreshCounts();
        this.local.pending--;
        if (answer.accepted) this.local.accepted++;
        else this.local.rejected++;
      })
      .catch((err: unknown) => {
        this.error = `could not record a share: ${err instanceof Error ? err.message : String(err)}`;
      })
      .finally(() => this.emit());
  }

  private async refreshCounts(): Promise<void> {
    this.local = await this.store.shareCounts();
  }

  private sample(): void {
    const nowMs = Date.now();
    this.history.push({ atMs: nowMs, hashesPerSecond: this.miner?.stats.hashesPerSecond ?? 0 });
    while (this.history.length > 0 && nowMs - this.history[0]!.atMs > 60_000) this.history.shift();
    this.emit();
  }

  /** Tells the listeners, at most every 100 ms: shares can come many times a second. */
  private emit(): void {
    if (this.emitTimer !== undefined) return;
    this.emitTimer = setTimeout(() => {
      this.emitTimer = undefined;
      for (const listener of this.listeners) listener();
    }, 100);
  }
}
