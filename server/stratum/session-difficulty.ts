import { difficultyToTarget, parseDifficulty, type Difficulty, type Target } from '../../protocol/target.js';
import { Vardiff, type VardiffConfig } from './vardiff.js';

/** What a job was sent to a session at: its shares are judged and credited by it. */
export interface JobDifficulty {
  difficulty: Difficulty;
  /** Parsed once per job: parsing a difficulty into a 256-bit target per share would be wasted work. */
  target: Target;
  /** Vardiff's serial when the job went out: shares of jobs older than a change do not count for its estimate. */
  serial: number;
}

/**
 * One session's difficulty: vardiff, and the difficulty each job was sent at. A share is credited
 * at its job's difficulty, and vardiff counts it at that difficulty too, so a miner still on the
 * job it had before a retarget neither loses credit nor misleads the estimate.
 */
export class SessionDifficulty {
  private readonly vardiff: Vardiff;
  private readonly jobs = new Map<string, JobDifficulty>();
  /** When a difficulty request last changed the difficulty (and so minted a job for this session). */
  private lastRequestChangeMs = -Infinity;

  /** `changeIntervalMs`: how often difficulty requests may change the difficulty (--suggest-every-seconds). */
  constructor(config: VardiffConfig, startDifficulty: Difficulty, nowMs: number, private readonly changeIntervalMs: number) {
    this.vardiff = new Vardiff(config, startDifficulty, nowMs);
  }

  get current(): Difficulty {
    return this.vardiff.difficulty;
  }

  get minimum(): Difficulty {
    return this.vardiff.minimum;
  }

  /** A job goes out to the session now, at the current difficulty. */
  sent(jobId: string): void {
    const difficulty = this.vardiff.difficulty;
    this.jobs.set(jobId, { difficulty, target: targetFor(difficulty), serial: this.vardiff.serial });
  }

  /** Forgets the jobs the job manager has dropped. */
  forgetUnless(live: (jobId: string) => boolean): void {
    for (const id of this.jobs.keys()) if (!live(id)) this.jobs.delete(id);
  }

  /** The difficulty a share of `jobId` is judged and credited at. */
  of(jobId: string): JobDifficulty {
    return this.jobs.get(jobId) ?? { difficulty: this.vardiff.difficulty, target: targetFor(this.vardiff.difficulty), serial: this.vardiff.serial };
  }

  /** Counts an accepted share of `jobId`; returns the new difficulty when it should change. */
  onShare(jobId: string, nowMs: number): Difficulty | undefined {
    return this.vardiff.onShare(nowMs, this.of(jobId).serial);
  }

  onTick(nowMs: number): Difficulty | undefined {
    return this.vardiff.onTick(nowMs);
  }

  /**
   * A difficulty the miner asks for (suggest_difficulty, mining.suggest, d= in the password): the
   * session's floor, within the configured range (vardiff.ts says when it also moves the
   * difficulty). When jobs are flowing a change mints the session a job, so one may happen once
   * every `changeIntervalMs`: a request that would change it sooner is 'refused'; a repeated
   * request changes nothing ('unchanged') and is always answered.
   */
  request(difficulty: Difficulty, nowMs: number, mintsJob: boolean): 'changed' | 'unchanged' | 'refused' {
    const before = this.vardiff.difficulty;
    const tooSoon = mintsJob && nowMs - this.lastRequestChangeMs < this.changeIntervalMs;
    if (tooSoon && this.vardiff.afterSuggestion(difficulty) !== before) return 'refused';
    if (this.vardiff.suggest(difficulty, nowMs) === before) return 'unchanged';
    if (mintsJob) this.lastRequestChangeMs = nowMs;
    return 'changed';
  }

  /** Raises the floor to `factor` times the current difficulty (the row budget); returns whether the difficulty changed. */
  raiseBy(factor: number, nowMs: number): boolean {
    const before = this.vardiff.difficulty;
    // Four significant digits, as every difficulty sent (vardiff.ts clamp).
    return this.vardiff.imposeFloor(Number((before * factor).toPrecision(4)), nowMs) !== before;
  }

  /** BIP310 minimum-difficulty: the session's floor; a change it makes is bounded as request()'s are. */
  setMinimum(difficulty: Difficulty, nowMs: number, mintsJob: boolean): 'changed' | 'unchanged' | 'refused' {
    const before = this.vardiff.difficulty;
    const tooSoon = mintsJob && nowMs - this.lastRequestChangeMs < this.changeIntervalMs;
    if (tooSoon && Math.max(before, this.vardiff.withinBounds(difficulty)) !== before) return 'refused';
    if (this.vardiff.setMinimum(difficulty, nowMs) === before) return 'unchanged';
    if (mintsJob) this.lastRequestChangeMs = nowMs;
    return 'changed';
  }
}

/** The `d=` of a password such as `x,d=1024` or `d=0.5`; undefined when there is none or it is not a difficulty. */
export function passwordDifficulty(password: unknown): Difficulty | undefined {
  if (typeof password !== 'string') return undefined;
  const match = /(?:^|[,;\s])d=([0-9][0-9.eE+-]{0,31})(?=$|[,;\s])/.exec(password.slice(0, 256));
  if (!match) return undefined;
  try {
    parseDifficulty(match[1]);
  } catch {
    return undefined;
  }
  return Number(match[1]);
}

/** difficultyToTarget, remembered for the last difficulty: most sessions of a broadcast share one. */
let lastDifficulty: Difficulty | undefined;
let lastTarget: Target = 0n;
function targetFor(difficulty: Difficulty): Target {
  if (difficulty !== lastDifficulty) {
    lastTarget = difficultyToTarget(difficulty);
    lastDifficulty = difficulty;
  }
  return lastTarget;
}
