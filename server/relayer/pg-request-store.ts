// The relayer's queue in a PostgreSQL ledger shared by several gateways: every gateway accepts
// signed requests into relay_requests, and only the settlement leader submits them. Each method
// is one statement (or one transaction), so two gateways accepting the same request at once end
// with one row, and the leader's status updates never race a follower's insert.
import type pg from 'pg';
import type { Logger } from 'pino';
import { migratePg, type PgMigration } from '../ledger/pg/migrations.js';
import type { PublishedLeaf, PublishedLeaves } from './leaves.js';
import { RELAY_DEPTH_SQL, type EnqueueResult, type Payload, type RelayDepth, type RelayKind, type RelayRecord, type RelayStatus, type RelayStorage } from './request-store.js';

export const RELAYER_COMPONENT = 'relayer';

/** Migration component 'relayer'. Steps are append-only once shipped. */
export const RELAYER_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    description: 'the relayer queue',
    sql: `
      -- Signed requests the relayer submits on-chain (votes, claims, proposals). request_key makes
      -- a request idempotent (a vote: proposal and voter; a claim: account and epoch).
      CREATE TABLE relay_requests (
        id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind            TEXT    NOT NULL CHECK (kind IN ('vote', 'claim', 'proposal')),
        request_key     TEXT    NOT NULL UNIQUE,
        account         TEXT    NOT NULL,
        -- JSON with bigints as decimal strings.
        payload         JSONB   NOT NULL,
        -- queued: waiting for the next batch; sent: in a transaction (tx_hash); confirmed: mined
        -- and effective; failed: refused by the chain (error says why).
        status          TEXT    NOT NULL CHECK (status IN ('queued', 'sent', 'confirmed', 'failed')),
        tx_hash         TEXT,
        error           TEXT,
        created_at_ms   BIGINT  NOT NULL,
        updated_at_ms   BIGINT  NOT NULL
      );
      CREATE INDEX relay_requests_status ON relay_requests (status, kind, id);
      CREATE INDEX relay_requests_account ON relay_requests (account, kind, id);
    `,
  },
];

/** Brings the relayer's table up to date (the settlement's tables, which it reads, are the settlement's). */
export async function preparePgRelayer(pool: pg.Pool, log: Logger, where = 'ledger'): Promise<void> {
  const result = await migratePg(pool, RELAYER_COMPONENT, RELAYER_PG_MIGRATIONS, where);
  if (result.applied.length > 0) log.info(result, 'relayer table migrated');
}

interface Row {
  id: string;
  kind: RelayKind;
  request_key: string;
  account: string;
  payload: Payload;
  status: RelayStatus;
  tx_hash: string | null;
  error: string | null;
  created_at_ms: string;
  updated_at_ms: string;
}

function toRecord(row: Row): RelayRecord {
  return {
    id: Number(row.id),
    kind: row.kind,
    requestKey: row.request_key,
    account: row.account,
    payload: row.payload,
    status: row.status,
    txHash: row.tx_hash,
    error: row.error,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  };
}

export class PgRelayStorage implements RelayStorage {
  /** `leaves`: the settlement's proof source. */
  constructor(
    private readonly pool: pg.Pool,
    private readonly leaves: PublishedLeaves,
    private readonly now: () => number = Date.now,
  ) {}

  async enqueue(kind: RelayKind, requestKey: string, account: string, payload: Payload): Promise<EnqueueResult> {
    const at = this.now();
    const json = JSON.stringify(payload);
    // Each step is one atomic statement; a concurrent gateway can only move the row forward
    // (insert it, or replace a failed one), so at most one of them wins and the others see it.
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.pool.query<{ id: string }>(
        `INSERT INTO relay_requests (kind, request_key, account, payload, status, created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4::jsonb, 'queued', $5, $5)
         ON CONFLICT (request_key) DO NOTHING RETURNING id`,
        [kind, requestKey, account, json, at],
      );
      if (inserted.rows[0]) return { id: Number(inserted.rows[0].id), replaced: false };
      // A member may sign again after the chain refused a request: a failed one is replaced.
      const replaced = await this.pool.query<{ id: string }>(
        `UPDATE relay_requests SET account = $2, payload = $3::jsonb, status = 'queued', tx_hash = NULL, error = NULL, updated_at_ms = $4
          WHERE request_key = $1 AND status = 'failed' RETURNING id`,
        [requestKey, account, json, at],
      );
      if (replaced.rows[0]) return { id: Number(replaced.rows[0].id), replaced: true };
      const existing = await this.pool.query<Row>('SELECT * FROM relay_requests WHERE request_key = $1', [requestKey]);
      if (existing.rows[0] && existing.rows[0].status !== 'failed') return { conflict: toRecord(existing.rows[0]) };
    }
    throw new Error(`relay request ${requestKey} kept changing while it was queued; try again`);
  }

  async queued(kind: RelayKind, limit: number): Promise<RelayRecord[]> {
    return this.rows(`SELECT * FROM relay_requests WHERE status = 'queued' AND kind = $1 ORDER BY id LIMIT $2`, [kind, limit]);
  }

  async depth(): Promise<RelayDepth[]> {
    const { rows } = await this.pool.query<{ kind: RelayKind; status: 'queued' | 'sent'; count: string }>(RELAY_DEPTH_SQL);
    return rows.map((row) => ({ kind: row.kind, status: row.status, count: Number(row.count) }));
  }

  async sent(): Promise<RelayRecord[]> {
    return this.rows(`SELECT * FROM relay_requests WHERE status = 'sent' ORDER BY id`, []);
  }

  async byId(id: number): Promise<RelayRecord | undefined> {
    return (await this.rows('SELECT * FROM relay_requests WHERE id = $1', [id]))[0];
  }

  async forAccount(kind: RelayKind, account: string, limit: number): Promise<RelayRecord[]> {
    return this.rows(`SELECT * FROM relay_requests WHERE account = $1 AND kind = $2 ORDER BY id DESC LIMIT $3`, [account, kind, limit]);
  }

  async pendingFor(kind: RelayKind, account: string): Promise<RelayRecord[]> {
    return this.rows(`SELECT * FROM relay_requests WHERE account = $1 AND kind = $2 AND status IN ('queued', 'sent') ORDER BY id`, [account, kind]);
  }

  async markSent(ids: readonly number[], txHash: string): Promise<void> {
    await this.update(ids, `status = 'sent', tx_hash = $3, error = NULL`, [txHash]);
  }

  async markConfirmed(ids: readonly number[], result?: Payload): Promise<void> {
    // jsonb || merges the result (e.g. a created proposal's id) into the payload in place.
    if (!result) return this.update(ids, `status = 'confirmed', error = NULL`, []);
    await this.update(ids, `status = 'confirmed', error = NULL, payload = payload || $3::jsonb`, [JSON.stringify(result)]);
  }

  async markFailed(ids: readonly number[], error: string): Promise<void> {
    await this.update(ids, `status = 'failed', error = $3`, [error]);
  }

  async requeue(ids: readonly number[]): Promise<void> {
    await this.update(ids, `status = 'queued', tx_hash = NULL`, []);
  }

  async publishedLeaf(epoch: bigint | number, member: string): Promise<PublishedLeaf | undefined> {
    return this.leaves.publishedLeaf(epoch, member);
  }

  async latestPublishedEpoch(): Promise<bigint | undefined> {
    const { rows } = await this.pool.query<{ epoch: number | null }>(`SELECT max(epoch) AS epoch FROM epochs WHERE status = 'published'`);
    return rows[0]?.epoch == null ? undefined : BigInt(rows[0].epoch);
  }

  private async rows(sql: string, args: unknown[]): Promise<RelayRecord[]> {
    return (await this.pool.query<Row>(sql, args)).rows.map(toRecord);
  }

  /** One statement for all `ids`: $1 the ids, $2 the time, then `args`. */
  private async update(ids: readonly number[], set: string, args: unknown[]): Promise<void> {
    if (ids.length === 0) return;
    await this.pool.query(`UPDATE relay_requests SET ${set}, updated_at_ms = $2 WHERE id = ANY($1::bigint[])`, [ids, this.now(), ...args]);
  }
}
