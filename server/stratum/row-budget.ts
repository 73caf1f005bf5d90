import { clientKey } from '../client-key.js';

/**
 * Ledger rows per second one client address may cause (issue 13: one address wrote ~12,800 share
 * rows a second from 50 sessions held at the floor). Over the budget, its sessions are asked to
 * raise their difficulty floors by the factor the address is over: its work is still credited
 * in full, in fewer, larger shares. Pure apart from the clock the caller passes.
 *
 * Accepted shares are counted per address in fixed windows of WINDOW_MS. A window over the budget
 * opens a new "raise" (a serial and a factor); each session of the address applies it once, on
 * its next accepted share. The window after a raise is not judged: shares mined at the old
 * difficulties are still arriving in it, and would make the next raise overshoot.
 */
export class RowBudget {
  private readonly addresses = new Map<string, AddressWindow>();
  /** Raise serials count across addresses, so an address forgotten and seen again never reuses one. */
  private raises = 0;

  constructor(private readonly rowsPerSecond: number) {}

  /**
   * Counts an accepted share from `address`; returns the raise its sessions are to apply (the
   * caller compares its serial with the last it applied), or undefined while within the budget.
   */
  onShare(address: string, nowMs: number): Raise | undefined {
    const key = clientKey(address);
    let w = this.addresses.get(key);
    if (w === undefined) this.addresses.set(key, (w = { startMs: nowMs, rows: 0, raise: undefined, judgeNext: true, lastMs: nowMs }));
    w.lastMs = nowMs;
    if (nowMs - w.startMs >= WINDOW_MS) {
      const perSecond = (w.rows * 1000) / (nowMs - w.startMs);
      const over = perSecond / this.rowsPerSecond;
      if (w.judgeNext && over > TOLERANCE) {
        w.raise = { serial: ++this.raises, factor: over * HEADROOM };
        w.judgeNext = false;
      } else {
        w.judgeNext = true;
      }
      w.startMs = nowMs;
      w.rows = 0;
      this.forgetIdle(nowMs);
    }
    w.rows++;
    return w.raise;
  }

  /** Addresses without a share for a while: their windows would otherwise pile up. */
  private forgetIdle(nowMs: number): void {
    if (nowMs - this.lastSweepMs < IDLE_MS) return;
    this.lastSweepMs = nowMs;
    for (const [key, w] of this.addresses) if (nowMs - w.lastMs > IDLE_MS) this.addresses.delete(key);
  }
  private lastSweepMs = 0;
}

/** The factor by which an address was over its budget, numbered so each session applies it once. */
export interface Raise {
  serial: number;
  factor: number;
}

interface AddressWindow {
  startMs: number;
  rows: number;
  raise: Raise | undefined;
  /** False for the window right after a raise (see the class comment). */
  judgeNext: boolean;
  lastMs: number;
}

/** Two seconds: 100 rows at the default budget of 50, enough to tell a rate from noise. */
const WINDOW_MS = 2_000;
/** Poisson noise in a window of ~100 rows is ~10%: a raise only past 10% over. */
const TOLERANCE = 1.1;
/**
 * A raise aims at 1/1.2 of the budget, so noise around the aim seldom crosses the tolerance again
 * (that takes +32%, three deviations) and the address settles below the budget, not at its edge.
 */
const HEADROOM = 1.2;
/** An address forgotten after this long without an accepted share (it keeps no raise). */
const IDLE_MS = 10 * 60_000;
