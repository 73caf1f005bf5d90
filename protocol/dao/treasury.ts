// The Treasury's balance and history as everything reads them (the gateway's GET /api/treasury,
// the page, the tests): inflows are the reinvested amounts of the distributor's RootPublished
// events, payments the Treasury's Paid events. Like ProposalReader it does no I/O itself and reads
// logs chunk by chunk from the deployment block, keeping what it has read (logs never change).
import { ChunkedLogScan, LOG_CHUNK_BLOCKS } from './log-scan.js';
import type { ProposalCreatedLog } from './proposals.js';
import { SPENDING_CATEGORIES, type SpendingCategory } from './spending.js';

/** A decoded log as Contract.queryFilter returns it, with where it is in the chain. */
export interface TreasuryLog extends ProposalCreatedLog {
  readonly transactionHash: string;
  readonly index: number;
}

/** An epoch's reinvested share reaching the treasury. */
export interface TreasuryInflow {
  kind: 'inflow';
  epoch: bigint;
  amount: bigint;
  blockNumber: number;
  txHash: string;
}

/** A passed spending proposal paid out. */
export interface TreasuryPayment {
  kind: 'payment';
  proposalId: bigint;
  recipient: string;
  amount: bigint;
  category: SpendingCategory;
  blockNumber: number;
  txHash: string;
}

export type TreasuryEntry = TreasuryInflow | TreasuryPayment;

export interface TreasuryView {
  address: string;
  /** What the treasury holds now, in the token's smallest unit. */
  balance: bigint;
  /** Inflows and payments, oldest first. */
  history: TreasuryEntry[];
}

/** What the reader asks of the chain. */
export interface TreasuryReads {
  readonly address: string;
  /** Treasury.balance(). */
  balance(): Promise<bigint>;
  headBlock(): Promise<number>;
  /** The distributor's RootPublished logs in [fromBlock, toBlock]. */
  rootPublishedLogs(fromBlock: number, toBlock: number): Promise<ReadonlyArray<TreasuryLog>>;
  /** The treasury's Paid logs in [fromBlock, toBlock]. */
  paidLogs(fromBlock: number, toBlock: number): Promise<ReadonlyArray<TreasuryLog>>;
}

export class TreasuryReader {
  private readonly scan: ChunkedLogScan;
  private readonly history: { entry: TreasuryEntry; index: number }[] = [];
  /** Reads run one after another: two scans of the same blocks would list their logs twice. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly reads: TreasuryReads,
    deployBlock: number,
    chunkBlocks = LOG_CHUNK_BLOCKS,
  ) {
    this.scan = new ChunkedLogScan(deployBlock, chunkBlocks);
  }

  /** The balance now and every inflow and payment up to the chain's head. */
  read(): Promise<TreasuryView> {
    const next = this.tail.then(() => this.readNow(), () => this.readNow());
    this.tail = next.catch(() => undefined);
    return next;
  }

  private async readNow(): Promise<TreasuryView> {
    // The head is taken before the balance, so the history is never behind what the balance shows.
    const head = await this.reads.headBlock();
    await this.scan.scanTo(head, async (from, to) => {
      const [roots, paid] = await Promise.all([this.reads.rootPublishedLogs(from, to), this.reads.paidLogs(from, to)]);
      const found = [...roots.flatMap((log) => inflowOf(log)), ...paid.flatMap((log) => paymentOf(log))];
      this.history.push(...found.sort((a, b) => a.entry.blockNumber - b.entry.blockNumber || a.index - b.index));
    });
    return { address: this.reads.address, balance: await this.reads.balance(), history: this.history.map((h) => h.entry) };
  }
}

function inflowOf(log: TreasuryLog): { entry: TreasuryInflow; index: number }[] {
  if (!log.args) return []; // a log the ABI could not decode
  const amount = log.args.getValue('reinvested') as bigint;
  // An epoch that reinvested nothing moved nothing into the treasury.
  if (amount === 0n) return [];
  const entry: TreasuryInflow = { kind: 'inflow', epoch: log.args.getValue('epoch') as bigint, amount, blockNumber: log.blockNumber, txHash: log.transactionHash };
  return [{ entry, index: log.index }];
}

function paymentOf(log: TreasuryLog): { entry: TreasuryPayment; index: number }[] {
  if (!log.args) return [];
  const category = SPENDING_CATEGORIES[Number(log.args.getValue('category'))] ?? 'other';
  const entry: TreasuryPayment = {
    kind: 'payment',
    proposalId: log.args.getValue('proposalId') as bigint,
    recipient: log.args.getValue('recipient') as string,
    amount: log.args.getValue('amount') as bigint,
    category,
    blockNumber: log.blockNumber,
    txHash: log.transactionHash,
  };
  return [{ entry, index: log.index }];
}
