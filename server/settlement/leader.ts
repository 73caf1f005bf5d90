// One settlement leader among the gateways that share a PostgreSQL ledger: only the leader closes
// epochs, publishes roots and submits relay batches. Leadership is a session-level advisory lock
// held on a connection of its own (not a pool's: a pool would hand the session to someone else):
// PostgreSQL releases it the moment that session ends, so a leader that dies, or whose connection
// dies, frees the lock for a follower, which tries again every `retryMs`.
//
// A leader that loses its connection stops at once; one that does not notice (a silent network
// partition) is caught by the check every `retryMs`. In the gap two gateways may both act for a
// moment; that is safe: the contract refuses a second root for an epoch, the publisher reconciles
// with the chain before every send, closes are serialized by a transaction lock, and a relayed
// request that took effect through another transaction is recorded as confirmed.
import pg from 'pg';
import type { Logger } from 'pino';
import { describePgError } from '../ledger/pg/pool.js';

/** Whether this gateway may close, publish and relay now. */
export interface Leadership {
  readonly isLeader: boolean;
  /** Called with true on gaining leadership and false on losing it; returns the unsubscribe. */
  onChange(listener: (leader: boolean) => void): () => void;
  /** Tries for leadership once now (where there is an election), and keeps trying after. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** SQLite: one gateway owns the ledger file, so it is always the leader. */
export function alwaysLeader(): Leadership {
  return { isLeader: true, onChange: () => () => {}, start: async () => {}, stop: async () => {} };
}

/** pg_try_advisory_lock key of the settlement leader ("DAOLEAD" in ASCII); one per database. */
export const SETTLEMENT_LEADER_LOCK = 0x44414f4c454144n;
export const DEFAULT_LEADER_RETRY_MS = 5000;

export interface PgLeaderOptions {
  /** The ledger's pool: its connection settings are reused for the lock's own connection. */
  pool: pg.Pool;
  log: Logger;
  /** How often a follower tries for the lock and the leader checks its connection (default 5 s). */
  retryMs?: number;
  /** Shown in pg_stat_activity, so an operator (or a test) can find the lock's session. */
  applicationName?: string;
  lockKey?: bigint;
}

export class PgLeaderElection implements Leadership {
  private leader = false;
  private client: pg.Client | undefined;
  /** PostgreSQL's pid of the session holding (or trying for) the lock. */
  private pid: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> = Promise.resolve();
  private stopped = false;
  /** After losing the lock, this gateway does not try for it again before then. */
  private holdOffUntilMs = 0;
  private readonly listeners = new Set<(leader: boolean) => void>();
  private readonly retryMs: number;
  private readonly lockKey: string;
  private readonly log: Logger;

  constructor(private readonly options: PgLeaderOptions) {
    this.retryMs = options.retryMs ?? DEFAULT_LEADER_RETRY_MS;
    if (!Number.isSafeInteger(this.retryMs) || this.retryMs <= 0) throw new RangeError(`leader retryMs must be a positive integer, got ${this.retryMs}`);
    this.lockKey = (options.lockKey ?? SETTLEMENT_LEADER_LOCK).toString();
    this.log = options.log.child({ component: 'settlement-leader' });
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** The backend pid of the lock's session (undefined while not connected). */
  get backendPid(): number | undefined {
    return this.pid;
  }

  onChange(listener: (leader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tries for the lock once now (so a lone gateway leads from the start), then every retryMs. */
  async start(): Promise<void> {
    await this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.attempt;
    const client = this.client;
    this.client = undefined;
    this.pid = undefined;
    // Ending the session releases the lock; a follower takes over at its next try.
    await client?.end().catch(() => {});
    this.setLeader(false, 'stopped');
  }

  private tick(): Promise<void> {
    const run = this.attempt.then(() => this.tryOnce());
    this.attempt = run.catch(() => {});
    return run.finally(() => this.schedule(this.retryMs));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tryOnce(): Promise<void> {
    if (this.stopped || (!this.leader && Date.now() < this.holdOffUntilMs)) return;
    try {
      const client = this.client ?? (await this.connect());
      if (this.leader) {
        // Session locks last as long as the session: a live session still holds it.
        await client.query('SELECT 1');
        return;
      }
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [this.lockKey]);
      if (this.stopped || client !== this.client) {
        // stop() or a connection loss came in between; a lock taken now dies with that session.
        return;
      }
      if (rows[0]?.locked) this.setLeader(true, `took the settlement lock (backend pid ${this.pid})`);
    } catch (err) {
      this.dropClient(err);
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      ...this.options.pool.options,
      application_name: this.options.applicationName ?? 'dao-settlement-leader',
      keepAlive: true,
      // A check that hangs (a dead network path) counts as a lost connection.
      query_timeout: Math.max(1000, this.retryMs),
    });
    client.on('error', (err) => this.onClientGone(client, err));
    client.on('end', () => this.onClientGone(client, new Error('the connection ended')));
    this.client = client;
    try {
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      if (this.client === client) this.pid = rows[0]?.pid;
    } catch (err) {
      if (this.client === client) this.client = undefined;
      void client.end().catch(() => {});
      throw err;
    }
    return client;
  }

  /** The lock's session failed or ended: leadership is gone at once. */
  private onClientGone(client: pg.Client, err: Error): void {
    if (client !== this.client) return;
    this.dropClient(err);
  }

  private dropClient(err: unknown): void {
    const client = this.client;
    this.client = undefined;
    this.pid = undefined;
    void client?.end().catch(() => {});
    const reason = describePgError(err);
    if (this.leader) {
      this.setLeader(false, `lost the settlement lock's connection: ${reason}`);
      // A gateway whose connection just died is the suspect one: give a healthy follower (which
      // tries within retryMs) the first chance to take over.
      this.holdOffUntilMs = Date.now() + 2 * this.retryMs;
    } else if (!this.stopped) {
      this.log.debug({ err: reason }, 'settlement leader election: no connection; retrying');
    }
  }

  private setLeader(leader: boolean, why: string): void {
    if (this.leader === leader) return;
    this.leader = leader;
    if (leader) this.log.info(`this gateway is now the settlement leader: ${why}`);
    else if (!this.stopped) this.log.warn(`this gateway is no longer the settlement leader: ${why}`);
    for (const listener of this.listeners) {
      try {
        listener(leader);
      } catch (err) {
        this.log.error({ err }, 'a settlement leadership listener failed');
      }
    }
  }
}
