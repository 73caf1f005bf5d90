/**
 * Group commit: callers submit items one at a time and get a promise each; the items queued
 * during one turn of the event loop are applied together in ONE transaction on the next
 * `setImmediate` (or at once when the queue reaches `maxBatch`). The cost of a durable commit
 * (an fsync) is then paid once per batch instead of once per item, while every promise still
 * settles only after its own item is committed.
 *
 * The class knows nothing about databases: `commitBatch` does the work, synchronously.
 *  - If it throws, the whole batch failed (the implementation must have rolled back, so nothing
 *    is half-written): every promise of the batch rejects with that error. Later batches run as
 *    usual, so a transient failure (lock timeout, disk full) does not wedge the queue.
 *  - Otherwise it returns one outcome per item, in order. An item-level failure (a record the
 *    database refused on its own, such as a CHECK violation) rejects only that item's promise.
 */

export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitOptions<T, R> {
  commitBatch(items: readonly T[]): ItemOutcome<R>[];
  /** Flush at once when this many items are queued (bounds transaction size and latency). */
  maxBatch?: number;
  /** Called after a batch failed as a whole, before its promises reject. */
  onBatchError?(error: unknown, batchSize: number): void;
  /** Message of the error that `submit` rejects with after `close()`. */
  closedMessage?: string;
}

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

interface Pending<T, R> {
  item: T;
  resolve(value: R): void;
  reject(error: unknown): void;
}

export const DEFAULT_MAX_BATCH = 1000;

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
  private closed = false;
  private readonly maxBatch: number;

  constructor(private readonly options: GroupCommitOptions<T, R>) {
    const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    }
    this.maxBatch = maxBatch;
  }

  /** Items queued and not yet committed. */
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
      if (this.queue.length >= this.maxBatch) {
        this.flush();
      } else if (this.timer === null) {
        this.timer = setImmediate(() => {
          this.timer = null;
          this.flush();
        });
      }
    });
  }

  /** Commits everything queued now, synchronously, in batches of at most maxBatch. */
  flush(): void {
    if (this.timer !== null) {
      clearImmediate(this.timer);
      this.timer = null;
    }
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.commit(batch);
    }
  }

  /** Flushes what is queued, then refuses new items. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
  }

  private commit(batch: Pending<T, R>[]): void {
    const startMs = performance.now();
    let outcomes: ItemOutcome<R>[];
    try {
      outcomes = this.options.commitBatch(batch.map((p) => p.item));
      if (outcomes.length !== batch.length) {
        // A bug in commitBatch, found after its commit. Rejecting is the safe side: a committed
        // but unacknowledged item is harmless, an acknowledged item of unknown fate is not.
        throw new Error(`commitBatch returned ${outcomes.length} outcomes for ${batch.length} items`);
      }
    } catch (error) {
      this.stats.failedTransactions++;
      this.stats.itemsRejected += batch.length;
      this.stats.lastBatchMs = performance.now() - startMs;
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
