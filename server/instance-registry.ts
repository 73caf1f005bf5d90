import { hostname } from 'node:os';
import type pg from 'pg';
import type { Ledger } from './ledger/ledger.js';
import { describePgError } from './ledger/pg/pool.js';

/**
 * The `gateways` table of a shared PostgreSQL ledger: which instance ids are live. The instance
 * id partitions the extranonce1 space (server/stratum/extranonce.ts), so two live gateways with
 * the same id would hand miners the same coinbases and share keys: a gateway refuses to start
 * while another one with its id has a recent heartbeat. (With SQLite there is one gateway per
 * file, and nothing to register.)
 *
 * Times are the database server's (now()), so the clocks of the gateways' hosts do not matter.
 */

export const HEARTBEAT_INTERVAL_MS = 10_000;
/** A gateway whose heartbeat is older than this is taken for dead: its id may be reused. */
export const HEARTBEAT_STALE_MS = 30_000;

export interface InstanceRegistration {
  readonly instanceId: number;
  /**
   * Why this gateway must not credit shares now, or undefined. Set when another gateway took the
   * id over (this one's heartbeat lapsed): their extranonce1 prefixes may collide. Cleared when a
   * later heartbeat gets the id back (the other one stopped or went stale).
   */
  readonly problem: string | undefined;
  /** Stops the heartbeat and deletes this gateway's row, so that its id is free at once. */
  stop(): Promise<void>;
}

export interface RegisterOptions {
  instanceId: number;
  /** Names the database in messages (a redacted URL). */
  where: string;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  heartbeatIntervalMs?: number;
  staleMs?: number;
}

export class InstanceInUseError extends Error {
  override readonly name = 'InstanceInUseError';
}

/** Registers this gateway, or throws InstanceInUseError naming the live gateway that holds the id. */
export async function registerInstance(pool: pg.Pool, options: RegisterOptions): Promise<InstanceRegistration> {
  const { instanceId, where, log } = options;
  const staleMs = options.staleMs ?? HEARTBEAT_STALE_MS;
  const intervalMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
  const host = hostname();
  const pid = process.pid;
  // Takes the row when it is free or stale, in one statement: two gateways starting with the same
  // id at the same moment serialize on the row, and the second sees the first's fresh heartbeat.
  const claim = async (): Promise<string | undefined> => {
    const claimed = await pool.query<{ started_at: string }>(
      `INSERT INTO gateways (instance_id, host, pid, started_at, heartbeat_at)
       VALUES ($1, $2, $3, now(), now())
       ON CONFLICT (instance_id) DO UPDATE SET
         host = excluded.host, pid = excluded.pid, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at
       WHERE gateways.heartbeat_at < now() - make_interval(secs => $4)
       RETURNING started_at::text`,
      [instanceId, host, pid, staleMs / 1000],
    );
    return claimed.rows[0]?.started_at;
  };
  const startedAt = await claim();
  if (startedAt === undefined) {
    const { rows } = await pool.query<{ host: string; pid: number; age_s: number }>(
      `SELECT host, pid, extract(epoch FROM now() - heartbeat_at)::float8 AS age_s FROM gateways WHERE instance_id = $1`,
      [instanceId],
    );
    const other = rows[0];
    const who = other ? `the gateway on ${other.host} (pid ${other.pid}, last heartbeat ${Math.max(0, Math.round(other.age_s))} s ago)` : 'another gateway';
    throw new InstanceInUseError(
      `instance id ${instanceId} is in use on ledger ${where} by ${who}: gateways sharing one PostgreSQL ledger need ` +
        `distinct --instance-id values (0..255); choose another, or stop that gateway (its id is free at once when it stops, ` +
        `or ${staleMs / 1000} s after its last heartbeat if it died)`,
    );
  }

  // Our row (started_at as text: a JS Date would drop its microseconds). A gateway that lost it
  // (silent past staleMs, and another one took the id) must say so.
  let mine: readonly [number, string, number, string] = [instanceId, host, pid, startedAt];
  let problem: string | undefined;
  let beating: Promise<void> = Promise.resolve();
  const beat = async () => {
    try {
      const updated = await pool.query(
        'UPDATE gateways SET heartbeat_at = now() WHERE instance_id = $1 AND host = $2 AND pid = $3 AND started_at = $4::timestamptz',
        [...mine],
      );
      if (updated.rowCount !== 0) return;
      // Our row is gone: the id is ours again if the gateway that took it has stopped or gone stale.
      const again = await claim();
      if (again !== undefined) {
        mine = [instanceId, host, pid, again];
        if (problem !== undefined) log.warn({ instanceId }, `instance id ${instanceId} is this gateway's again; crediting shares`);
        problem = undefined;
      } else if (problem === undefined) {
        problem =
          `another gateway took over instance id ${instanceId} (this one's heartbeat lapsed), so their extranonce1 prefixes may ` +
          `collide: shares are refused until the id is free again; restart one of them with another --instance-id`;
        log.error({ instanceId }, problem);
      }
    } catch (err) {
      log.warn({ err: describePgError(err), instanceId }, 'gateway heartbeat failed; retrying');
    }
  };
  const timer = setInterval(() => void (beating = beating.then(beat)), intervalMs);
  timer.unref();

  let stopping: Promise<void> | undefined;
  return {
    instanceId,
    get problem() {
      return problem;
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        await beating;
        await pool
          .query('DELETE FROM gateways WHERE instance_id = $1 AND host = $2 AND pid = $3 AND started_at = $4::timestamptz', [...mine])
          .catch((err: unknown) => log.warn({ err: describePgError(err), instanceId }, 'could not unregister the gateway; its id frees itself after the heartbeat goes stale'));
      })();
      return stopping;
    },
  };
}

/** A ledger only this gateway uses (a SQLite file): its instance id is its own, nothing to claim. */
export function soleInstance(instanceId: number): InstanceRegistration {
  return { instanceId, problem: undefined, stop: async () => {} };
}

/**
 * The ledger as the sessions see it: appends are refused, with the registration's reason, while
 * it has one. A refused append is a share not acknowledged (the miner is told to try again), so
 * nothing is credited while two gateways may be handing out the same coinbases.
 */
export function refuseSharesWhileLost(ledger: Ledger, registration: InstanceRegistration): Ledger {
  return {
    appendShare: (share) => (registration.problem === undefined ? ledger.appendShare(share) : Promise.reject(new Error(registration.problem))),
    recordBlock: (block) => ledger.recordBlock(block),
    recordJob: (job) => ledger.recordJob(job),
    recordUpstreamResult: (result) => ledger.recordUpstreamResult(result),
    member: (member, options) => ledger.member(member, options),
    totals: () => ledger.totals(),
    workSince: (sinceMs) => ledger.workSince(sinceMs),
    history: (fromMs, toMs, bucketMs) => ledger.history(fromMs, toMs, bucketMs),
    close: () => ledger.close(),
  };
}
