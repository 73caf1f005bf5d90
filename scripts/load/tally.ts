// What the miners report into: answers, rejections by reason, and every error the load did not
// ask for, counted per second (the progress line) and over the measurement window (the summary).
import { LatencyHistogram, type LatencySummary } from './latency.js';

/**
 * Rejections a correct miner still gets: a share in flight when a new block (clean job) arrives
 * is stale. Only those sent before the clean notify reached the miner are excused.
 */
const STALE_REASONS = new Set(['stale job', 'job not found']);

export interface Counts {
  sent: number;
  accepted: number;
  rejected: number;
  errors: number;
}

function add(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

export class Tally {
  /** The measurement window is open: answers count toward the summary. */
  counting = false;
  /** Miners are connected and the load is on: a close now is an error, not our own hang-up. */
  live = false;

  readonly total: Counts = { sent: 0, accepted: 0, rejected: 0, errors: 0 };
  readonly window: Counts = { sent: 0, accepted: 0, rejected: 0, errors: 0 };
  private second: Counts = { sent: 0, accepted: 0, rejected: 0, errors: 0 };

  readonly windowLatency = new LatencyHistogram();
  private readonly secondLatency = new LatencyHistogram();

  /** Over the whole run (warm-up and drain included): nothing here may go unseen. */
  readonly rejectedByReason = new Map<string, number>();
  readonly expectedRejectedByReason = new Map<string, number>();
  readonly errorsByKind = new Map<string, number>();
  /** Drops a reconnecting run expects (a gateway killed on purpose), and the shares they cut off. */
  readonly interruptionsByKind = new Map<string, number>();
  /** How far the pacer ran behind its schedule this second (the generator is saturated). */
  private secondLagMs = 0;
  maxLagMs = 0;

  sent(): void {
    this.total.sent++;
    this.second.sent++;
    if (this.counting) this.window.sent++;
  }

  /** A submit's answer: `staleExcused` when a clean job reached the miner after it was sent. */
  answer(latencyMs: number, result: unknown, error: unknown, staleExcused: boolean): void {
    this.secondLatency.record(latencyMs);
    if (this.counting) this.windowLatency.record(latencyMs);
    if (result === true) {
      this.total.accepted++;
      this.second.accepted++;
      if (this.counting) this.window.accepted++;
      return;
    }
    const reason = Array.isArray(error) && typeof error[1] === 'string' ? error[1] : `no result: ${JSON.stringify(error ?? result)}`;
    if (staleExcused && STALE_REASONS.has(reason)) {
      add(this.expectedRejectedByReason, `${reason} (sent before a new block reached the miner)`);
      return;
    }
    add(this.rejectedByReason, reason);
    this.total.rejected++;
    this.second.rejected++;
    if (this.counting) this.window.rejected++;
  }

  /** Anything the load did not ask for that is not a share rejection. */
  error(kind: string, n = 1): void {
    add(this.errorsByKind, kind, n);
    this.total.errors += n;
    this.second.errors += n;
    if (this.counting) this.window.errors += n;
  }

  interrupted(kind: string, n = 1): void {
    add(this.interruptionsByKind, kind, n);
  }

  lag(ms: number): void {
    if (ms > this.secondLagMs) this.secondLagMs = ms;
    if (ms > this.maxLagMs) this.maxLagMs = ms;
  }

  /** This second's counts and latencies; starts the next second. */
  takeSecond(): { counts: Counts; latency: LatencySummary; lagMs: number } {
    const taken = { counts: this.second, latency: this.secondLatency.summary(), lagMs: this.secondLagMs };
    this.second = { sent: 0, accepted: 0, rejected: 0, errors: 0 };
    this.secondLatency.reset();
    this.secondLagMs = 0;
    return taken;
  }
}
