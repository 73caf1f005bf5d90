import { difficultyToTarget, type Difficulty, type Target } from '../../protocol/target.js';
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

  constructor(config: VardiffConfig, startDifficulty: Difficulty, nowMs: number) {
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

  suggest(difficulty: Difficulty, nowMs: number): Difficulty {
    return this.vardiff.suggest(difficulty, nowMs);
  }

  /** The difficulty a suggestion would set, without taking it. */
  afterSuggestion(difficulty: Difficulty): Difficulty {
    return this.vardiff.afterSuggestion(difficulty);
  }

  setMinimum(difficulty: Difficulty, nowMs: number): Difficulty {
    return this.vardiff.setMinimum(difficulty, nowMs);
  }
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
