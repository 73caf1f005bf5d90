import type { Job } from '../work/job-manager.js';

/**
 * How jobs reach every session: in slices, so that the shares arriving meanwhile are answered
 * between them. Writing to 20,000 sockets is a few hundred milliseconds of the event loop.
 *
 * - A clean job (a new previous block: miners must drop their work) goes out as fast as it can,
 *   a slice per turn of the event loop, and supersedes every job still going out.
 * - A refresh (same previous block) asks nothing urgent, so it is spread over `refreshSpreadMs`.
 *   Sent in 2 s, a refresh was a few seconds of doubled answer latency every 30 s under load
 *   (README "Load"); spread over 4 s the same work hides between shares. The default spread is
 *   well inside the grace of the previous template (120 s by default).
 */
export interface BroadcastPacing {
  cleanSlice: number;
  refreshSpreadMs: number;
  refreshPauseMs: number;
  /** A refresh never goes out in slices smaller than this (small pools get it at once). */
  minRefreshSlice: number;
}

export const DEFAULT_PACING: BroadcastPacing = { cleanSlice: 1_000, refreshSpreadMs: 4_000, refreshPauseMs: 50, minRefreshSlice: 200 };

export interface Recipients<S> {
  /** Who is connected now: a job's turn takes a snapshot; later sessions get the current job when they authorize. */
  snapshot(): S[];
  /** Whether a session of the snapshot is still there (one that closed since has nothing to receive). */
  isLive(session: S): boolean;
  deliver(session: S, job: Job): void;
}

export class JobBroadcast<S> {
  /** Jobs waiting to go out, oldest first: each reaches every session in the order they came. */
  private readonly outbox: Job[] = [];
  private pending: S[] = [];
  private next = 0;
  private sending = false;
  private pause: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(
    private readonly recipients: Recipients<S>,
    private readonly pacing: BroadcastPacing = DEFAULT_PACING,
  ) {}

  /** Sends `job` to every session: the first slice now, the rest on following turns. */
  send(job: Job): void {
    if (this.closed) return;
    if (isClean(job)) {
      // Sessions not reached yet by older jobs skip straight to this one.
      this.outbox.length = 0;
      this.cancelTurn();
      this.sending = false;
      this.outbox.push(job);
      return this.sendSlices();
    }
    this.outbox.push(job);
    if (!this.sending) this.sendSlices();
  }

  close(): void {
    this.closed = true;
    this.outbox.length = 0;
    this.pending = [];
    this.cancelTurn();
  }

  private sendSlices(): void {
    while (!this.closed) {
      const job = this.outbox[0];
      if (!job) return;
      if (!this.sending) {
        this.pending = this.recipients.snapshot();
        this.next = 0;
        this.sending = true;
      }
      const clean = isClean(job);
      const { cleanSlice, refreshSpreadMs, refreshPauseMs, minRefreshSlice } = this.pacing;
      const slice = clean ? cleanSlice : Math.max(minRefreshSlice, Math.ceil(this.pending.length / Math.max(1, refreshSpreadMs / refreshPauseMs)));
      const end = Math.min(this.pending.length, this.next + slice);
      for (; this.next < end; this.next++) {
        const session = this.pending[this.next]!;
        if (this.recipients.isLive(session)) this.recipients.deliver(session, job);
      }
      if (this.next < this.pending.length) {
        if (clean) this.immediate = setImmediate(() => this.sendSlices());
        else this.pause = setTimeout(() => this.sendSlices(), refreshPauseMs);
        return;
      }
      this.outbox.shift();
      this.pending = [];
      this.sending = false;
    }
  }

  private cancelTurn(): void {
    clearTimeout(this.pause);
    if (this.immediate) clearImmediate(this.immediate);
    this.pause = undefined;
    this.immediate = undefined;
  }
}

function isClean(job: Job): boolean {
  return job.notifyParams[8] === true;
}
