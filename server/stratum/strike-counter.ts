/**
 * What a connection did wrong. Abuse is a strike every time; an honest reject (a stale share, a
 * low-difficulty share, a duplicate: what a correct miner gets after a new block or a retarget)
 * is forgiven up to an allowance per window, and only each one beyond it is a strike.
 */
export type Offence =
  /** Not Stratum JSON-RPC (not JSON, wrong shape). */
  | 'malformed'
  /** Over the message rate or the requests-in-flight limit. */
  | 'flood'
  /** A submit before subscribing, or for a worker that was not authorized. */
  | 'unauthorized'
  /** A submit that no honest miner sends: bad fields, wrong extranonce2 size, ntime out of range... */
  | 'invalid share'
  /** Stale, low difficulty or duplicate. */
  | 'honest reject';

/** Why a connection was banned: the offence it committed most in its window. */
export type BanReason = Exclude<Offence, 'honest reject'> | 'rejected shares';

export interface StrikeLimits {
  /** Strikes within one window that ban the connection; honest rejects this many are also free. */
  maxStrikesPerWindow: number;
  windowMs: number;
}

/** One connection's strikes, in fixed windows. */
export class StrikeCounter {
  private windowStartMs = -Infinity;
  private strikes = 0;
  private honestRejects = 0;
  private readonly byReason = new Map<BanReason, number>();

  constructor(private readonly limits: StrikeLimits) {}

  /** Counts one offence; returns the ban reason when the connection has now earned a ban. */
  record(offence: Offence, nowMs: number): BanReason | undefined {
    if (nowMs - this.windowStartMs > this.limits.windowMs) {
      this.windowStartMs = nowMs;
      this.strikes = 0;
      this.honestRejects = 0;
      this.byReason.clear();
    }
    let reason: BanReason;
    if (offence === 'honest reject') {
      if (++this.honestRejects <= this.limits.maxStrikesPerWindow) return undefined;
      reason = 'rejected shares';
    } else {
      reason = offence;
    }
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    if (++this.strikes < this.limits.maxStrikesPerWindow) return undefined;
    return [...this.byReason.entries()].reduce((most, entry) => (entry[1] > most[1] ? entry : most))[0];
  }

  /** Whether the connection has struck in the window that is running at `nowMs`. */
  hasStruck(nowMs: number): boolean {
    return this.strikes > 0 && nowMs - this.windowStartMs <= this.limits.windowMs;
  }
}
