import type { Difficulty } from '../../protocol/target.js';

export interface VardiffConfig {
  /** The share interval vardiff aims at. */
  targetIntervalMs: number;
  /** Bounds every session's difficulty (a session's own floor can only raise the lower one). */
  minDifficulty: Difficulty;
  maxDifficulty: Difficulty;
  /**
   * Hysteresis: the estimated ideal difficulty must differ from the current one by more than this
   * factor (either way) before vardiff changes it, so Poisson noise does not make it churn.
   */
  hysteresis: number;
}

export const DEFAULT_VARDIFF: VardiffConfig = {
  targetIntervalMs: 10_000,
  minDifficulty: 1e-6,
  maxDifficulty: 1e12,
  hysteresis: 1.5,
};

/** Intervals per estimate: with n intervals the estimate deviates by about 1/sqrt(n), 20% here. */
const INTERVALS_PER_ESTIMATE = 24;
/**
 * An estimate that confirms the difficulty is extended rather than restarted, up to this many
 * intervals (10% deviation): a miner at the right difficulty is looked at again with more
 * evidence, so noise makes it change less often.
 */
const MAX_INTERVALS = 96;
/**
 * A miner far too fast for its difficulty (a GPU starting at a browser's difficulty) is retargeted
 * after this many intervals already, when they came this many times too fast: rare enough by
 * chance (8 intervals in an eighth of their expected time) not to disturb a miner at the right
 * difficulty.
 */
const FAST_RAMP_INTERVALS = 8;
const FAST_RAMP_FACTOR = 8;
/**
 * An estimate from 8 intervals is more than twice too high about once in 40: a fast step goes to
 * half the estimate, so it overshoots the right difficulty about that rarely, and 4x about 4 times
 * in a million steps. The full estimate (24 intervals) overshoots 4x about once in 10^8.
 */
const FAST_RAMP_SHARE = 0.5;
/** Largest change in one step, so one lucky or unlucky spell cannot swing it too far. */
const MAX_STEP_UP = 16;
const MAX_STEP_DOWN = 8;

/**
 * Per-session variable difficulty. It estimates the miner's hash rate from the intervals between
 * its shares at the difficulty in force and sets the difficulty at which shares arrive every
 * targetIntervalMs. Pure: the caller passes the clock.
 *
 * Each difficulty has a serial. A share counts for the estimate only when it was mined at the
 * current serial (its job was sent after the last change): a miner keeps working the job it has
 * for up to a minute after a new one (cpuminer does), and counting those shares as if they were
 * at the new difficulty multiplied every step (issue 18: 1,200 times the right difficulty in 24 s).
 * The estimate starts at the first share of the current serial, so the time the miner took to
 * switch is not counted as time without shares.
 */
export class Vardiff {
  private current: Difficulty;
  /** The session's own floor: its suggestion or BIP310 minimum-difficulty, within the bounds. */
  private floor: Difficulty;
  /** A floor the pool imposed (the per-address row budget): a miner's request cannot lower the floor below it. */
  private imposed = 0;
  private currentSerial = 0;
  private changedAtMs: number;
  /** The last share of an older serial since the change: the miner is still on its old job. */
  private lastOldShareMs: number | undefined;
  /** The first share at the current serial (or the last share before a kept estimate). */
  private anchorMs: number | undefined;
  private intervals = 0;
  /**
   * Whether the miner has sent a share: after that a suggestion can no longer lower the difficulty
   * (and so never restarts the estimate by lowering it). Lowering after shares let a miner that
   * asked for the floor every few shares restart the estimate before it ever retargeted, and stay
   * at the floor with thousands of ledger rows a second (issue 13).
   */
  private sharesSeen = false;

  constructor(
    private readonly config: VardiffConfig,
    startDifficulty: Difficulty,
    nowMs: number,
  ) {
    this.floor = config.minDifficulty;
    this.current = this.clamp(startDifficulty);
    this.changedAtMs = nowMs;
  }

  get difficulty(): Difficulty {
    return this.current;
  }

  /** Changes with every difficulty change: jobs carry the serial they were sent at. */
  get serial(): number {
    return this.currentSerial;
  }

  /** The lowest difficulty vardiff may set for this session. */
  get minimum(): Difficulty {
    return this.floor;
  }

  /**
   * A difficulty the miner asks for (suggest_difficulty, mining.suggest, d= in the password): it
   * becomes the session's floor, and raises the difficulty to it. It lowers the difficulty only
   * before the miner's first share; after that a lower floor leaves the difficulty and the
   * estimate as they are, so asking again and again cannot hold a fast miner at a low difficulty.
   */
  suggest(difficulty: Difficulty, nowMs: number): Difficulty {
    const next = this.afterSuggestion(difficulty);
    this.floor = Math.max(this.withinBounds(difficulty), this.imposed);
    return this.change(next, nowMs);
  }

  /** The difficulty a suggestion of `difficulty` would set, without taking it. */
  afterSuggestion(difficulty: Difficulty): Difficulty {
    const floor = Math.max(this.withinBounds(difficulty), this.imposed);
    const wanted = this.sharesSeen ? Math.max(this.current, floor) : floor;
    return Math.min(Math.max(Number(wanted.toPrecision(4)), floor), this.config.maxDifficulty);
  }

  /** BIP310 minimum-difficulty: this session's floor, within the configured bounds. */
  setMinimum(difficulty: Difficulty, nowMs: number): Difficulty {
    this.floor = Math.max(this.withinBounds(difficulty), this.imposed);
    return this.change(this.current, nowMs);
  }

  /**
   * The pool raises this session's floor (and difficulty) to `difficulty`: its address causes
   * more ledger rows than its budget (row-budget.ts). Requests cannot take the floor below it.
   */
  imposeFloor(difficulty: Difficulty, nowMs: number): Difficulty {
    this.imposed = Math.max(this.imposed, this.withinBounds(difficulty));
    this.floor = Math.max(this.floor, this.imposed);
    return this.change(this.current, nowMs);
  }

  /**
   * Counts an accepted share mined at difficulty serial `serial` (by default the current one);
   * returns the new difficulty when it should change.
   */
  onShare(nowMs: number, serial = this.currentSerial): Difficulty | undefined {
    this.sharesSeen = true;
    if (serial !== this.currentSerial) {
      this.lastOldShareMs = nowMs;
      return undefined;
    }
    if (this.anchorMs === undefined) {
      this.anchorMs = nowMs;
      return undefined;
    }
    this.intervals++;
    const elapsedMs = Math.max(nowMs - this.anchorMs, 1);
    // (n - 1) / elapsed, not n / elapsed, is the unbiased rate estimate from n Poisson intervals.
    const ratio = ((this.intervals - 1) * this.config.targetIntervalMs) / elapsedMs;
    if (this.intervals % INTERVALS_PER_ESTIMATE === 0) return this.retarget(ratio, nowMs);
    if (this.intervals >= FAST_RAMP_INTERVALS && ratio >= FAST_RAMP_FACTOR) return this.retarget(ratio * FAST_RAMP_SHARE, nowMs);
    return undefined;
  }

  /**
   * Called periodically: a miner that finds shares much more slowly than the target (a phone
   * given a desktop's difficulty, say) must not wait for a full estimate to be helped.
   */
  onTick(nowMs: number): Difficulty | undefined {
    // Before its first share at this difficulty the miner is quiet only since its last old one.
    const sinceMs = this.anchorMs ?? Math.max(this.changedAtMs, this.lastOldShareMs ?? -Infinity);
    const elapsedMs = nowMs - sinceMs;
    // Only when the window is six times longer than its shares should have taken: by chance that
    // happens to a miner at the right difficulty a few times in a thousand windows.
    const slots = this.intervals + 1;
    if (elapsedMs < 6 * this.config.targetIntervalMs * slots) return undefined;
    return this.retarget((slots * this.config.targetIntervalMs) / elapsedMs, nowMs);
  }

  private retarget(ratio: number, nowMs: number): Difficulty | undefined {
    // A slow miner retargeted by the tick has been measured too: no lowering suggestion after it.
    this.sharesSeen = true;
    const step = Math.min(Math.max(ratio, 1 / MAX_STEP_DOWN), MAX_STEP_UP);
    if (step < this.config.hysteresis && step > 1 / this.config.hysteresis) {
      return this.intervals < MAX_INTERVALS ? undefined : this.keepEstimating(nowMs);
    }
    const before = this.current;
    const after = this.change(this.current * step, nowMs);
    if (after !== before) return after;
    // At a bound: nothing to change, so measure again from here.
    return this.keepEstimating(nowMs);
  }

  /** The difficulty is right: a new estimate from this moment, at the same serial. */
  private keepEstimating(nowMs: number): undefined {
    this.anchorMs = nowMs;
    this.intervals = 0;
    return undefined;
  }

  private change(difficulty: Difficulty, nowMs: number): Difficulty {
    const next = this.clamp(difficulty);
    if (next === this.current) return this.current;
    this.current = next;
    this.currentSerial++;
    this.changedAtMs = nowMs;
    this.lastOldShareMs = undefined;
    this.anchorMs = undefined;
    this.intervals = 0;
    return this.current;
  }

  /** `difficulty` within the configured range. */
  withinBounds(difficulty: Difficulty): Difficulty {
    return Math.min(Math.max(difficulty, this.config.minDifficulty), this.config.maxDifficulty);
  }

  /** Rounded to 4 significant digits so set_difficulty stays readable, then within bounds. */
  private clamp(difficulty: Difficulty): Difficulty {
    return Math.min(Math.max(Number(difficulty.toPrecision(4)), this.floor), this.config.maxDifficulty);
  }
}
