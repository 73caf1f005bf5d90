// The one place a share's outcome is counted. The Miner feeds it; the contributor session, its
// records (IndexedDB) and its events, the CLI and the widget all read it, so no two figures of
// "accepted" can ever disagree.
import type { EngineName } from './engine.js';
import type { FoundShare, ShareOutcome } from './pool-client.js';

export interface EngineCounts {
  accepted: number;
  rejected: number;
}

export interface TallyCounts {
  /** Shares found and sent (or queued for the pool). */
  found: number;
  accepted: number;
  rejected: number;
  /** Sent, not answered yet. */
  pending: number;
  rejectReasons: Record<string, number>;
  lastRejectReason?: string;
  byEngine: Record<string, EngineCounts>;
}

/** What happened to one share: `sent` when it goes to the pool, `answered` once its outcome is known. */
export type TallyEvent =
  | { type: 'sent'; serial: number; share: FoundShare; engine: EngineName }
  | { type: 'answered'; serial: number; share: FoundShare; engine: EngineName; outcome: ShareOutcome };

function emptyCounts(): TallyCounts {
  return { found: 0, accepted: 0, rejected: 0, pending: 0, rejectReasons: {}, byEngine: {} };
}

export class ShareTally {
  private counts = emptyCounts();
  private serial = 0;
  /** Bumped by reset(): answers to shares sent before it are still told, not counted. */
  private generation = 0;
  private readonly listeners = new Set<(event: TallyEvent) => void>();

  /** Counts `share` as sent now and its outcome when it comes; returns the outcome. */
  track(share: FoundShare, engine: EngineName, outcome: Promise<ShareOutcome>): Promise<ShareOutcome> {
    const serial = ++this.serial;
    const generation = this.generation;
    this.counts.found++;
    this.counts.pending++;
    this.tell({ type: 'sent', serial, share, engine });
    return outcome.then((answer) => {
      if (generation === this.generation) this.count(answer, engine);
      this.tell({ type: 'answered', serial, share, engine, outcome: answer });
      return answer;
    });
  }

  /** Starts the counts over (a new contribution session). */
  reset(): void {
    this.counts = emptyCounts();
    this.generation++;
  }

  snapshot(): TallyCounts {
    const c = this.counts;
    return {
      ...c,
      rejectReasons: { ...c.rejectReasons },
      byEngine: Object.fromEntries(Object.entries(c.byEngine).map(([name, n]) => [name, { ...n }])),
    };
  }

  get accepted(): number {
    return this.counts.accepted;
  }

  get rejected(): number {
    return this.counts.rejected;
  }

  get pending(): number {
    return this.counts.pending;
  }

  onEvent(listener: (event: TallyEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private count(answer: ShareOutcome, engine: EngineName): void {
    const c = this.counts;
    c.pending--;
    const perEngine = (c.byEngine[engine] ??= { accepted: 0, rejected: 0 });
    if (answer.accepted) {
      c.accepted++;
      perEngine.accepted++;
      return;
    }
    c.rejected++;
    perEngine.rejected++;
    const reason = answer.reason ?? 'refused';
    c.rejectReasons[reason] = (c.rejectReasons[reason] ?? 0) + 1;
    c.lastRejectReason = reason;
  }

  private tell(event: TallyEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
