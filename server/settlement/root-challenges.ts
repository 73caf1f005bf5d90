// Watches the challenge window of published roots: when each becomes final (the distributor's
// challengeEndsAt, fixed at publication) and which a guardian vetoed (RootVetoed events, with
// their reason). Every gateway runs one, leader or not: /api/epochs shows what it knows and
// /healthz reports a veto of the latest published root, which an operator must look into (the
// ledger built a root that someone found wrong, and the next root is built from the same ledger).
import type { Logger } from 'pino';
import type { DaoChain } from '../chain/open-chain.js';

/** A guardian's veto of one epoch's root. */
export interface RootVeto {
  epoch: number;
  reason: string;
  guardian: string;
  txHash: string;
}

/** How often the chain is asked for new vetoes. */
const DEFAULT_POLL_MS = 2_000;
/** Blocks per eth_getLogs call: public nodes refuse wide ranges. */
const LOG_RANGE_BLOCKS = 5_000;

export class RootChallenges {
  /** Vetoes seen so far, by epoch. */
  private readonly vetoes = new Map<number, RootVeto>();
  /** challengeEndsAt of published epochs, in ms: immutable once the root is on-chain. */
  private readonly endsAtMs = new Map<number, number>();
  private nextBlock: number;
  private latestEpoch = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  /** Why the last poll failed (cleared by a success): the gateway goes on, /healthz says it. */
  lastError: string | undefined;

  constructor(
    private readonly chain: DaoChain,
    private readonly log: Logger,
    private readonly pollMs = DEFAULT_POLL_MS,
  ) {
    this.nextBlock = chain.deployment.deployBlock;
  }

  /** Polls now and then every pollMs until stop(). */
  start(): Promise<void> {
    const tick = (): void => {
      this.timer = setTimeout(() => void this.poll().finally(tick), this.pollMs);
      this.timer.unref();
    };
    return this.poll().finally(tick);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  /** Reads new RootVetoed events and the latest published epoch; one poll at a time. */
  poll(): Promise<void> {
    this.polling ??= this.scan()
      .then(() => (this.lastError = undefined))
      .catch((err: unknown) => {
        this.lastError = `watching for root vetoes: ${(err as Error).message.slice(0, 200)}`;
        this.log.warn({ err }, 'settlement: could not read root vetoes; retrying');
      })
      .finally(() => (this.polling = undefined));
    return this.polling;
  }

  /** The veto of `epoch`'s root, if a guardian vetoed it (as far as the last poll saw). */
  vetoOf(epoch: number): RootVeto | undefined {
    return this.vetoes.get(epoch);
  }

  /** A veto of the latest published root: nothing supersedes it yet, so members cannot claim its rewards. */
  latestVeto(): RootVeto | undefined {
    return this.vetoes.get(this.latestEpoch);
  }

  /**
   * When `epoch`'s root is final unless vetoed before, in ms since the epoch (the chain's clock);
   * undefined when it is not on-chain or the chain did not answer.
   */
  async challengeEndsAtMs(epoch: number): Promise<number | undefined> {
    const known = this.endsAtMs.get(epoch);
    if (known !== undefined) return known;
    try {
      const seconds = (await this.chain.publisher.distributor.getFunction('challengeEndsAt')(epoch)) as bigint;
      if (seconds === 0n) return undefined;
      this.endsAtMs.set(epoch, Number(seconds) * 1000);
      return Number(seconds) * 1000;
    } catch (err) {
      this.log.debug({ err, epoch }, 'settlement: could not read challengeEndsAt');
      return undefined;
    }
  }

  private async scan(): Promise<void> {
    const distributor = this.chain.publisher.distributor;
    const head = await this.chain.provider.getBlockNumber();
    this.latestEpoch = Number((await distributor.getFunction('latestEpoch')()) as bigint);
    while (this.nextBlock <= head) {
      const to = Math.min(head, this.nextBlock + LOG_RANGE_BLOCKS - 1);
      const events = await distributor.queryFilter(distributor.filters.RootVetoed!(), this.nextBlock, to);
      for (const event of events) {
        if (!('args' in event)) continue;
        const veto: RootVeto = { epoch: Number(event.args.getValue('epoch') as bigint), reason: event.args.getValue('reason') as string, guardian: event.args.getValue('guardian') as string, txHash: event.transactionHash };
        if (this.vetoes.has(veto.epoch)) continue;
        this.vetoes.set(veto.epoch, veto);
        this.log.warn(veto, `settlement: the root of epoch ${veto.epoch} was VETOED by guardian ${veto.guardian}: ${veto.reason}; it will never be claimable, the next root supersedes it (check the ledger before it is published)`);
      }
      this.nextBlock = to + 1;
    }
  }
}
