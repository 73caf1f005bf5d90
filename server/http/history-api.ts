// GET /api/history?hours=N: the pool's accepted shares and work per 5-minute bucket over the last
// N hours (at most 24: 288 buckets), for the pool page's charts. One indexed range query of the
// ledger, cached for 30 s: many visitors of the page cost one query.
import type { HistoryBucket, HistoryResponse } from '../../protocol/api.js';
import type { Ledger } from '../ledger/ledger.js';
import { HttpError } from './respond.js';

export const HISTORY_BUCKET_MS = 5 * 60_000;
export const HISTORY_MAX_HOURS = 24;
export const HISTORY_CACHE_MS = 30_000;

/** The hours parameter: an integer from 1 to 24, 24 when absent; anything else is a precise 400. */
export function historyHours(url: URL): number {
  const text = url.searchParams.get('hours');
  if (text === null) return HISTORY_MAX_HOURS;
  const hours = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(hours >= 1 && hours <= HISTORY_MAX_HOURS)) {
    throw new HttpError(400, `hours must be an integer from 1 to ${HISTORY_MAX_HOURS} (the history is kept to ${(HISTORY_MAX_HOURS * 3_600_000) / HISTORY_BUCKET_MS} buckets of 5 minutes), got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return hours;
}

/** The history of each hours value, kept for HISTORY_CACHE_MS; concurrent requests share the query. */
export class HistoryCache {
  private readonly entries = new Map<number, { atMs: number; answer: Promise<HistoryResponse> }>();

  constructor(
    private readonly ledger: Ledger,
    private readonly now: () => number = Date.now,
  ) {}

  get(hours: number): Promise<HistoryResponse> {
    const nowMs = this.now();
    const cached = this.entries.get(hours);
    if (cached && nowMs - cached.atMs < HISTORY_CACHE_MS) return cached.answer;
    const answer = this.query(hours, nowMs);
    this.entries.set(hours, { atMs: nowMs, answer });
    // A failed query is not kept: the next request asks again.
    answer.catch(() => this.entries.get(hours)?.answer === answer && this.entries.delete(hours));
    return answer;
  }

  private async query(hours: number, nowMs: number): Promise<HistoryResponse> {
    // Buckets on wall-clock multiples of 5 minutes; the last one is the bucket in progress.
    const toMs = (Math.floor(nowMs / HISTORY_BUCKET_MS) + 1) * HISTORY_BUCKET_MS;
    const count = (hours * 3_600_000) / HISTORY_BUCKET_MS;
    const fromMs = toMs - count * HISTORY_BUCKET_MS;
    const rows = await this.ledger.history(fromMs, toMs, HISTORY_BUCKET_MS);
    const buckets: HistoryBucket[] = Array.from({ length: count }, (_, i) => ({ startMs: fromMs + i * HISTORY_BUCKET_MS, shares: 0, work: 0 }));
    for (const row of rows) {
      const bucket = buckets[row.bucket];
      if (bucket) Object.assign(bucket, { shares: row.shares, work: row.work });
    }
    return { hours, bucketMs: HISTORY_BUCKET_MS, fromMs, toMs, buckets };
  }
}
