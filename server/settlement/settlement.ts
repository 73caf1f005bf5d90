// Epoch settlement (DESIGN.md, "How a share flows", item 5): every `epochSeconds` the gateway
// closes an epoch over the shares recorded since the last one, builds the cumulative reward tree,
// stores it, and posts its root on-chain. The ledger row is written before any transaction, so a
// crash at any point leaves either nothing (the shares roll into the next close) or a stored epoch
// that the next start reconciles with the chain.
import type Database from 'better-sqlite3';
import { parseUnits } from 'ethers';
import type { Logger } from 'pino';
import { REINVESTMENT_BPS_PARAMETER } from '../../protocol/dao/index.js';
import type { DaoChain } from '../chain/open-chain.js';
import type { GatewayConfig } from '../config.js';
import { buildEpoch } from './epoch-builder.js';
import { RootPublisher, describeChainError, type RetryPolicy, type SettlementHooks } from './root-publisher.js';
import { SettlementStore, type EpochSummary } from './settlement-store.js';

export type { SettlementHooks } from './root-publisher.js';

/** setTimeout fires at once for delays over 2^31 - 1 ms (~24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DEFAULT_RETRY: RetryPolicy = { initialMs: 1000, maxMs: 60_000 };

export interface SettlementOptions {
  chain: DaoChain;
  db: Database.Database;
  log: Logger;
  config: GatewayConfig;
  hooks?: SettlementHooks;
  now?: () => number;
  /** Backoff of failed publishes and failed scheduled closes (tests shorten it). */
  retry?: Partial<RetryPolicy>;
}

/** The epoch being collected now, for the API and the web app. */
export interface CurrentEpoch {
  /** The number the next close will get (epochs without new work are skipped, not numbered). */
  epoch: number;
  startMs: number;
  /** When the scheduled close is due. */
  endsAtMs: number;
}

export class Settlement {
  readonly store: SettlementStore;
  private readonly chain: DaoChain;
  private readonly log: Logger;
  private readonly config: GatewayConfig;
  private readonly now: () => number;
  private readonly retry: RetryPolicy;
  private readonly publisher: RootPublisher;
  private readonly periodMs: number;
  /** Closes run one after another: this is the tail of that queue. */
  private closing: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private nextCloseMs = 0;
  private closeFailures = 0;
  private stopped = false;

  constructor(options: SettlementOptions) {
    this.chain = options.chain;
    this.log = options.log;
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.store = new SettlementStore(options.db);
    this.publisher = new RootPublisher(options.chain, this.store, options.log, options.hooks ?? {}, this.retry);
    if (!Number.isSafeInteger(options.config.epochSeconds) || options.config.epochSeconds <= 0) {
      throw new RangeError(`epochSeconds must be a positive integer, got ${options.config.epochSeconds}`);
    }
    this.periodMs = options.config.epochSeconds * 1000;
  }

  /** A disagreement with the chain that stopped publishing (for /healthz); undefined when all is well. */
  get problem(): string | undefined {
    return this.publisher.problem;
  }

  /** Why the last publish attempt failed, while retries go on; undefined after a success. */
  get publishError(): string | undefined {
    return this.publisher.lastError;
  }

  currentEpoch(): CurrentEpoch {
    const last = this.store.lastEpoch();
    const now = this.now();
    const startMs = last?.endMs ?? Math.floor(now / this.periodMs) * this.periodMs;
    return { epoch: (last?.epoch ?? 0) + 1, startMs, endsAtMs: this.nextCloseMs || this.nextBoundary(now) };
  }

  /**
   * Closes the epoch now: stores it as 'built' and starts publishing it. Resolves with the stored
   * epoch, or undefined when there was no new work (nothing is created and no gas spent).
   */
  closeEpoch(): Promise<EpochSummary | undefined> {
    const result = this.closing.then(() => this.closeNow());
    this.closing = result.catch(() => {});
    return result;
  }

  /** Reconciles and publishes what an earlier run left unpublished, then arms the epoch timer. */
  async start(): Promise<void> {
    this.publisher.kick();
    await this.publisher.settled();
    const now = this.now();
    const boundary = Math.floor(now / this.periodMs) * this.periodMs;
    const last = this.store.lastEpoch();
    // A boundary passed while the gateway was down: close at once rather than wait a whole period.
    this.arm(last && last.endMs < boundary ? boundary : this.nextBoundary(now));
  }

  /** Stops the timer and waits for an in-flight close and publish attempt to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.closing;
    await this.publisher.stop();
  }

  private nextBoundary(now: number): number {
    return (Math.floor(now / this.periodMs) + 1) * this.periodMs;
  }

  private arm(atMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.nextCloseMs = atMs;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, Math.min(atMs - this.now(), MAX_TIMER_MS)));
    this.timer.unref();
  }

  private onTimer(): void {
    if (this.now() < this.nextCloseMs) return this.arm(this.nextCloseMs);
    this.closeEpoch().then(
      () => {
        this.closeFailures = 0;
        this.arm(this.nextBoundary(this.now()));
      },
      (err: unknown) => {
        if (this.stopped) return;
        // The shares stay pending, so nothing is lost; retry soon rather than a whole period later.
        const delayMs = Math.min(this.retry.initialMs * 2 ** this.closeFailures++, this.retry.maxMs);
        this.log.warn({ retryInMs: delayMs }, `settlement: closing the epoch failed: ${describeChainError(err, this.chain)}`);
        this.arm(Math.min(this.now() + delayMs, this.nextBoundary(this.now())));
      },
    );
  }

  private async closeNow(): Promise<EpochSummary | undefined> {
    if (this.stopped) throw new Error('settlement is stopped');
    // Read at close time, so an executed governance vote changes the split of the next epoch.
    const bps = Number(await this.chain.publisher.governor.getFunction('parameters')(REINVESTMENT_BPS_PARAMETER));
    const reward = parseUnits(this.config.epochReward, this.chain.token.decimals);
    const endMs = this.now();
    // One IMMEDIATE transaction from reading the pending shares to storing the epoch: no share batch
    // and no other close can come in between.
    const built = this.store.transaction(() => {
      const last = this.store.lastEpoch();
      const epoch = buildEpoch({
        epoch: (last?.epoch ?? 0) + 1,
        pending: this.store.pendingWork(),
        previous: last ? this.store.leaves(last.epoch) : [],
        previousEndMs: last?.endMs,
        reward,
        reinvestmentBps: bps,
        endMs: Math.max(endMs, last?.endMs ?? 0),
      });
      if (epoch) this.store.insertEpoch(epoch.record, epoch.leaves);
      return epoch?.record;
    });
    if (!built) {
      this.log.debug('settlement: no new work since the last epoch; nothing to close');
      return undefined;
    }
    this.log.info(
      { epoch: built.epoch, root: built.root, epochWork: built.epochWork.toString(), totalWork: built.totalWork.toString(), reward: built.reward.toString(), reinvested: built.reinvested.toString(), reinvestmentBps: bps },
      `settlement: epoch ${built.epoch} closed`,
    );
    this.publisher.kick();
    return this.store.epoch(built.epoch);
  }
}

/** Creates the settlement, publishes what an earlier run left unpublished, and arms the epoch timer. */
export async function startSettlement(options: SettlementOptions): Promise<Settlement> {
  const settlement = new Settlement(options);
  await settlement.start();
  return settlement;
}
