// The relayer's queue: signed requests in table relay_requests. Everything the relayer knows
// survives a restart here; the chain is the only other truth it consults. The relayer reaches it
// through the asynchronous RelayStorage: the SQLite ledger file (RelayStore below, synchronous,
// wrapped by sqlite-relay-storage.ts) or a PostgreSQL ledger shared by several gateways
// (pg-request-store.ts), where every gateway accepts requests and only the leader submits them.
import type Database from 'better-sqlite3';
import type { RelayStatus } from '../../protocol/api.js';
import type { PublishedLeaf } from './leaves.js';

export type RelayKind = 'vote' | 'claim' | 'proposal';
export type { RelayStatus } from '../../protocol/api.js';

/** Payloads are JSON objects with bigints as decimal strings. */
export type Payload = Record<string, unknown>;

export interface RelayRecord {
  id: number;
  kind: RelayKind;
  requestKey: string;
  /** Checksummed address of the member the request is for. */
  account: string;
  payload: Payload;
  status: RelayStatus;
  txHash: string | null;
  error: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

interface Row {
  id: number;
  kind: RelayKind;
  request_key: string;
  account: string;
  payload: string;
  status: RelayStatus;
  tx_hash: string | null;
  error: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

function toRecord(row: Row): RelayRecord {
  return {
    id: row.id,
    kind: row.kind,
    requestKey: row.request_key,
    account: row.account,
    payload: JSON.parse(row.payload) as Payload,
    status: row.status,
    txHash: row.tx_hash,
    error: row.error,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

export type EnqueueResult = { id: number; replaced: boolean } | { conflict: RelayRecord };

export interface RelayDepth {
  kind: RelayKind;
  status: 'queued' | 'sent';
  count: number;
}

/** The grouped count RelayStorage.depth() runs, the same SQL on both databases. */
export const RELAY_DEPTH_SQL = `SELECT kind, status, count(*) AS count FROM relay_requests WHERE status IN ('queued', 'sent') GROUP BY kind, status`;

/** What the relayer keeps and reads; see RelayStore for what each method means. */
export interface RelayStorage {
  /**
   * Queues a request unless one with the same key is queued, sent or confirmed (then returns it as
   * the conflict); a failed one with the key is replaced. Atomic across gateways.
   */
  enqueue(kind: RelayKind, requestKey: string, account: string, payload: Payload): Promise<EnqueueResult>;
  queued(kind: RelayKind, limit: number): Promise<RelayRecord[]>;
  /** How many requests wait, by kind and status (queued, sent): one grouped count (the metrics' scrape). */
  depth(): Promise<RelayDepth[]>;
  sent(): Promise<RelayRecord[]>;
  byId(id: number): Promise<RelayRecord | undefined>;
  forAccount(kind: RelayKind, account: string, limit: number): Promise<RelayRecord[]>;
  pendingFor(kind: RelayKind, account: string): Promise<RelayRecord[]>;
  markSent(ids: readonly number[], txHash: string): Promise<void>;
  markConfirmed(ids: readonly number[], result?: Payload): Promise<void>;
  markFailed(ids: readonly number[], error: string): Promise<void>;
  requeue(ids: readonly number[]): Promise<void>;
  /** `member`'s leaf in `epoch` when that epoch is published (settlement tables); undefined otherwise. */
  publishedLeaf(epoch: bigint | number, member: string): Promise<PublishedLeaf | undefined>;
  /** The highest published epoch, or undefined before the first. */
  latestPublishedEpoch(): Promise<bigint | undefined>;
}

/** The SQLite queue, synchronous (better-sqlite3): one gateway owns the file. */
export class RelayStore {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Queues a request unless one with the same key is queued, sent or confirmed (then returns it as
   * the conflict). A failed one with the key is replaced: a member may sign again after, say, the
   * chain refused a vote that was cast before its epoch's root was published.
   */
  enqueue(kind: RelayKind, requestKey: string, account: string, payload: Payload): EnqueueResult {
    // better-sqlite3 is synchronous: the check and the write cannot interleave with another request.
    return this.db
      .transaction((): EnqueueResult => {
        const existing = this.db.prepare<[string], Row>('SELECT * FROM relay_requests WHERE request_key = ?').get(requestKey);
        const at = this.now();
        const text = JSON.stringify(payload);
        if (existing && existing.status !== 'failed') return { conflict: toRecord(existing) };
        if (existing) {
          this.db
            .prepare(`UPDATE relay_requests SET account = ?, payload = ?, status = 'queued', tx_hash = NULL, error = NULL, updated_at_ms = ? WHERE id = ?`)
            .run(account, text, at, existing.id);
          return { id: existing.id, replaced: true };
        }
        const info = this.db
          .prepare(
            `INSERT INTO relay_requests (kind, request_key, account, payload, status, created_at_ms, updated_at_ms)
             VALUES (?, ?, ?, ?, 'queued', ?, ?)`,
          )
          .run(kind, requestKey, account, text, at, at);
        return { id: Number(info.lastInsertRowid), replaced: false };
      })
      .immediate();
  }

  depth(): RelayDepth[] {
    return this.db
      .prepare<[], { kind: RelayKind; status: 'queued' | 'sent'; count: number }>(RELAY_DEPTH_SQL)
      .all()
      .map((row) => ({ kind: row.kind, status: row.status, count: Number(row.count) }));
  }

  /** The oldest queued requests of `kind`, oldest first (claims of one account must go in epoch order). */
  queued(kind: RelayKind, limit: number): RelayRecord[] {
    return this.db
      .prepare<[RelayKind, number], Row>(`SELECT * FROM relay_requests WHERE status = 'queued' AND kind = ? ORDER BY id LIMIT ?`)
      .all(kind, limit)
      .map(toRecord);
  }

  /** Every request left in a transaction whose outcome is not yet recorded. */
  sent(): RelayRecord[] {
    return this.db.prepare<[], Row>(`SELECT * FROM relay_requests WHERE status = 'sent' ORDER BY id`).all().map(toRecord);
  }

  byId(id: number): RelayRecord | undefined {
    const row = this.db.prepare<[number], Row>('SELECT * FROM relay_requests WHERE id = ?').get(id);
    return row && toRecord(row);
  }

  /** `account`'s requests of `kind`, newest first. */
  forAccount(kind: RelayKind, account: string, limit: number): RelayRecord[] {
    return this.db
      .prepare<[string, RelayKind, number], Row>(`SELECT * FROM relay_requests WHERE account = ? AND kind = ? ORDER BY id DESC LIMIT ?`)
      .all(account, kind, limit)
      .map(toRecord);
  }

  /** `account`'s requests of `kind` still on their way (queued or sent), oldest first. */
  pendingFor(kind: RelayKind, account: string): RelayRecord[] {
    return this.db
      .prepare<[string, RelayKind], Row>(`SELECT * FROM relay_requests WHERE account = ? AND kind = ? AND status IN ('queued', 'sent') ORDER BY id`)
      .all(account, kind)
      .map(toRecord);
  }

  markSent(ids: readonly number[], txHash: string): void {
    this.update(ids, `status = 'sent', tx_hash = ?, error = NULL`, [txHash]);
  }

  /** `result` is merged into the payload (e.g. the id of a created proposal). */
  markConfirmed(ids: readonly number[], result?: Payload): void {
    if (!result) return this.update(ids, `status = 'confirmed', error = NULL`, []);
    this.db.transaction(() => {
      for (const id of ids) {
        const record = this.byId(id);
        if (!record) continue;
        this.update([id], `status = 'confirmed', error = NULL, payload = ?`, [JSON.stringify({ ...record.payload, ...result })]);
      }
    })();
  }

  markFailed(ids: readonly number[], error: string): void {
    this.update(ids, `status = 'failed', error = ?`, [error]);
  }

  /** Back in the queue: the transaction it was in is gone and it took no effect. */
  requeue(ids: readonly number[]): void {
    this.update(ids, `status = 'queued', tx_hash = NULL`, []);
  }

  private update(ids: readonly number[], set: string, args: unknown[]): void {
    if (ids.length === 0) return;
    const statement = this.db.prepare(`UPDATE relay_requests SET ${set}, updated_at_ms = ? WHERE id = ?`);
    const at = this.now();
    this.db.transaction(() => {
      for (const id of ids) statement.run(...args, at, id);
    })();
  }
}
