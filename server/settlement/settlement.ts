// Epoch settlement (DESIGN.md, "How a share flows", item 5): every `epochSeconds` the gateway
// closes an epoch over the shares recorded since the last one, builds the cumulative reward tree,
// stores it, and posts its root on-chain. The ledger row is written before any transaction, so a
// crash at any point leaves either nothing (the shares roll into the next close) or a stored epoch
// that the next start reconciles with the chain.
//
// The epochs live in the ledger's database (server/backend/): the SQLite file (this gateway alone,
// always the leader) or a PostgreSQL database shared by several gateways, of which only the leader
// (leader.ts) closes and publishes; every gateway serves the epochs and proofs from the shared tables.
import { parseUnits } from 'ethers';
import type { Logger } from 'pino';
import { backoffCeilingMs } from '../../protocol/backoff.js';
import type { CurrentEpoch } from '../../protocol/api.js';
import { REINVESTMENT_BPS_PARAMETER } from '../../protocol/dao/index.js';
import type { DaoChain } from '../chain/open-chain.js';
import type { GatewayConfig } from '../config.js';
import { buildEpoch } from './epoch-builder.js';
import type { Leadership } from './leader.js';
import { RootChallenges } from './root-challenges.js';
import { RootPublisher, describeChainError, type RetryPolicy, type SettlementHooks, type SettlementObserver } from './root-publisher.js';
import type { EpochRecord, EpochSummary, SettlementStorage } from './settlement-store.js';

export type { SettlementHooks, SettlementObserver } from './root-publisher.js';

/** setTimeout fires at once for delays over 2^31 - 1 ms (~24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DEFAULT_RETRY: RetryPolicy = { initialMs: 1000, maxMs: 60_000 };

export interface SettlementOptions {
  chain: DaoChain;
  /** Where the epochs are kept (Backend.settlementStore()). */
  store: SettlementStorage;
  /** Whether this gateway settles (Backend.leadership()), not yet started: the settlement starts and stops it. */
  leadership: Leadership;
  log: Logger;
  config: GatewayConfig;
  hooks?: SettlementHooks;
  now?: () => number;
  /** Backoff of failed publishes and failed scheduled closes (tests shorten it). */
  retry?: Partial<RetryPolicy>;
  /** How often the chain is asked for root vetoes (default 2 s). */
  challengePollMs?: number;
  /** Told of each close and publish (the gateway's Prometheus metrics). */
  observer?: SettlementObserver;
}


/** closeEpoch() on a gateway that is not the settlement leader. */
export class NotLeaderError extends Error {
  constructor(instanceId: number) {
    super(`this gateway (instance ${instanceId}) is not the settlement leader: the leader among the gateways sharing this ledger closes and publishes epochs`);
    this.name = 'NotLeaderError';
  }
}

export class Settlement {
  readonly store: SettlementStorage;
  /** Whether this gateway closes and publishes now; the relayer follows it too. */
  readonly leadership: Leadership;
  /** When each published root becomes final, and the guardians' vetoes (every gateway watches). */
  readonly challenges: RootChallenges;
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
  private readonly observer: SettlementObserver | undefined;
  private closeError: string | undefined;
  private stopped = false;
  /** The tail of what becoming the leader started (reconciling, then arming the timer). */
  private leading: Promise<void> = Promise.resolve();
  private unsubscribe: () => void = () => {};

  constructor(options: SettlementOptions) {
    this.chain = options.chain;
    this.log = options.log;
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.store = options.store;
    this.leadership = options.leadership;
    this.observer = options.observer;
    this.publisher = new RootPublisher(options.chain, this.store, options.log, options.hooks ?? {}, this.retry, options.observer);
    this.challenges = new RootChallenges(options.chain, options.log, options.challengePollMs);
    // Where leadership is elected, nothing is published before this gateway becomes the leader.
    if (!this.leadership.isLeader) this.publisher.pause();
    if (!Number.isSafeInteger(options.config.epochSeconds) || options.config.epochSeconds <= 0) {
      throw new RangeError(`epochSeconds must be a positive integer, got ${options.config.epochSeconds}`);
    }
    this.periodMs = options.config.epochSeconds * 1000;
  }

  /** A disagreement with the chain that stopped publishing (for /healthz); undefined when all is well. */
  get problem(): string | undefined {
    return this.publisher.problem;
  }

  /**
   * Why the last publish attempt failed, while retries go on, or else why the last close failed
   * (the chain could not be read); undefined once they succeed.
   */
  get publishError(): string | undefined {
    return this.publisher.lastError ?? this.closeError;
  }

  get isLeader(): boolean {
    return this.leadership.isLeader;
  }

  /** The open epoch as the timer sees it; the HTTP API adds whether work is pending. */
  async currentEpoch(): Promise<Pick<CurrentEpoch, 'epoch' | 'startMs' | 'endsAtMs'>> {
    const last = await this.store.lastEpoch();
    const now = this.now();
    const startMs = last?.endMs ?? Math.floor(now / this.periodMs) * this.periodMs;
    return { epoch: (last?.epoch ?? 0) + 1, startMs, endsAtMs: this.nextCloseMs || this.nextBoundary(now) };
  }

  /**
   * Closes the epoch now: stores it as 'built' and starts publishing it. Resolves with the stored
   * epoch, or undefined when there was no new work (nothing is created and no gas spent).
   * Rejects with NotLeaderError on a gateway that is not the settlement leader.
   */
  closeEpoch(): Promise<EpochSummary | undefined> {
    if (!this.leadership.isLeader) return Promise.reject(new NotLeaderError(this.config.instanceId));
    const result = this.closing.then(() => this.closeNow());
    this.closing = result.then(
      () => (this.closeError = undefined),
      (err: unknown) => {
        // Nothing is lost (the shares stay pending), but /healthz must show that closes are failing.
        if (!this.stopped && !(err instanceof NotLeaderError)) {
          this.closeError = `closing the epoch failed: ${describeChainError(err, this.chain)}`;
          this.observer?.closeFailed();
        }
      },
    );
    return result;
  }

  /**
   * Tries for leadership once. Then, as leader: reconciles and publishes what an earlier run left
   * unpublished and arms the epoch timer.
   */
  async start(): Promise<void> {
    await this.challenges.start();
    await this.leadership.start();
    // Subscribed after the first try, then told where it stands: one start of lead() either way.
    this.unsubscribe = this.leadership.onChange((leader) => this.onLeadership(leader));
    if (this.leadership.isLeader) this.onLeadership(true);
    await this.leading;
  }

  /** Stops the timer, waits for an in-flight close and publish attempt, and gives up leadership. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unsubscribe();
    await this.challenges.stop();
    await this.closing;
    // The publisher first: lead() may be waiting for it to settle.
    await this.publisher.stop();
    await this.leading;
    await this.leadership.stop();
  }

  private onLeadership(leader: boolean): void {
    if (this.stopped) return;
    if (leader) {
      this.leading = this.leading.then(() => this.lead()).catch((err: unknown) => this.log.error({ err }, 'settlement: taking up leadership failed'));
      return;
    }
    // Lost: no timer, no publishing. A close or a publish in flight finishes safely (closes are
    // serialized in the database; the chain takes one root per epoch and the next leader
    // reconciles with it before sending anything).
    clearTimeout(this.timer);
    this.nextCloseMs = 0;
    this.publisher.pause();
  }

  private async lead(): Promise<void> {
    if (this.stopped || !this.leadership.isLeader) return;
    this.publisher.resume();
    this.publisher.kick();
    await this.publisher.settled();
    if (this.stopped || !this.leadership.isLeader) return;
    const now = this.now();
    const boundary = Math.floor(now / this.periodMs) * this.periodMs;
    let last: EpochRecord | undefined;
    try {
      last = await this.store.lastEpoch();
    } catch (err) {
      this.log.warn({ err }, 'settlement: could not read the last epoch; the timer closes at the next boundary');
    }
    // A boundary passed while no gateway led: close at once rather than wait a whole period.
    this.arm(last && last.endMs < boundary ? boundary : this.nextBoundary(now));
  }

  private nextBoundary(now: number): number {
    return (Math.floor(now / this.periodMs) + 1) * this.periodMs;
  }

  private arm(atMs: number): void {
    if (this.stopped || !this.leadership.isLeader) return;
    clearTimeout(this.timer);
    this.nextCloseMs = atMs;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, Math.min(atMs - this.now(), MAX_TIMER_MS)));
    this.timer.unref();
  }

  private onTimer(): void {
    if (!this.leadership.isLeader) return;
    if (this.now() < this.nextCloseMs) return this.arm(this.nextCloseMs);
    this.closeEpoch().then(
      () => {
        this.closeFailures = 0;
        this.arm(this.nextBoundary(this.now()));
      },
      (err: unknown) => {
        if (this.stopped || err instanceof NotLeaderError) return;
        // The shares stay pending, so nothing is lost; retry soon rather than a whole period later.
        const delayMs = backoffCeilingMs(this.closeFailures++, this.retry);
        this.log.warn({ retryInMs: delayMs }, `settlement: closing the epoch failed: ${describeChainError(err, this.chain)}`);
        this.arm(Math.min(this.now() + delayMs, this.nextBoundary(this.now())));
      },
    );
  }

  private async closeNow(): Promise<EpochSummary | undefined> {
    if (this.stopped) throw new Error('settlement is stopped');
    if (!this.leadership.isLeader) throw new NotLeaderError(this.config.instanceId);
    // Read at close time, so an executed governance vote changes the split of the next epoch.
    const bps = Number(await this.chain.publisher.governor.getFunction('parameters')(REINVESTMENT_BPS_PARAMETER));
    const reward = parseUnits(this.config.epochReward, this.chain.token.decimals);
    const endMs = this.now();
    const startedMs = performance.now();
    // The store reads a snapshot of the pending shares, the tree is built in a worker thread, and the
    // epoch row commits last: a share committed after the read stays pending for the next epoch;
    // none is lost or counted twice.
    const built = await this.store.close((input) =>
      buildEpoch({ ...input, reward, reinvestmentBps: bps, endMs: Math.max(endMs, input.previousEndMs ?? 0) }),
    );
    if (!built) {
      this.log.debug('settlement: no new work since the last epoch; nothing to close');
      return undefined;
    }
    this.log.info(
      { epoch: built.epoch, root: built.root, epochWork: built.epochWork.toString(), totalWork: built.totalWork.toString(), reward: built.reward.toString(), reinvested: built.reinvested.toString(), reinvestmentBps: bps },
      `settlement: epoch ${built.epoch} closed`,
    );
    this.observer?.closed(built.epoch, performance.now() - startedMs);
    this.publisher.kick();
    return this.store.epoch(built.epoch);
  }
}

/**
 * Creates the settlement on the store and leadership of the ledger's backend; as the leader,
 * publishes what an earlier run left unpublished and arms the epoch timer.
 */
export async function startSettlement(options: SettlementOptions): Promise<Settlement> {
  const settlement = new Settlement(options);
  try {
    await settlement.start();
  } catch (err) {
    // A failed start must not leave the leader lock's connection open.
    await settlement.stop().catch(() => {});
    throw err;
  }
  return settlement;
}
