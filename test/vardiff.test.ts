// Vardiff against simulated miners: share arrivals are a Poisson process whose rate follows from
// the miner's hash rate and the difficulty in force, as for a real miner.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_VARDIFF, Vardiff } from '../server/stratum/vardiff.js';
import { random } from './helpers/seeded-random.js';

const TWO_32 = 2 ** 32;

interface Simulation {
  intervalsMs: number[];
  finalDifficulty: number;
}

/** Runs a miner of `hashesPerSecond` against vardiff for `durationMs` of simulated time. */
function simulate(vardiff: Vardiff, hashesPerSecond: number, fromMs: number, durationMs: number, rand: () => number): Simulation {
  const tickMs = 5_000;
  const intervalsMs: number[] = [];
  let now = fromMs;
  let lastShare = fromMs;
  let nextTick = fromMs + tickMs;
  const nextArrival = () => now + (-Math.log(rand()) * vardiff.difficulty * TWO_32 * 1000) / hashesPerSecond;
  let nextShare = nextArrival();
  while (now < fromMs + durationMs) {
    if (nextShare <= nextTick) {
      now = nextShare;
      intervalsMs.push(now - lastShare);
      lastShare = now;
      vardiff.onShare(now);
      nextShare = nextArrival();
    } else {
      now = nextTick;
      nextTick += tickMs;
      // Arrivals are memoryless: after a change the next one is drawn at the new difficulty.
      if (vardiff.onTick(now) !== undefined) nextShare = nextArrival();
    }
  }
  return { intervalsMs, finalDifficulty: vardiff.difficulty };
}

describe('vardiff converges to the target share interval', () => {
  for (const hashesPerSecond of [1e5, 1e6, 1e7, 1e8, 1e9]) {
    test(`${hashesPerSecond / 1e6} MH/s from the default start difficulty 0.001`, () => {
      const rand = random(hashesPerSecond);
      const vardiff = new Vardiff(DEFAULT_VARDIFF, 0.001, 0);
      const warmup = simulate(vardiff, hashesPerSecond, 0, 20 * 60_000, rand);
      const ideal = (hashesPerSecond * DEFAULT_VARDIFF.targetIntervalMs) / 1000 / TWO_32;
      assert.ok(warmup.finalDifficulty / ideal < 2.5 && ideal / warmup.finalDifficulty < 2.5, `after 20 min: ${warmup.finalDifficulty} vs ideal ${ideal}`);
      // Then an hour at steady state: the mean interval is the target's.
      const steady = simulate(vardiff, hashesPerSecond, 20 * 60_000, 60 * 60_000, rand);
      const meanMs = steady.intervalsMs.reduce((a, b) => a + b, 0) / steady.intervalsMs.length;
      assert.ok(steady.intervalsMs.length > 200, `${steady.intervalsMs.length} shares in an hour`);
      assert.ok(meanMs > 7_000 && meanMs < 14_000, `mean interval ${meanMs.toFixed(0)} ms, target 10000`);
    });
  }

  test('a fast miner reaches its difficulty within a minute', () => {
    const vardiff = new Vardiff(DEFAULT_VARDIFF, 0.001, 0);
    const run = simulate(vardiff, 1e9, 0, 60_000, random(7));
    const ideal = 1e9 * 10 / TWO_32;
    assert.ok(run.finalDifficulty > ideal / 3, `difficulty ${run.finalDifficulty} after a minute, ideal ${ideal}`);
  });
});

describe('vardiff bounds', () => {
  test('honours suggest_difficulty and minimum-difficulty within the configured bounds', () => {
    const vardiff = new Vardiff({ ...DEFAULT_VARDIFF, minDifficulty: 1e-4, maxDifficulty: 1000 }, 0.01, 0);
    assert.equal(vardiff.suggest(512, 0), 512);
    assert.equal(vardiff.suggest(1e6, 0), 1000);
    assert.equal(vardiff.suggest(1e-9, 0), 1e-4);
    assert.equal(vardiff.setMinimum(0.5, 0), 0.5);
    // Slow shares cannot take it below the session's floor.
    for (let t = 1; t < 100; t++) vardiff.onTick(t * 60_000);
    assert.equal(vardiff.difficulty, 0.5);
  });
  test('asking for the floor every 7 shares neither lowers the difficulty nor restarts the estimate: a fast miner is raised', () => {
    const vardiff = new Vardiff({ ...DEFAULT_VARDIFF, minDifficulty: 1e-6 }, 1e-6, 0);
    vardiff.suggest(2e-6, 0);
    // A share every millisecond at 2e-6 is thousands of times the target rate.
    let t = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 7; i++) vardiff.onShare((t += 1));
      // The attack alternated: the low one, before this change, lowered it and restarted the window.
      vardiff.suggest(round % 2 === 0 ? 1e-6 : 2e-6, t);
    }
    assert.ok(vardiff.difficulty > 1e-4, `difficulty ${vardiff.difficulty} after 140 shares in 140 ms`);
    assert.equal(vardiff.minimum, 2e-6, 'the last request is the floor');
  });
  test('a floor the pool imposes (row budget) cannot be lowered by a request', () => {
    const vardiff = new Vardiff({ ...DEFAULT_VARDIFF, minDifficulty: 1e-6 }, 1e-6, 0);
    assert.equal(vardiff.imposeFloor(4e-6, 0), 4e-6);
    vardiff.suggest(1e-6, 1);
    vardiff.setMinimum(1e-6, 2);
    assert.equal(vardiff.minimum, 4e-6);
    for (let t = 1; t < 100; t++) vardiff.onTick(t * 60_000);
    assert.equal(vardiff.difficulty, 4e-6, 'slow shares do not take it below the imposed floor');
  });
  test('does not churn on noise: a miner at its ideal difficulty keeps it', () => {
    const ideal = 1e7 * 10 / TWO_32;
    const vardiff = new Vardiff(DEFAULT_VARDIFF, ideal, 0);
    const before = vardiff.difficulty;
    let changes = 0;
    let worst = 1;
    const rand = random(3);
    let now = 0;
    for (let i = 0; i < 600; i++) {
      now += (-Math.log(rand()) * 10_000 * vardiff.difficulty) / ideal;
      if (vardiff.onShare(now) !== undefined) changes++;
      worst = Math.max(worst, vardiff.difficulty / ideal, ideal / vardiff.difficulty);
    }
    // 600 shares are 100 minutes: a change every 20 minutes at most, and never far from the ideal.
    assert.ok(changes <= 5, `${changes} changes in 600 shares at the ideal difficulty (started ${before})`);
    assert.ok(worst < 2, `strayed ${worst.toFixed(2)}x from the ideal difficulty`);
  });
});
