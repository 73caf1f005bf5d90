// Vardiff and the job manager against a simulated cpuminer (minerd), on a simulated clock: the
// miner switches work only when the header changes, a job that is not clean after up to 60 s; it
// mines each job at the difficulty that was in force when the job arrived. Shares are credited at
// their job's difficulty, as the session does, and vardiff is told which difficulty they were at.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_CONFIG } from '../server/config.js';
import { DEFAULT_VARDIFF, Vardiff } from '../server/stratum/vardiff.js';
import { JobManager, type Job } from '../server/work/job-manager.js';
import type { WorkTemplate } from '../server/work/work-source.js';
import { random } from './helpers/seeded-random.js';

const TWO_32 = 2 ** 32;
const TARGET_MS = DEFAULT_VARDIFF.targetIntervalMs;

interface Run {
  /** Every difficulty vardiff set, with when. */
  changes: { atMs: number; difficulty: number }[];
  /** Accepted shares after `settledMs`: their times. */
  settledShareTimesMs: number[];
  finalDifficulty: number;
  credited: number;
  /** The work of every share the miner found, at the difficulty it was mining. */
  found: number;
  refused: number;
  /** Hashes done: hash rate times time. */
  hashes: number;
}

/**
 * One minerd rig of `hashesPerSecond` for `durationMs`, against a gateway session's difficulty
 * logic: a non-clean template every 30 s, vardiff ticks every 5 s, a retarget re-sends the current
 * work as the session does (a derived job with the next ntime).
 */
function mineLikeMinerd(hashesPerSecond: number, durationMs: number, seed: number, settledMs = durationMs): Run {
  const rand = random(seed);
  let nowMs = 1_700_000_000_000;
  const startMs = nowMs;
  const jobs = new JobManager({ staleGraceMs: DEFAULT_CONFIG.staleGraceMs, refreshIntervalMs: 1e9 }, () => nowMs);
  const vardiff = new Vardiff(DEFAULT_VARDIFF, DEFAULT_CONFIG.startDifficulty, nowMs);
  /** What the session sent each job at: its difficulty and vardiff's serial. */
  const sentAt = new Map<string, { difficulty: number; serial: number }>();
  let lastNtime = 0;
  const header = (job: Job) => job.notifyParams.slice(1, 8).join();
  // The miner: the work it hashes, and the newest job it was sent (with the difficulty then).
  let working: { job: Job; difficulty: number } | undefined;
  let newest: { job: Job; difficulty: number } | undefined;
  let switchAtMs = Infinity;
  const notify = (job: Job) => {
    sentAt.set(job.id, { difficulty: vardiff.difficulty, serial: vardiff.serial });
    lastNtime = job.stratum.ntime;
    newest = { job, difficulty: vardiff.difficulty };
    if (!working || job.stratum.cleanJobs) {
      working = newest;
      switchAtMs = Infinity;
    } else if (header(job) !== header(working.job) && switchAtMs === Infinity) {
      // minerd's threads pick up new work when their scan ends: within LP_SCANTIME, 60 s.
      switchAtMs = nowMs + rand() * 60_000;
    }
  };
  let ntime = Math.floor(nowMs / 1000);
  const template = (clean: boolean): WorkTemplate => ({
    prevhash: new Uint8Array(32).fill(1),
    coinb1: Uint8Array.of(1, 2, 3),
    coinb2: Uint8Array.of(4, 5, 6),
    extranonceSize: 8,
    merkleBranch: [],
    version: 0x20000000,
    bits: 0x1d00ffff,
    ntime: (ntime = Math.max(ntime, Math.floor(nowMs / 1000))),
    cleanJobs: clean,
  });
  jobs.onJob(notify);
  const retarget = () => {
    const current = jobs.current!;
    const ntimeNext = Math.min(Math.max(current.template.ntime, Math.floor(nowMs / 1000), lastNtime + 1), current.template.ntime + DEFAULT_CONFIG.ntimeRollSeconds / 2);
    notify(jobs.derive(current, ntimeNext));
  };
  const run: Run = { changes: [], settledShareTimesMs: [], finalDifficulty: 0, credited: 0, found: 0, refused: 0, hashes: 0 };
  const changed = (difficulty: number | undefined) => {
    if (difficulty === undefined) return;
    run.changes.push({ atMs: nowMs - startMs, difficulty });
    retarget();
  };
  try {
    jobs.accept(template(true));
    let nextTemplateMs = nowMs + 30_000;
    let nextTickMs = nowMs + 5_000;
    const draw = () => nowMs + (-Math.log(rand()) * working!.difficulty * TWO_32 * 1000) / hashesPerSecond;
    let nextShareMs = draw();
    const endMs = startMs + durationMs;
    for (;;) {
      const at = Math.min(nextShareMs, nextTemplateMs, nextTickMs, switchAtMs, endMs);
      run.hashes += ((at - nowMs) / 1000) * hashesPerSecond;
      nowMs = at;
      if (at === endMs) break;
      if (at === nextShareMs) {
        const job = working!.job;
        run.found += working!.difficulty;
        if (jobs.check(job.id).ok) {
          const credit = sentAt.get(job.id)!;
          run.credited += credit.difficulty;
          if (nowMs - startMs >= settledMs) run.settledShareTimesMs.push(nowMs);
          changed(vardiff.onShare(nowMs, credit.serial));
        } else {
          run.refused++;
        }
      } else if (at === nextTemplateMs) {
        nextTemplateMs += 30_000;
        jobs.accept(template(false));
      } else if (at === nextTickMs) {
        nextTickMs += 5_000;
        changed(vardiff.onTick(nowMs));
      } else {
        working = newest;
        switchAtMs = Infinity;
      }
      // Arrivals are memoryless: draw the next one at whatever the miner now mines.
      nextShareMs = draw();
    }
  } finally {
    jobs.stop();
  }
  run.finalDifficulty = vardiff.difficulty;
  return run;
}

describe('vardiff with a miner that behaves like cpuminer', () => {
  for (const megahashes of [1, 5, 50]) {
    test(`${megahashes} MH/s: converges within 2x of the target interval, never steps above 4x the right difficulty, and no share is refused`, () => {
      const hashesPerSecond = megahashes * 1e6;
      const ideal = (hashesPerSecond * TARGET_MS) / 1000 / TWO_32;
      const run = mineLikeMinerd(hashesPerSecond, 40 * 60_000, megahashes, 10 * 60_000);
      for (const change of run.changes) {
        assert.ok(change.difficulty <= 4 * ideal, `at ${(change.atMs / 1000).toFixed(0)} s vardiff set ${change.difficulty}, ${(change.difficulty / ideal).toFixed(1)}x the right ${ideal.toPrecision(3)}`);
      }
      const settled = run.changes.filter((c) => c.atMs <= 5 * 60_000).at(-1)?.difficulty ?? DEFAULT_CONFIG.startDifficulty;
      assert.ok(settled / ideal < 2 && ideal / settled < 2, `after 5 min: ${settled} vs ${ideal.toPrecision(3)} (${JSON.stringify(run.changes)})`);
      const times = run.settledShareTimesMs;
      const meanMs = (times.at(-1)! - times[0]!) / (times.length - 1);
      assert.ok(times.length > 60, `${times.length} shares in 30 minutes`);
      assert.ok(meanMs > TARGET_MS / 2 && meanMs < TARGET_MS * 2, `mean interval ${meanMs.toFixed(0)} ms after 10 min, target ${TARGET_MS}`);
      assert.equal(run.refused, 0, 'every share was on a job of the current block');
      assert.equal(run.credited, run.found, 'every share found is credited at the difficulty it was mined at');
    });
  }

  test('credited work matches true work within 2% over 10-minute runs (a farm of 2,400 rigs at 1, 5 and 50 MH/s)', () => {
    let credited = 0;
    let hashes = 0;
    for (let rig = 0; rig < 2_400; rig++) {
      const megahashes = [1, 5, 50][rig % 3]!;
      const run = mineLikeMinerd(megahashes * 1e6, 10 * 60_000, 1000 + rig);
      credited += run.credited * TWO_32;
      hashes += run.hashes;
      assert.equal(run.refused, 0);
    }
    const ratio = credited / hashes;
    // Reported for README: how close the farm's credit is to the hashes it did.
    console.log(`credited / true work over 2,400 ten-minute minerd runs: ${ratio.toFixed(4)}`);
    assert.ok(Math.abs(ratio - 1) < 0.02, `credited ${ratio.toFixed(4)} of the true work`);
  });
});

describe('a suggestion sets a floor, not the estimate', () => {
  test('a fast miner that suggests a low difficulty every 5 s is still raised to its own', () => {
    const hashesPerSecond = 50e6;
    const ideal = (hashesPerSecond * TARGET_MS) / 1000 / TWO_32;
    const rand = random(11);
    let nowMs = 0;
    const vardiff = new Vardiff(DEFAULT_VARDIFF, 0.001, nowMs);
    let nextSuggestMs = 0;
    let nextShareMs = 0;
    while (nowMs < 10 * 60_000) {
      if (nextSuggestMs <= nextShareMs) {
        nowMs = nextSuggestMs;
        nextSuggestMs += 5_000;
        vardiff.suggest(1e-4, nowMs);
      } else {
        nowMs = nextShareMs;
        vardiff.onShare(nowMs);
      }
      nextShareMs = nowMs + (-Math.log(rand()) * vardiff.difficulty * TWO_32 * 1000) / hashesPerSecond;
    }
    assert.ok(vardiff.difficulty > ideal / 2 && vardiff.difficulty < ideal * 2, `difficulty ${vardiff.difficulty} after 10 min, right ${ideal.toPrecision(3)}`);
    assert.equal(vardiff.minimum, 1e-4);
  });
});
