/**
 * The SQL of the PostgreSQL ledger. Counts and milliseconds are bigint in the tables; they are
 * read as float8 so that node-postgres returns numbers (it returns bigint as strings), which is
 * exact below 2^53.
 */

export const BATCH_SQL = {
  /**
   * One statement per batch: insert the shares (a key already recorded by any gateway is skipped),
   * add the per-member deltas of the new ones to member_totals (in member order, so concurrent
   * batches of two gateways lock member rows in the same order and cannot deadlock), add the
   * batch to this gateway's pool_totals row, and return the keys that were new.
   */
  shares: `
    WITH input AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                           $6::float8[], $7::float8[], $8::text[], $9::bigint[], $11::text[])
        AS t (share_key, member, worker, session_id, job_id, difficulty, work, hash, accepted_at_ms, proof)
    ),
    inserted AS (
      INSERT INTO shares (share_key, member, worker, session_id, job_id, difficulty, work, hash, accepted_at_ms, gateway_id, proof)
      SELECT share_key, member, worker, session_id, job_id, difficulty, work, hash, accepted_at_ms, $10::smallint, proof FROM input
      ON CONFLICT (share_key) DO NOTHING
      RETURNING share_key, member, work, accepted_at_ms
    ),
    by_member AS (
      SELECT member, sum(work) AS work, count(*) AS shares,
             min(accepted_at_ms) AS first_ms, max(accepted_at_ms) AS last_ms
      FROM inserted GROUP BY member
    ),
    members AS (
      INSERT INTO member_totals AS m (member, work, shares, first_share_at_ms, last_share_at_ms)
      SELECT member, work, shares, first_ms, last_ms FROM by_member ORDER BY member
      ON CONFLICT (member) DO UPDATE SET
        work = m.work + excluded.work,
        shares = m.shares + excluded.shares,
        first_share_at_ms = least(m.first_share_at_ms, excluded.first_share_at_ms),
        last_share_at_ms = greatest(m.last_share_at_ms, excluded.last_share_at_ms)
      -- xmax is 0 on a row this statement inserted, not on one it updated: a member seen first.
      RETURNING (xmax = 0) AS created
    ),
    pool AS (
      INSERT INTO pool_totals AS p (gateway_id, work, shares, members)
      SELECT $10::smallint, coalesce(sum(work), 0), count(*), (SELECT count(*) FROM members WHERE created)
      FROM inserted
      ON CONFLICT (gateway_id) DO UPDATE SET
        work = p.work + excluded.work, shares = p.shares + excluded.shares, members = p.members + excluded.members
    )
    SELECT share_key FROM inserted`,

  /** Recorded when found and again when its fate is known: keep the first sighting, update the fate. */
  block: `
    INSERT INTO blocks (hash, height, member, job_id, found_at_ms, accepted, reason)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (hash) DO UPDATE SET
      height = coalesce(excluded.height, blocks.height), accepted = excluded.accepted, reason = excluded.reason`,

  /** A job is written once by whichever gateway issues it; its key is the hash of its data. */
  job: `INSERT INTO jobs (job_key, data, created_at_ms) VALUES ($1, $2, $3) ON CONFLICT (job_key) DO NOTHING`,

  upstream: `
    INSERT INTO upstream_results (share_key, hash, accepted, reason, at_ms)
    SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::bigint[])`,
};

/** One statement, so the totals, the window and the recent shares come from one snapshot. */
export const MEMBER_SQL = `
  SELECT t.work,
         t.shares::float8 AS shares,
         t.first_share_at_ms::float8 AS first_ms,
         t.last_share_at_ms::float8 AS last_ms,
         (SELECT coalesce(sum(s.work), 0) FROM shares s
           WHERE s.member = $1 AND s.accepted_at_ms > $2::bigint AND s.accepted_at_ms <= $3::bigint) AS window_work,
         (SELECT coalesce(json_agg(json_build_object(
                   'member', r.member, 'worker', r.worker, 'sessionId', r.session_id, 'jobId', r.job_id,
                   'difficulty', r.difficulty, 'work', r.work, 'hash', r.hash,
                   'acceptedAtMs', r.accepted_at_ms, 'shareKey', r.share_key)
                 ORDER BY r.accepted_at_ms DESC, r.id DESC), '[]'::json)
            FROM (SELECT * FROM shares WHERE member = $1 ORDER BY accepted_at_ms DESC, id DESC LIMIT $4) r) AS recent
  FROM member_totals t
  WHERE t.member = $1`;

export const TOTALS_SQL = `
  SELECT coalesce(sum(work), 0)::float8 AS work,
         coalesce(sum(shares), 0)::float8 AS shares,
         coalesce(sum(members), 0)::float8 AS members,
         (SELECT count(*) FROM blocks)::float8 AS blocks
  FROM pool_totals`;

export const WORK_SINCE_SQL = `SELECT coalesce(sum(work), 0)::float8 AS work FROM shares WHERE accepted_at_ms >= $1::bigint`;

/** Ledger.history(): $1 from, $2 to, $3 bucket length, all ms; bigint division truncates. */
export const HISTORY_SQL = `SELECT ((accepted_at_ms - $1::bigint) / $3::bigint)::int AS bucket, count(*)::int AS shares, sum(work)::float8 AS work
  FROM shares WHERE accepted_at_ms >= $1::bigint AND accepted_at_ms < $2::bigint GROUP BY 1 ORDER BY 1`;

/**
 * A millisecond bound as a bigint parameter, rounded so that comparing whole milliseconds with it
 * means what comparing with the exact number means (`> x` is `> floor(x)`, `>= x` is `>= ceil(x)`,
 * `<= x` is `<= floor(x)`), and clamped to what bigint holds.
 */
export function toMsBound(ms: number, round: 'floor' | 'ceil'): string {
  if (Number.isNaN(ms)) throw new RangeError('a time bound must be a number, got NaN');
  const limit = Number.MAX_SAFE_INTEGER;
  return String(Math.max(-limit, Math.min(limit, round === 'floor' ? Math.floor(ms) : Math.ceil(ms))));
}

/**
 * Errors that concern the data of one record (SQLSTATE class 22 data exception, 23 integrity
 * constraint, 54 program limit such as an index entry too large): replaying the batch record by
 * record isolates them. Anything else (lock timeout, connection lost, disk full...) fails the batch.
 */
export function isItemError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}
