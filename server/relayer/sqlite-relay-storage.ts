// RelayStorage over the SQLite ledger file: the synchronous RelayStore and the settlement's leaves, behind the
// asynchronous interface the relayer uses with either ledger. better-sqlite3 runs each call to the
// end before anything else, so enqueue's check-then-write stays atomic.
import type Database from 'better-sqlite3';
import { latestPublishedEpoch, type PublishedLeaf, type PublishedLeaves } from './leaves.js';
import { RelayStore, type EnqueueResult, type Payload, type RelayDepth, type RelayKind, type RelayRecord, type RelayStorage } from './request-store.js';

export class SqliteRelayStorage implements RelayStorage {
  private readonly store: RelayStore;

  /** `leaves`: the settlement's proof source. */
  constructor(
    private readonly db: Database.Database,
    private readonly leaves: PublishedLeaves,
    now: () => number = Date.now,
  ) {
    this.store = new RelayStore(db, now);
  }

  async enqueue(kind: RelayKind, requestKey: string, account: string, payload: Payload): Promise<EnqueueResult> {
    return this.store.enqueue(kind, requestKey, account, payload);
  }

  async queued(kind: RelayKind, limit: number): Promise<RelayRecord[]> {
    return this.store.queued(kind, limit);
  }

  async depth(): Promise<RelayDepth[]> {
    return this.store.depth();
  }

  async sent(): Promise<RelayRecord[]> {
    return this.store.sent();
  }

  async byId(id: number): Promise<RelayRecord | undefined> {
    return this.store.byId(id);
  }

  async forAccount(kind: RelayKind, account: string, limit: number): Promise<RelayRecord[]> {
    return this.store.forAccount(kind, account, limit);
  }

  async pendingFor(kind: RelayKind, account: string): Promise<RelayRecord[]> {
    return this.store.pendingFor(kind, account);
  }

  async markSent(ids: readonly number[], txHash: string): Promise<void> {
    this.store.markSent(ids, txHash);
  }

  async markConfirmed(ids: readonly number[], result?: Payload): Promise<void> {
    this.store.markConfirmed(ids, result);
  }

  async markFailed(ids: readonly number[], error: string): Promise<void> {
    this.store.markFailed(ids, error);
  }

  async requeue(ids: readonly number[]): Promise<void> {
    this.store.requeue(ids);
  }

  async publishedLeaf(epoch: bigint | number, member: string): Promise<PublishedLeaf | undefined> {
    return this.leaves.publishedLeaf(epoch, member);
  }

  async latestPublishedEpoch(): Promise<bigint | undefined> {
    return latestPublishedEpoch(this.db);
  }
}
