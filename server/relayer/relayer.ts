// The gateway's relayer: members sign votes, claims and proposals; the gateway checks them, keeps
// them in the ledger (relay_requests) and pays the gas to put them on-chain in batches. With a
// PostgreSQL ledger shared by several gateways, each accepts requests into the shared table and
// only the settlement leader submits them (and reconciles what was sent).
import type { ContractTransactionResponse, TransactionReceipt } from 'ethers';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DaoChain } from '../chain/open-chain.js';
import type { GatewayConfig } from '../config.js';
import { latestBlock, pendingNonce, receiptOf, revertReason, shortError } from './chain-errors.js';
import { executePassed } from './executor.js';
import { freshReads } from './fresh-reads.js';
import { RelayLimits } from './limits.js';
import { relayQueueGauge } from './queue-metrics.js';
import { acceptClaim, claimLane, type AcceptedClaim } from './claims.js';
import type { Body } from './input.js';
import type { Lane, RelayContext } from './lane.js';
import { ChainClock, atChainTime, type ProposalView } from '../../protocol/dao/proposals.js';
import { ProposalCatalog, TreasuryCatalog } from './proposal-list.js';
import { acceptProposal, proposalLane, type AcceptedProposal } from './proposals.js';
import type { Leadership } from '../settlement/leader.js';
import type { RelayKind, RelayRecord, RelayStorage } from './request-store.js';
import { acceptVote, voteLane, type AcceptedVote } from './votes.js';

/** Most requests GET /api/{votes,claims}/:address lists. */
const MAX_LISTED_REQUESTS = 200;

export interface RelayerOptions {
  chain: DaoChain;
  /** Where the requests are kept (Backend.relayStorage()); the relayer reads leaves from it too. */
  store: RelayStorage;
  /**
   * Whether this gateway submits: the settlement's leadership, so that the gateway that publishes
   * the roots also relays (a lone SQLite gateway always does).
   */
  leadership: Leadership;
  log: Logger;
  config: GatewayConfig;
  /** Where the relayer's limit metrics go (the gateway's registry). */
  registry?: Registry;
}

export class Relayer {
  readonly store: RelayStorage;
  readonly leadership: Leadership;
  readonly proposals: ProposalCatalog;
  /** The treasury's balance and history (GET /api/treasury). */
  readonly treasury: TreasuryCatalog;
  readonly limits: RelayLimits;
  /** GET /api/proposals' answer for one block: requests within a block share one read. */
  private proposalCache: { block: number; list: Promise<ProposalView[]> } | undefined;
  /** Chain time between blocks: what a listed proposal's time-dependent state is derived from. */
  private readonly clock = new ChainClock();
  private readonly ctx: RelayContext;
  private readonly lanes: Lane[];
  private readonly byKind: Map<RelayKind, Lane>;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** Rounds run one after another: the timer's and flush()'s never overlap. */
  private tail: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: RelayerOptions) {
    const { chain, log, config } = options;
    this.store = options.store;
    this.leadership = options.leadership;
    this.limits = new RelayLimits(config, options.registry);
    if (options.registry) relayQueueGauge(this.store, options.registry, log);
    this.ctx = { chain, store: this.store, reads: freshReads(chain.provider, chain.relayer), limits: this.limits };
    this.log = log.child({ component: 'relayer' });
    this.intervalMs = config.relayIntervalMs;
    this.lanes = [voteLane(this.ctx), claimLane(this.ctx), proposalLane(this.ctx)];
    this.byKind = new Map(this.lanes.map((lane) => [lane.kind, lane]));
    this.proposals = new ProposalCatalog(this.ctx.reads.governor, chain.provider, chain.deployment.deployBlock);
    this.treasury = new TreasuryCatalog(this.ctx.reads.treasury, this.ctx.reads.distributor, chain.provider, chain.deployment.deployBlock);
  }

  /** The address that pays the gas. */
  get address(): string {
    return this.options.chain.relayer.address;
  }

  submitVote(body: Body): Promise<AcceptedVote> {
    return acceptVote(this.ctx, body);
  }

  submitClaim(body: Body): Promise<AcceptedClaim> {
    return acceptClaim(this.ctx, body);
  }

  submitProposal(body: Body): Promise<AcceptedProposal> {
    return acceptProposal(this.ctx, body);
  }

  /**
   * The proposals as of the node's latest block, read once per block however many ask, with each
   * state as of chain time now (the block's timestamp plus the wall time since it was seen): on a
   * chain that mines only on transactions a vote that has ended is not left `active`.
   */
  async listProposals(): Promise<ProposalView[]> {
    const head = await latestBlock(this.options.chain.provider);
    this.clock.observe(Number(head.timestamp));
    return atChainTime(await this.proposalsAt(head.number), this.clock.nowSeconds());
  }

  private proposalsAt(block: number): Promise<ProposalView[]> {
    if (this.proposalCache?.block === block) return this.proposalCache.list;
    const list = this.proposals.list();
    const entry = { block, list };
    this.proposalCache = entry;
    // A failed read is not kept: the next request tries again.
    list.catch(() => {
      if (this.proposalCache === entry) this.proposalCache = undefined;
    });
    return list;
  }

  /** `account`'s relayed requests of `kind`, newest first. */
  requests(kind: RelayKind, account: string): Promise<RelayRecord[]> {
    return this.store.forAccount(kind, account, MAX_LISTED_REQUESTS);
  }

  /** Reconciles what a crash left 'sent', then submits everything queued now. Never rejects. */
  flush(): Promise<void> {
    const run = this.tail.then(() => this.round()).catch((err: unknown) => this.log.error({ err }, 'relayer round failed'));
    this.tail = run;
    return run;
  }

  /** Stops the timer and waits for the round in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tail;
  }

  /**
   * @internal startRelayer's part: settles what a previous run left 'sent', then arms the timer.
   * The first batch waits for the timer, so a slow chain never holds up the gateway's start.
   */
  async start(): Promise<void> {
    const run = this.tail.then(() => (this.leadership.isLeader ? this.reconcile() : undefined)).catch((err: unknown) => {
      this.log.warn({ err: shortError(err) }, 'relayer could not check its sent transactions at start; retrying each round');
    });
    this.tail = run;
    await run;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.flush().then(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    // Followers only accept requests; the leader submits them (a new leader picks up what an
    // earlier one left 'sent' through reconcile below).
    if (!this.leadership.isLeader) return;
    try {
      await this.reconcile();
      const problem = this.limits.problem();
      if (problem) {
        this.log.warn(problem);
        return;
      }
    } catch (err) {
      this.log.warn({ err: shortError(err) }, 'relayer could not check its sent transactions; retrying next round');
      return;
    }
    for (const lane of this.lanes) {
      if (!this.leadership.isLeader || this.limits.pausedForSeconds() !== undefined) return;
      try {
        await this.drain(lane);
      } catch (err) {
        this.log.warn({ kind: lane.kind, err: shortError(err) }, 'relaying stopped for this round; the requests stay queued for the next');
      }
    }
    // After the members' requests: a vote queued this round still counts before anything executes.
    if (!this.leadership.isLeader || this.limits.pausedForSeconds() !== undefined) return;
    try {
      await executePassed({
        ...this.ctx,
        log: this.log,
        isLeader: () => this.leadership.isLeader,
        // The API's per-block read: a round in a block already listed costs no governor calls.
        proposals: async () => this.proposalsAt((await latestBlock(this.options.chain.provider)).number),
      });
    } catch (err) {
      this.log.warn({ err: shortError(err) }, 'executing passed proposals stopped for this round; retrying next round');
    }
  }

  /** Submits every queued request of the lane, a batch at a time; throws (leaving them queued) on an RPC failure. */
  private async drain(lane: Lane): Promise<void> {
    while (this.leadership.isLeader) {
      const records = await this.store.queued(lane.kind, lane.maxBatch);
      if (records.length === 0) return;
      const valid: RelayRecord[] = [];
      for (const record of records) if ((await this.recheck(lane, record, lane.doneIsExact)) === 'valid') valid.push(record);
      if (valid.length > 0) await this.submit(lane, valid);
    }
  }

  private async submit(lane: Lane, records: RelayRecord[]): Promise<void> {
    const chain = this.options.chain;
    let tx: ContractTransactionResponse;
    try {
      tx = await chain.relayer.sender.send(async () => lane.send(records, { nonce: await pendingNonce(chain.provider, chain.relayer.address) }));
    } catch (err) {
      const reason = revertReason(err, lane.iface);
      if (reason === undefined) throw err;
      // The chain moved since the checks: find the requests at fault; the others stay queued.
      this.log.warn({ kind: lane.kind, items: records.length, reason }, 'relay batch refused as a whole; checking each request again');
      for (const record of await this.isolate(lane, records, reason)) await this.submit(lane, [record]);
      return;
    }
    await this.store.markSent(
      records.map((r) => r.id),
      tx.hash,
    );
    const blameless = await this.record(lane, records, await receiptOf(tx));
    // Reverted with none of them at fault (out of gas, say): one at a time, so the round always
    // makes progress (a single request that reverts with no reason of its own is failed).
    for (const record of blameless) await this.submit(lane, [record]);
  }

  /**
   * Runs a queued or sent request's check against the chain as it is now. A refused request that
   * took effect all the same (done by another transaction: a member's own claim, a copied ballot)
   * is confirmed, with the chain's reason kept as `skipped`, when `confirmIfDone`; otherwise, or
   * when it took no effect, it is failed with that reason. The rest are 'valid' and left as they
   * are. Throws (changing nothing) when the node does not answer.
   */
  private async recheck(lane: Lane, record: RelayRecord, confirmIfDone: boolean): Promise<'valid' | 'done' | 'failed'> {
    try {
      await lane.check(record);
      return 'valid';
    } catch (err) {
      const reason = revertReason(err, lane.iface);
      if (reason === undefined) throw err;
      if (confirmIfDone && (await lane.tookEffect(record))) {
        await this.store.markConfirmed([record.id], { skipped: `already done: ${reason}` });
        this.log.info({ kind: lane.kind, id: record.id, account: record.account, reason }, 'a relay request was already done by another transaction');
        return 'done';
      }
      await this.store.markFailed([record.id], reason);
      this.log.info({ kind: lane.kind, id: record.id, account: record.account, reason }, 'the chain refuses a relay request');
      return 'failed';
    }
  }

  /**
   * After a batch was refused as a whole (`reason`), checks each request again: the ones at fault
   * are failed (or confirmed when already done), the others go back to the queue. Returns the
   * requests still valid when none was at fault, for the caller to send one at a time; a single
   * such request is failed with the batch's reason, which is then its own.
   */
  private async isolate(lane: Lane, records: readonly RelayRecord[], reason: string): Promise<RelayRecord[]> {
    const valid: RelayRecord[] = [];
    let unchecked = false;
    for (const record of records) {
      let verdict: 'valid' | 'done' | 'failed' = 'valid';
      try {
        // Done counts as confirmed for every lane here: the request may have taken effect through
        // another transaction, say one a deposed leader sent for the same request just before.
        verdict = await this.recheck(lane, record, true);
      } catch (err) {
        // The node did not answer: nothing is known against it, so it goes back to the queue.
        unchecked = true;
        this.log.warn({ kind: lane.kind, id: record.id, err: shortError(err) }, 'could not check a relay request again; it goes back to the queue');
      }
      if (verdict === 'valid') valid.push(record);
    }
    if (valid.length === records.length && !unchecked) {
      if (valid.length === 1) {
        await this.store.markFailed([valid[0]!.id], reason);
        this.log.info({ kind: lane.kind, id: valid[0]!.id, reason }, 'the chain refuses a relay request');
        return [];
      }
      await this.store.requeue(valid.map((r) => r.id));
      return valid;
    }
    // Some were at fault (or could not be checked): the rest wait for the next batch.
    await this.store.requeue(valid.map((r) => r.id));
    return [];
  }

  /** Records a mined batch; returns what isolate() found blameless in a reverted one. */
  private async record(lane: Lane, records: readonly RelayRecord[], receipt: TransactionReceipt): Promise<RelayRecord[]> {
    const ids = records.map((r) => r.id);
    // Reverted or not, the gas is paid: it counts against the budget.
    this.limits.spent(receipt.fee);
    if (receipt.status !== 1) {
      this.log.warn({ kind: lane.kind, items: ids.length, txHash: receipt.hash, gasUsed: receipt.gasUsed.toString() }, 'relayed batch reverted; checking each request again');
      return this.isolate(lane, records, `transaction ${receipt.hash} reverted`);
    }
    const results = lane.results?.(receipt, records);
    for (const id of ids) await this.store.markConfirmed([id], results?.get(id));
    this.log.info(
      {
        kind: lane.kind,
        items: ids.length,
        txHash: receipt.hash,
        block: receipt.blockNumber,
        gasUsed: receipt.gasUsed.toString(),
        gasPerItem: (receipt.gasUsed / BigInt(ids.length)).toString(),
      },
      `relayed ${ids.length} ${lane.kind}${ids.length === 1 ? '' : 's'} in one transaction`,
    );
    return [];
  }

  /**
   * Settles requests left 'sent' (a crash, or a receipt that took too long): by the receipt when
   * the transaction was mined; when the node no longer knows it, by whether the request took
   * effect (confirmed) or not (queued again). A transaction still pending is left for later.
   */
  private async reconcile(): Promise<void> {
    // A transaction carries one kind of request; grouping by kind too keeps a corrupt row from
    // being judged by another kind's rules.
    const byTx = new Map<string, RelayRecord[]>();
    for (const record of await this.store.sent()) {
      const key = `${record.kind} ${record.txHash ?? ''}`;
      byTx.set(key, [...(byTx.get(key) ?? []), record]);
    }
    const provider = this.options.chain.provider;
    for (const records of byTx.values()) {
      const hash = records[0]!.txHash ?? '';
      const lane = this.byKind.get(records[0]!.kind)!;
      const receipt = hash ? await provider.getTransactionReceipt(hash) : null;
      if (receipt) {
        await this.record(lane, records, receipt);
        continue;
      }
      if (hash && (await provider.getTransaction(hash))) continue;
      for (const record of records) {
        const effective = await lane.tookEffect(record);
        if (effective) await this.store.markConfirmed([record.id]);
        else await this.store.requeue([record.id]);
        this.log.info({ kind: record.kind, id: record.id, txHash: hash, status: effective ? 'confirmed' : 'queued' }, 'reconciled a relay request whose transaction is gone');
      }
    }
  }
}

/** Starts the relayer: reconciles what a previous run left 'sent', then submits what is queued every relayIntervalMs. */
export async function startRelayer(options: RelayerOptions): Promise<Relayer> {
  const relayer = new Relayer(options);
  await relayer.start();
  return relayer;
}
