import type { Difficulty } from '../../protocol/target.js';

export interface VardiffConfig {
  /** The share interval vardiff aims at. */
  targetIntervalMs: number;
  /** Bounds every session's difficulty (a session's minimum-difficulty can only raise the floor). */
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

/** Shares per estimate: with n shares the estimate deviates by about 1/sqrt(n), 20% here. */
const SHARES_PER_ESTIMATE = 24;
/**
 * A miner far too fast for its difficulty (a GPU starting at a browser's difficulty) is retargeted
 * after this many shares already, when they came this many times too fast: rare enough by chance
 * (8 shares in an eighth of their expected time) not to disturb a miner at the right difficulty.
 */
const FAST_RAMP_SHARES = 8;
const FAST_RAMP_FACTOR = 8;
/** Largest change in one step, so one lucky or unlucky spell cannot swing it too far. */
const MAX_STEP_UP = 16;
const MAX_STEP_DOWN = 8;

/**
 * Per-session variable difficulty. It estimates the miner's hash rate from the work of its shares
 * (count * difficulty * 2^32 over the elapsed time) and sets the difficulty at which shares
 * arrive every targetIntervalMs. Pure: the caller passes the clock.
 */
export class Vardiff {
  private current: Difficulty;
  private floor: Difficulty;
  private windowStartMs: number;
  private sharesInWindow = 0;

  constructor(
    private readonly config: VardiffConfig,
    startDifficulty: Difficulty,
    nowMs: number,
  ) {
    this.floor = config.minDifficulty;
    this.current = this.clamp(startDifficulty);
    this.windowStartMs = nowMs;
  }

  get difficulty(): Difficulty {
    return this.current;
  }

  /** mining.suggest_difficulty: the miner's own estimate, taken within bounds. */
  suggest(difficulty: Difficulty, nowMs: number): Difficulty {
    return this.set(difficulty, nowMs);
  }

  /** BIP310 minimum-difficulty: this session's floor, within the configured bounds. */
  setMinimum(difficulty: Difficulty, nowMs: number): Difficulty {
    this.floor = Math.min(Math.max(difficulty, this.config.minDifficulty), this.config.maxDifficulty);
    return this.set(this.current, nowMs);
  }

  /** Counts an accepted share; returns the new difficulty when it should change. */
  onShare(nowMs: number): Difficulty | undefined {
    this.sharesInWindow++;
    const elapsedMs = Math.max(nowMs - this.windowStartMs, 1);
    // (n - 1) / elapsed, not n / elapsed, is the unbiased rate estimate from n Poisson arrivals.
    const expectedMs = (this.sharesInWindow - 1) * this.config.targetIntervalMs;
    const enough = this.sharesInWindow >= SHARES_PER_ESTIMATE;
    const muchTooFast = this.sharesInWindow >= FAST_RAMP_SHARES && expectedMs / elapsedMs >= FAST_RAMP_FACTOR;
    if (!enough && !muchTooFast) return undefined;
    return this.retarget(expectedMs / elapsedMs, nowMs);
  }

  /**
   * Called periodically: a miner that finds shares much more slowly than the target (a phone
   * given a desktop's difficulty, say) must not wait for a full estimate to be helped.
   */
  onTick(nowMs: number): Difficulty | undefined {
    const elapsedMs = nowMs - this.windowStartMs;
    // Only when the window is six times longer than its shares should have taken: by chance that
    // happens to a miner at the right difficulty a few times in a thousand windows.
    const slots = this.sharesInWindow + 1;
    if (elapsedMs < 6 * this.config.targetIntervalMs * slots) return undefined;
    return this.retarget((slots * this.config.targetIntervalMs) / elapsedMs, nowMs);
  }

  private retarget(ratio: number, nowMs: number): Difficulty | undefined {
    if (ratio < this.config.hysteresis && ratio > 1 / this.config.hysteresis) {
      this.restartWindow(nowMs);
      return undefined;
    }
    const step = Math.min(Math.max(ratio, 1 / MAX_STEP_DOWN), MAX_STEP_UP);
    const before = this.current;
    const after = this.set(this.current * step, nowMs);
    return after === before ? undefined : after;
  }

  private set(difficulty: Difficulty, nowMs: number): Difficulty {
    this.current = this.clamp(difficulty);
    this.restartWindow(nowMs);
    return this.current;
  }

  private restartWindow(nowMs: number): void {
    this.windowStartMs = nowMs;
    this.sharesInWindow = 0;
  }

  /** Rounded to 4 significant digits so set_difficulty stays readable, then within bounds. */
  private clamp(difficulty: Difficulty): Difficulty {
    return Math.min(Math.max(Number(difficulty.toPrecision(4)), this.floor), this.config.maxDifficulty);
  }
}
