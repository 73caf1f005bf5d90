// One contributor session for the app and the widget alike. It owns the engines, the pool
// client, the duty cycle, the pause rules, the share records and the one share tally; callers
// get start(), stop(), pause(reason), resume(reason), a snapshot and typed events.
//
//   const session = new ContributorSession({ address, storage: 'none', userAgent: 'dao-widget/1' });
//   session.on('stats', (s) => render(s));
//   await session.start();          // only ever from a user's click
//   session.pause('out-of-view');   // paused while ANY reason holds
//   session.resume('out-of-view');
//   await session.stop();
import { browserTransport, sameOriginStratumUrl } from '../miner/browser-transport.js';
import { Miner } from '../miner/miner.js';
import { PoolClient, type PoolState, type ShareOutcome } from '../miner/pool-client.js';
import { ShareTally, type TallyCounts } from '../miner/share-tally.js';
import type { EngineName } from '../miner/engine.js';
import { openMemberStore, type MemberStore, type ShareCounts } from '../store/member-store.js';
import { CpuCeiling } from './cpu-ceiling.js';
import { DEVICE_REASONS, DeviceWatcher, devicePauses } from './device-rules.js';
import { closeEngines, openEngines, type OpenedEngines } from './engines.js';
import { Emitter } from './events.js';
import { checkAddress, initialSettings, mergeSettings, type ContributorSessionOptions, type ContributorSettings } from './options.js';
import { PauseSet, type PauseReason } from './pause-set.js';
import { PressureWatcher, pressureDetail, pressureResponse, type PressureState } from './pressure.js';
import { indexedDbRecords, noRecords, type ShareRecords } from './share-records.js';

export type { ContributorSessionOptions, ContributorSettings } from './options.js';
export type { PauseReason } from './pause-set.js';
export type { TallyCounts } from '../miner/share-tally.js';
export type { PressureState } from './pressure.js';

/** The pause reason held while the browser reports critical compute pressure. */
export const PRESSURE_REASON = 'pressure';

/** idle: not started; paused: started, but a pause reason holds and nothing runs. */
export type ContributorState = 'idle' | 'starting' | 'mining' | 'paused' | 'stopping';

export interface ContributorStats {
  state: ContributorState;
  pool: PoolState | 'not connected';
  poolDetail?: string;
  settings: ContributorSettings;
  /** The duty cycle the engines run at now (the ceiling, or a caller's lower limit). */
  cpuPercent: number;
  /** Mean busy share of the CPU workers over the last 5 s, 0..1; undefined while nothing runs. */
  measuredCpuShare?: number;
  /** The WebGPU adapter mining now; undefined when the GPU is not in use. */
  gpu?: string;
  gpuNote?: string;
  /** Over the last RATE_WINDOW_S seconds: all engines, and the CPU workers and the GPU apart. */
  hashesPerSecond: number;
  cpuHashesPerSecond: number;
  gpuHashesPerSecond: number;
  /** The CPU pressure the browser reports (Compute Pressure API); undefined where it does not. */
  pressure?: PressureState;
  hashes: number;
  /** This session's shares: the tally, the one place they are counted. */
  shares: TallyCounts;
  /** Every share this device has recorded (store mode only). */
  recorded?: ShareCounts;
  paused: PauseReason[];
  error?: string;
}

export interface ShareEvent {
  outcome: ShareOutcome;
  engine: EngineName;
  shares: TallyCounts;
}

export interface ContributorEvents {
  state: ContributorState;
  stats: ContributorStats;
  share: ShareEvent;
  paused: PauseReason;
  resumed: { reason: string };
}

interface Run {
  engines: OpenedEngines;
  miner: Miner;
}

export class ContributorSession {
  readonly tally = new ShareTally();
  private readonly events = new Emitter<ContributorEvents>();
  private readonly pauses = new PauseSet();
  private readonly ceiling: CpuCeiling;
  private readonly watcher = new DeviceWatcher(() => this.applyDeviceRules());
  private readonly pressure = new PressureWatcher((state) => this.applyPressure(state));
  private readonly poolUrl: string;
  private settings: ContributorSettings;
  private state: ContributorState = 'idle';
  private wanted = false;
  private run: Run | undefined;
  private chain: Promise<void> = Promise.resolve();
  private records: ShareRecords = noRecords;
  private ownStore: MemberStore | undefined;
  private recorded: ShareCounts | undefined;
  /** The member whose shares are recorded and counted (store mode): known at the first run, or told by showMember. */
  private member: string | undefined;
  private poolState: PoolState | 'not connected' = 'not connected';
  private poolDetail: string | undefined;
  private gpuNote: string | undefined;
  private hashesBefore = 0;
  private error: string | undefined;
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private recordsTimer: ReturnType<typeof setTimeout> | undefined;
  private statsDue: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: ContributorSessionOptions) {
    this.settings = initialSettings(options);
    this.ceiling = new CpuCeiling(this.settings.cpuCeiling);
    this.poolUrl = options.poolUrl ?? sameOriginStratumUrl();
    if (options.storage === 'indexeddb' && options.store) this.attachRecords(options.store);
    this.tally.onEvent((event) => {
      if (event.type !== 'answered') return;
      this.events.emit('share', { outcome: event.outcome, engine: event.engine, shares: this.tally.snapshot() });
      this.scheduleRecordedRefresh();
      this.emitStats();
    });
  }

  on<K extends keyof ContributorEvents>(name: K, listener: (payload: ContributorEvents[K]) => void): () => void {
    return this.events.on(name, listener);
  }

  get running(): boolean {
    return this.wanted;
  }

  /** Re-reads the stored share counts (store mode); call once before showing them. */
  async refreshRecorded(): Promise<void> {
    if (this.options.storage === 'indexeddb' && this.records === noRecords) return;
    this.recorded = await this.records.counts();
    this.emitStats();
  }

  /** The identity whose local figures to show (store mode): another one (switched or imported) switches every count. */
  async showMember(address: string | undefined): Promise<void> {
    if (address === this.member) return;
    this.member = address;
    this.tally.reset();
    this.hashesBefore = 0;
    await this.refreshRecorded();
  }

  /** Starts contributing (only ever from a user's click): mining runs whenever no pause reason holds. */
  async start(): Promise<void> {
    if (this.wanted) return this.chain;
    this.wanted = true;
    this.error = undefined;
    this.gpuNote = undefined;
    this.hashesBefore = 0;
    this.tally.reset();
    this.setState('starting');
    try {
      if (this.options.storage === 'indexeddb' && this.records === noRecords) {
        this.ownStore = await openMemberStore(this.options.dbName);
        this.attachRecords(this.ownStore);
      }
      await this.watcher.start();
      await this.pressure.start();
    } catch (err) {
      return this.fail(err);
    }
    this.applyDeviceRules();
    this.statsTimer = setInterval(() => this.emitStats(), this.options.statsIntervalMs ?? 1000);
    return this.reconcile();
  }

  /** Stops: every worker ends at once; the pool gets up to drainMs to answer shares in flight. */
  async stop(): Promise<void> {
    if (!this.wanted) return this.chain;
    this.wanted = false;
    clearInterval(this.statsTimer);
    this.watcher.stop();
    this.pressure.stop();
    for (const reason of [...DEVICE_REASONS, PRESSURE_REASON]) this.pauses.delete(reason);
    if (this.run) closeEngines(this.run.engines);
    this.setState('stopping');
    await this.reconcile();
    await this.records.settled();
    await this.refreshRecorded().catch(() => undefined);
  }

  /** Stops, and closes the member store if the session opened it itself (store mode without `store`). */
  async dispose(): Promise<void> {
    await this.stop();
    this.records.detach();
    this.records = noRecords;
    this.ownStore?.close();
    this.ownStore = undefined;
  }

  /** Pauses for `reason` (any caller's key) until resume(reason); mining runs only while no reason holds. */
  pause(reason: string, detail: string = reason): Promise<void> {
    if (typeof reason !== 'string' || reason === '') throw new Error('a pause reason must be a non-empty string');
    if (this.pauses.add(reason, detail)) this.events.emit('paused', { reason, detail });
    return this.reconcile();
  }

  resume(reason: string): Promise<void> {
    if (this.pauses.delete(reason)) this.events.emit('resumed', { reason });
    return this.reconcile();
  }

  /** A caller's lower duty cycle (10..100), or undefined to lift it; never above the user's ceiling. */
  limitCpu(percent: number | undefined): void {
    this.ceiling.limit(percent);
    this.emitStats();
  }

  /** Changes the settings: the duty cycle and the pause rules at once, threads and the GPU from the next run. */
  configure(changes: Partial<ContributorSettings>): ContributorSettings {
    this.settings = mergeSettings(this.settings, changes);
    this.ceiling.setCeiling(this.settings.cpuCeiling);
    if (this.wanted) this.applyDeviceRules();
    this.emitStats();
    return { ...this.settings };
  }

  snapshot(): ContributorStats {
    const run = this.run;
    const cpuShares = run?.engines.cpu.map((e) => e.measuredCpuShare()) ?? [];
    const work = run?.miner.stats;
    const mining = this.state === 'mining';
    return {
      state: this.state,
      pool: this.poolState,
      ...(this.poolDetail ? { poolDetail: this.poolDetail } : {}),
      settings: { ...this.settings },
      cpuPercent: this.ceiling.percent,
      ...(cpuShares.length > 0 ? { measuredCpuShare: cpuShares.reduce((a, b) => a + b, 0) / cpuShares.length } : {}),
      ...(run?.engines.gpu ? { gpu: run.engines.gpu.hardware ?? 'unknown adapter' } : {}),
      ...(this.gpuNote ? { gpuNote: this.gpuNote } : {}),
      hashesPerSecond: mining ? (work?.hashesPerSecond ?? 0) : 0,
      cpuHashesPerSecond: mining ? (work?.cpuHashesPerSecond ?? 0) : 0,
      gpuHashesPerSecond: mining ? (work?.gpuHashesPerSecond ?? 0) : 0,
      ...(this.pressure.state ? { pressure: this.pressure.state } : {}),
      hashes: this.hashesBefore + (work?.hashes ?? 0),
      shares: this.tally.snapshot(),
      ...(this.recorded ? { recorded: { ...this.recorded } } : {}),
      paused: this.pauses.list(),
      ...(this.error ? { error: this.error } : {}),
    };
  }

  /** Runs when started and unpaused, stops the run otherwise; one step at a time. */
  private reconcile(): Promise<void> {
    this.chain = this.chain.then(() => this.step()).catch((err: unknown) => this.fail(err));
    return this.chain;
  }

  private async step(): Promise<void> {
    const shouldRun = this.wanted && !this.pauses.paused;
    if (shouldRun && !this.run) await this.openRun();
    else if (!shouldRun && this.run) await this.closeRun();
    this.setState(!this.wanted ? 'idle' : this.run ? 'mining' : this.pauses.paused ? 'paused' : 'starting');
  }

  private async openRun(): Promise<void> {
    this.setState('starting');
    const address = checkAddress(typeof this.options.address === 'string' ? this.options.address : await this.options.address());
    this.member = address;
    const engines = await openEngines({
      threads: this.settings.threads,
      useGpu: this.settings.useGpu,
      ...(this.options.build ? { build: this.options.build } : {}),
      cpuPercent: () => this.ceiling.percent,
    });
    this.gpuNote = engines.gpuNote;
    // Stopped or paused while the workers were opening.
    if (!this.wanted || this.pauses.paused) return closeEngines(engines);
    const pool = new PoolClient({ url: this.poolUrl, username: address, userAgent: this.options.userAgent ?? 'dao-web-miner', connect: browserTransport });
    const miner = new Miner(pool, engines.gpu ? [...engines.cpu, engines.gpu] : engines.cpu, undefined, this.tally);
    pool.onState((state, detail) => {
      if (this.run?.miner !== miner) return;
      this.poolState = state;
      this.poolDetail = detail;
      // A refused member stays refused: nothing more to do until the contributor tries again.
      if (state === 'stopped' && detail) {
        this.error = `the pool refused this member: ${detail}`;
        void this.stop();
      }
      this.emitStats();
    });
    this.run = { engines, miner };
    miner.start();
  }

  private async closeRun(): Promise<void> {
    const run = this.run!;
    closeEngines(run.engines);
    await run.miner.stop(this.options.drainMs ?? 2000);
    this.hashesBefore += run.miner.stats.hashes;
    this.run = undefined;
    this.poolState = 'stopped';
    this.poolDetail = undefined;
  }

  private fail(err: unknown): void {
    this.error = err instanceof Error ? err.message : String(err);
    this.wanted = false;
    clearInterval(this.statsTimer);
    this.watcher.stop();
    this.pressure.stop();
    this.pauses.delete(PRESSURE_REASON);
    if (this.run) {
      closeEngines(this.run.engines);
      void this.run.miner.stop(0);
      this.run = undefined;
    }
    this.setState('idle');
  }

  /** The device's pause reasons, in the same set as the callers'. */
  private applyDeviceRules(): void {
    if (!this.wanted) return;
    const holding = devicePauses(this.watcher.conditions(), this.settings);
    for (const reason of DEVICE_REASONS) {
      const detail = holding.get(reason);
      if (detail !== undefined && !this.pauses.has(reason)) void this.pause(reason, detail);
      else if (detail === undefined && this.pauses.has(reason)) void this.resume(reason);
    }
  }

  /** Compute pressure: 'serious' halves the duty cycle, 'critical' pauses; lower states lift both. */
  private applyPressure(state: PressureState | undefined): void {
    const response = pressureResponse(state);
    this.ceiling.setPressureFactor(response.pause ? 1 : response.dutyFactor);
    if (response.pause && state && this.wanted) void this.pause(PRESSURE_REASON, pressureDetail(state));
    else if (this.pauses.has(PRESSURE_REASON)) void this.resume(PRESSURE_REASON);
    this.emitStats();
  }

  private attachRecords(store: MemberStore): void {
    this.records = indexedDbRecords(store, this.tally, this.poolUrl, () => this.member, (message) => {
      this.error = message;
      this.emitStats();
    });
  }

  /** The stored counts, re-read at most every 250 ms while shares come in. */
  private scheduleRecordedRefresh(): void {
    if (this.records === noRecords || this.recordsTimer !== undefined) return;
    this.recordsTimer = setTimeout(() => {
      this.recordsTimer = undefined;
      void this.records.settled().then(() => this.refreshRecorded()).catch(() => undefined);
    }, 250);
  }

  private setState(state: ContributorState): void {
    if (state === this.state) return;
    this.state = state;
    this.events.emit('state', state);
    this.emitStats();
  }

  /** Tells 'stats' at most every 100 ms: shares can come many times a second, and a page redraws on each. */
  private emitStats(): void {
    if (this.statsDue !== undefined) return;
    this.statsDue = setTimeout(() => {
      this.statsDue = undefined;
      this.events.emit('stats', this.snapshot());
    }, 100);
  }
}
