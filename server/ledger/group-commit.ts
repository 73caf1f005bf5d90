/**
 * Group commit: callers submit items one at a time and get a promise each; the items queued
 * during one turn of the event loop go to the database together in ONE transaction (the SQLite
 * ledger's writer thread, or a PostgreSQL round trip). The cost of a durable commit (an fsync) is
 * then paid once per batch instead of once per item, while every promise still settles only after
 * its own item's fate is known.
 *
 * One batch is in flight at a time: while it commits, new items queue, and the next batch takes
 * them all (up to maxBatch). The slower the commit, the larger the batches, so throughput follows
 * the database's commit rate instead of being capped by one commit per item. Batches commit in
 * submission order, so a later record of the same block never lands before an earlier one.
 *
 * The class knows nothing about databases: `commitBatch` does the work.
 *  - If it rejects, the whole batch failed (the implementation must have rolled back, so nothing
 *    is half-written): every promise of the batch rejects with that error. Later batches run as
 *    usual, so a transient failure (lock timeout, disk full) does not wedge the queue.
 *  - Otherwise it returns one outcome per item, in order. An item-level failure (a record the
 *    database refused on its own, such as a CHECK violation) rejects only that item's promise.
 */

export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitStats {
  /** Transactions committed (batches whose commitBatch returned). */
  transactions: number;
  /** Batches that threw, all of whose items were rejected. */
  failedTransactions: number;
  /** Items whose promise resolved. */
  itemsCommitted: number;
  /** Items rejected, one by one or with a failed batch. */
  itemsRejected: number;
  largestBatch: number;
  lastBatchSize: number;
  /** Wall time of the last commitBatch call, fsync included. */
  lastBatchMs: number;
}

export interface GroupCommitOptions<T, R> {
  commitBatch(items: readonly T[]): Promise<ItemOutcome<R>[]>;
  /** Flush at once when this many items are queued (bounds transaction size and latency). */
  maxBatch?: number;
  /** Called after a batch failed as a whole, before its promises reject. */
  onBatchError?(error: unknown, batchSize: number): void;
  /** Message of the error that `submit` rejects with after `close()`. */
  closedMessage?: string;
}

export const DEFAULT_MAX_BATCH = 1000;

/** One finished commitBatch call, for observers (the gateway's commit latency metrics). */
export interface BatchCommitted {
  size: number;
  /** Wall time of the commitBatch call, fsync included. */
  ms: number;
  ok: boolean;
}

interface Pending<T, R> {
  item: T;
  resolve(value: R): void;
  reject(error: unknown): void;
}

export class GroupCommit<T, R> {
  readonly stats: GroupCommitStats = {
    transactions: 0,
    failedTransactions: 0,
    itemsCommitted: 0,
    itemsRejected: 0,
    largestBatch: 0,
    lastBatchSize: 0,
    lastBatchMs: 0,
  };
  private queue: Pending<T, R>[] = [];
  private timer: NodeJS.Immediate | null = null;
  private inFlight: Promise<void> | null = null;
  private closed = false;
  private readonly maxBatch: number;
  private readonly observers = new Set<(batch: BatchCommitted) => void>();

  constructor(private readonly options: GroupCommitOptions<T, R>) {
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    this.maxBatch = maxBatch;
  }

  /**
   * Calls `observer` after every batch, committed or failed. The ledger is opened before the
   * metrics exist, so they subscribe here rather than through the options.
   */
  observe(observer: (batch: BatchCommitted) => void): void {
    this.observers.add(observer);
  }

  private notify(batch: BatchCommitted): void {
    for (const observer of this.observers) {
      try {
        observer(batch);
      } catch {
        // An observer's bug must not keep the batch's callers waiting.
      }
    }
  }

  /** Items queued and not yet taken into a batch. */
  get pending(): number {
    return this.queue.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  submit(item: T): Promise<R> {
    if (this.closed) return Promise.reject(new Error(this.options.closedMessage ?? 'group commit is closed'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Refuses new items, then resolves once everything queued has been committed (or rejected). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) {
      clearImmediate(this.timer);
      this.timer = null;
    }
    while (this.inFlight !== null || this.queue.length > 0) {
      if (this.inFlight === null) this.start();
      await this.inFlight;
    }
  }

  private schedule(): void {
    if (this.inFlight !== null) return; // the running batch starts the next when it is done
    if (this.queue.length >= this.maxBatch) {
      if (this.timer !== null) clearImmediate(this.timer);
      this.timer = null;
      return this.start();
    }
    if (this.timer !== null) return;
    this.timer = setImmediate(() => {
      this.timer = null;
      if (this.inFlight === null) this.start();
    });
  }

  private start(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    this.inFlight = this.commit(batch).finally(() => {
      this.inFlight = null;
      if (this.queue.length > 0) {
        // Everything that queued meanwhile forms the next batch, now: waiting for another turn
        // would only add latency (the items already waited one commit).
        this.start();
      }
    });
  }

  private async commit(batch: Pending<T, R>[]): Promise<void> {
    const startMs = performance.now();
    let outcomes: ItemOutcome<R>[];
    try {
      outcomes = await this.options.commitBatch(batch.map((p) => p.item));
      if (outcomes.length !== batch.length) {
        // A bug in commitBatch, found after its commit: rejecting is the safe side. A committed but
        // unacknowledged item is harmless, an acknowledged item of unknown fate is not.
        throw new Error(`commitBatch returned ${outcomes.length} outcomes for ${batch.length} items`);
      }
    } catch (error) {
      this.stats.failedTransactions++;
      this.stats.itemsRejected += batch.length;
      this.stats.lastBatchMs = performance.now() - startMs;
      this.notify({ size: batch.length, ms: this.stats.lastBatchMs, ok: false });
      try {
        this.options.onBatchError?.(error, batch.length);
      } catch {
        // A failing observer must not keep the batch's callers waiting forever.
      }
      for (const p of batch) p.reject(error);
      return;
    }
    this.stats.transactions++;
    this.stats.lastBatchSize = batch.length;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    this.stats.lastBatchMs = performance.now() - startMs;
    this.notify({ size: batch.length, ms: this.stats.lastBatchMs, ok: true });
    batch.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) {
        this.stats.itemsCommitted++;
        p.resolve(outcome.value);
      } else {
        this.stats.itemsRejected++;
        p.reject(outcome.error);
      }
    });
  }
}
