/**
 * The one retry backoff: exponential from `initialMs`, doubling per failed attempt, capped at
 * `maxMs`. Reconnecting clients add full jitter (a uniform draw below that ceiling), so a pool
 * restart is not met by every miner at once; a lone retrier (settlement) waits the ceiling itself.
 */

export interface BackoffPolicy {
  /** The wait after the first failure. */
  initialMs: number;
  /** No wait is longer than this. */
  maxMs: number;
}

/** min(maxMs, initialMs * 2^attempt), for attempt = 0, 1, 2, ... (failures so far, less one). */
export function backoffCeilingMs(attempt: number, policy: BackoffPolicy): number {
  // 2^30 already passes any sane cap; a larger exponent would only overflow to Infinity.
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(0, attempt), 30));
}

/** Full jitter: a whole number of ms, uniform in [0, backoffCeilingMs(attempt, policy)). */
export function jitteredBackoffMs(attempt: number, policy: BackoffPolicy, random: () => number): number {
  return Math.floor(random() * backoffCeilingMs(attempt, policy));
}
