// Posts built epoch roots on-chain, in epoch order, exactly once each. Every attempt first asks the
// chain what it already holds, so a gateway that crashed after sending (or while a transaction was
// in flight) records the root it finds rather than sending a second one; the contract refuses a
// second root for an epoch in any case.
import { ZeroHash, isCallException, type ContractTransactionResponse, type TransactionReceipt } from 'ethers';
import type { Logger } from 'pino';
import { backoffCeilingMs, type BackoffPolicy } from '../../protocol/backoff.js';
import type { DaoChain } from '../chain/open-chain.js';
import type { EpochRecord, SettlementStorage } from './settlement-store.js';

/** What the settlement reports as it goes: epochs closed (with the close's duration), failed, published. */
export interface SettlementObserver {
  closed(epoch: number, durationMs: number): void;
  closeFailed(): void;
  published(epoch: number): void;
}

export interface SettlementHooks {
  /** Called once the root transaction of `epoch` is sent (its hash known), before it is recorded. */
  afterRootSent?(epoch: number, txHash: string): void | Promise<void>;
}

/** Wait `initialMs` after the first failure, doubled after each further one up to `maxMs`. */
export type RetryPolicy = BackoffPolicy;

/** How long to wait for a transaction this gateway sent earlier and the node still holds. */
const PENDING_TX_WAIT_MS = 120_000;
/** How often to look again while a transaction of the publisher's key waits to be mined. */
const PENDING_POLL_MS = 1_000;

export class RootPublisher {
  /** A disagreement with the chain that needs an operator; publishing has stopped. */
  problem: string | undefined;
  /** Why the last attempt failed (cleared by a success); attempts go on with backoff. */
  lastError: string | undefined;
  private stopped = false;
  /** False while this gateway is not the settlement leader: it publishes nothing then. */
  private active = true;
  private kicked = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Resolved when the loop goes idle or an attempt fails: what start() waits for. */
  private settledWaiters: (() => void)[] = [];
  private signalStop!: () => void;
  /** Resolves (with undefined) when stop() is called: what in-flight waits race against. */
  private readonly stopSignal = new Promise<undefined>((resolve) => (this.signalStop = () => resolve(undefined)));

  constructor(
    private readonly chain: DaoChain,
    private readonly store: SettlementStorage,
    private readonly log: Logger,
    private readonly hooks: SettlementHooks,
    private readonly retry: RetryPolicy,
    private readonly observer?: SettlementObserver,
  ) {}

  /** Publishes whatever is unpublished, now (cutting short a backoff wait). */
  kick(): void {
    if (this.stopped || this.problem || !this.active) return;
    this.kicked = true;
    this.wake?.();
    if (this.running) return;
    const run = this.loop().catch((err: unknown) => this.log.error({ err }, 'settlement: the publish loop failed'));
    this.running = run;
    void run.finally(() => {
      if (this.running === run) this.running = undefined;
      this.settle();
      // A kick that came after the loop's last look at the store.
      if (this.kicked) this.kick();
    });
  }

  /** Resolves once every unpublished epoch is published, or the first attempt fails (retries go on). */
  settled(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /**
   * Stops publishing (leadership lost): the loop ends after the attempt in flight, which is safe to
   * finish (the chain refuses a second root, and the next leader reconciles before sending).
   */
  pause(): void {
    this.active = false;
    this.wake?.();
  }

  /** Publishing may go on (leadership gained); call kick() to start. */
  resume(): void {
    this.active = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    this.wake?.();
    await this.running;
    this.settle();
  }

  private settle(): void {
    for (const resolve of this.settledWaiters.splice(0)) resolve();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped && !this.problem && this.active) {
      this.kicked = false;
      let next: EpochRecord | undefined;
      try {
        next = (await this.store.unpublished())[0];
        if (!next) return;
        await this.publish(next);
        failures = 0;
        this.lastError = undefined;
      } catch (err) {
        if (this.stopped) return;
        const delayMs = backoffCeilingMs(failures++, this.retry);
        this.lastError = next ? `epoch ${next.epoch}: ${describeChainError(err, this.chain)}` : `reading the unpublished epochs: ${describeChainError(err, this.chain)}`;
        this.log.warn({ epoch: next?.epoch, retryInMs: delayMs }, `settlement: publishing failed, retrying: ${this.lastError}`);
        this.settle();
        await this.sleep(delayMs);
      }
    }
  }

  /** Waits `ms`, or less when kicked or stopped. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  /** One attempt for `epoch`: reconcile with the chain, then send only when the chain lacks the root. */
  private async publish(epoch: EpochRecord): Promise<void> {
    const n = epoch.epoch;
    const distributor = this.chain.publisher.distributor;
    // latestEpoch first, the root second: both only move forward, so a root transaction mined
    // between the two reads shows up as a root (published), never as "the chain moved past this
    // epoch without its root" (which would stop publishing for good).
    const latest = (await distributor.getFunction('latestEpoch')()) as bigint;
    const onChain = (await distributor.getFunction('epochs')(n)) as { root: string; publishedAt: bigint };
    if (onChain.root === epoch.root) return this.recordFromChain(epoch, Number(onChain.publishedAt) * 1000);
    if (onChain.root !== ZeroHash) {
      return this.fail(`epoch ${n}: the chain holds root ${onChain.root} but this ledger built ${epoch.root}; a root is never replaced, so publishing has stopped (an operator must reconcile the ledger with the chain)`);
    }
    if (latest >= BigInt(n)) {
      return this.fail(`epoch ${n} has no root on-chain, but the chain is already at epoch ${latest}: the contract can never take epoch ${n}, so publishing has stopped (another publisher is posting roots?)`);
    }
    if (epoch.status === 'sent' && epoch.txHash) {
      const earlier = await this.chain.provider.getTransaction(epoch.txHash);
      if (earlier && earlier.blockNumber === null) {
        // Still in the node's pool: wait for it instead of sending a second one; the next attempt
        // finds its root (or, if it reverted or was dropped, sends anew).
        this.log.info({ epoch: n, txHash: epoch.txHash }, 'settlement: waiting for the root transaction sent before');
        await this.untilStopped(this.chain.provider.waitForTransaction(epoch.txHash, 1, PENDING_TX_WAIT_MS));
        return;
      }
      this.log.warn({ epoch: n, txHash: epoch.txHash, mined: earlier !== null }, 'settlement: the root transaction sent before did not publish the root; sending again');
    } else if (epoch.status === 'built') {
      // After a crash between sending and recording, the root may be in a transaction the node
      // still holds unmined: sending another would only revert (EpochAlreadyPublished) and cost
      // gas. While any transaction of this key is pending, look again after a while.
      const address = this.chain.publisher.address;
      const [pending, mined] = await Promise.all([
        this.chain.provider.getTransactionCount(address, 'pending'),
        this.chain.provider.getTransactionCount(address, 'latest'),
      ]);
      if (pending > mined) {
        this.log.info({ epoch: n, pending: pending - mined }, 'settlement: a transaction of the publisher key is pending; waiting for it before sending the root');
        await this.untilStopped(new Promise((resolve) => setTimeout(resolve, PENDING_POLL_MS).unref()));
        return;
      }
    }

    // The audit bundle's hash goes on-chain with the root; a store that builds no bundle commits to none (zero).
    const bundleHash = (await this.store.bundleHash?.(n)) ?? ZeroHash;
    const tx = await this.chain.publisher.sender.send(
      () => distributor.getFunction('publishRoot')(n, epoch.root, epoch.totalWork, epoch.reward, epoch.reinvested, bundleHash) as Promise<ContractTransactionResponse>,
    );
    this.log.info({ epoch: n, txHash: tx.hash, root: epoch.root }, 'settlement: root transaction sent');
    await this.hooks.afterRootSent?.(n, tx.hash);
    await this.store.markSent(n, tx.hash);
    const receipt = await this.untilStopped(tx.wait(1));
    if (!receipt) return;
    await this.recordReceipt(n, receipt);
  }

  /** Resolves with `promise`, or with undefined as soon as the publisher is stopped. */
  private untilStopped<T>(promise: Promise<T>): Promise<T | undefined> {
    // Errors after a stop are no longer anyone's concern; without this they would be unhandled.
    promise.catch(() => {});
    return Promise.race([promise, this.stopSignal]);
  }

  private async recordReceipt(n: number, receipt: TransactionReceipt): Promise<void> {
    const block = await this.chain.provider.getBlock(receipt.blockNumber);
    const atMs = block ? block.timestamp * 1000 : Date.now();
    await this.store.markPublished(n, receipt.hash, receipt.blockNumber, atMs);
    this.log.info({ epoch: n, txHash: receipt.hash, block: receipt.blockNumber }, 'settlement: root published');
    this.observer?.published(n);
  }

  /** The chain holds our root already (sent before a crash, or by a send whose receipt we missed). */
  private async recordFromChain(epoch: EpochRecord, publishedAtMs: number): Promise<void> {
    const distributor = this.chain.publisher.distributor;
    const filter = distributor.filters['RootPublished']!(epoch.epoch);
    const events = await distributor.queryFilter(filter, this.chain.deployment.deployBlock);
    const event = events[0];
    if (!event) throw new Error(`epoch ${epoch.epoch} has our root on-chain but no RootPublished event was found from block ${this.chain.deployment.deployBlock}`);
    await this.store.markPublished(epoch.epoch, event.transactionHash, event.blockNumber, publishedAtMs);
    this.log.info({ epoch: epoch.epoch, txHash: event.transactionHash, block: event.blockNumber }, 'settlement: root found on-chain, recorded as published');
    this.observer?.published(epoch.epoch);
  }

  private fail(problem: string): void {
    this.problem = problem;
    this.log.error(`settlement: ${problem}`);
  }
}

/** A readable reason, with custom errors decoded (the distributor's own, or the token's bubbling up). */
export function describeChainError(err: unknown, chain: DaoChain): string {
  if (isCallException(err)) {
    if (err.revert) return `reverted: ${err.revert.name}(${Array.from(err.revert.args, String).join(', ')})`;
    if (err.data) {
      for (const contract of [chain.publisher.distributor, chain.publisher.token, chain.publisher.governor]) {
        const parsed = contract.interface.parseError(err.data);
        if (parsed) return `reverted: ${parsed.name}(${parsed.args.toArray().map(String).join(', ')})`;
      }
    }
    return `reverted: ${err.shortMessage}`;
  }
  if (err instanceof Error) return (err as Error & { shortMessage?: string }).shortMessage ?? err.message;
  return String(err);
}
