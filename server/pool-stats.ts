import type { Work } from '../protocol/target.js';

/**
 * Rolling pool figures from the accepted and rejected shares as they happen: one-second buckets
 * over the last ten minutes, so /api/stats costs no database query.
 */
export class PoolStats {
  private static readonly BUCKETS = 600;
  private readonly accepted = new Float64Array(PoolStats.BUCKETS);
  private readonly work = new Float64Array(PoolStats.BUCKETS);
  private readonly rejected = new Float64Array(PoolStats.BUCKETS);
  private lastSecond: number;
  readonly startedAtMs: number;
  readonly rejectReasons = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {
    this.startedAtMs = now();
    this.lastSecond = Math.floor(this.startedAtMs / 1000);
  }

  accept(work: Work): void {
    const i = this.advance();
    this.accepted[i]! += 1;
    this.work[i]! += work;
  }

  reject(reason: string): void {
    this.rejected[this.advance()]! += 1;
    this.rejectReasons.set(reason, (this.rejectReasons.get(reason) ?? 0) + 1);
  }

  /** Shares per second over the last `seconds` (at most ten minutes, at most the uptime). */
  sharesPerSecond(seconds = 60): number {
    return this.sum(this.accepted, seconds) / this.span(seconds);
  }

  rejectedPerSecond(seconds = 60): number {
    return this.sum(this.rejected, seconds) / this.span(seconds);
  }

  /** Expected hashes per second the accepted shares stand for: the pool's hash rate. */
  hashesPerSecond(seconds = 600): number {
    return this.sum(this.work, seconds) / this.span(seconds);
  }

  private span(seconds: number): number {
    const uptime = Math.max((this.now() - this.startedAtMs) / 1000, 1);
    return Math.min(seconds, PoolStats.BUCKETS, uptime);
  }

  private sum(buckets: Float64Array, seconds: number): number {
    const current = this.advance();
    let total = 0;
    for (let k = 0; k < Math.min(seconds, PoolStats.BUCKETS); k++) total += buckets[(current - k + PoolStats.BUCKETS) % PoolStats.BUCKETS]!;
    return total;
  }

  /** Clears the buckets that time has passed over; returns the current bucket. */
  private advance(): number {
    const second = Math.floor(this.now() / 1000);
    const steps = Math.min(second - this.lastSecond, PoolStats.BUCKETS);
    for (let k = 1; k <= steps; k++) {
      const i = (this.lastSecond + k) % PoolStats.BUCKETS;
      this.accepted[i] = 0;
      this.work[i] = 0;
      this.rejected[i] = 0;
    }
    if (second > this.lastSecond) this.lastSecond = second;
    return this.lastSecond % PoolStats.BUCKETS;
  }
}
