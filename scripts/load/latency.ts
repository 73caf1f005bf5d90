// Ack latencies in a log-scale histogram: a long run at 100,000 shares/s would be hundreds of
// millions of samples, too many to keep and sort, and 1% resolution is plenty for a p99.

/** Each bucket is 1% wider than the one below it. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** The lowest bucket's bound: 1 µs. Anything faster lands in bucket 0. */
const FLOOR_MS = 0.001;
/** 1 µs to 1e6 ms (about 17 minutes) in 1% steps. */
const BUCKETS = Math.ceil(Math.log(1e9) / LOG_GROWTH) + 1;

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private maxMs = 0;

  record(ms: number): void {
    const i = ms <= FLOOR_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / FLOOR_MS) / LOG_GROWTH));
    this.counts[i]!++;
    this.total++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  get count(): number {
    return this.total;
  }

  /** The upper bound of the bucket holding quantile q: at most 1% above the true value. */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxMs, FLOOR_MS * GROWTH ** i);
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    return { count: this.total, p50: this.quantile(0.5), p99: this.quantile(0.99), max: this.total ? this.maxMs : NaN };
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxMs = 0;
  }
}
