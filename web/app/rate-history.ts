// The hash rate once a second over the last minute, for the chart: a view of the session's stats.
export interface RatePoint {
  atMs: number;
  hashesPerSecond: number;
}

const SPAN_MS = 60_000;
const EVERY_MS = 1000;

/** `points` with the rate at `nowMs` added (at most one point a second) and the older than a minute dropped. */
export function addRatePoint(points: RatePoint[], nowMs: number, hashesPerSecond: number): RatePoint[] {
  const last = points[points.length - 1];
  if (last && nowMs - last.atMs < EVERY_MS) return points;
  return [...points.filter((p) => nowMs - p.atMs <= SPAN_MS), { atMs: nowMs, hashesPerSecond }];
}
