// The duty cycle of web/miner/throttle.ts, on a fake engine whose scans take a known time on a
// fake clock: the figures are exact, and a loaded machine cannot move them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HashEngine } from '../web/miner/engine.js';
import { idleMsAfter, throttleEngine } from '../web/miner/throttle.js';
import { FakeClock } from './helpers/fake-clock.js';

/** An engine whose scan takes `scanMs()` on `clock`, or never ends when that is Infinity. */
function fakeEngine(clock: FakeClock, scanMs: () => number): HashEngine & { disposed: boolean; scans: number } {
  const engine = {
    name: 'wasm' as const,
    disposed: false,
    scans: 0,
    setJob() {},
    scan(_start: number, count: number) {
      engine.scans++;
      const ms = scanMs();
      return new Promise<{ nonces: number[]; scanned: number }>((resolve) => {
        if (Number.isFinite(ms)) clock.setTimer(() => resolve({ nonces: [], scanned: count }), ms);
      });
    },
    dispose() {
      engine.disposed = true;
    },
  };
  return engine;
}

test('the idle time after a scan makes scanning the chosen share of the time, clamped to 1..100%', () => {
  for (const [percent, idleMs] of [[100, 0], [75, 10], [50, 30], [20, 120], [10, 270], [1, 2970], [0, 2970], [-5, 2970], [150, 0]] as const) {
    const got = idleMsAfter(30, percent);
    assert.ok(Math.abs(got - idleMs) < 1e-9, `${percent}%: ${got} ms idle, expected ${idleMs}`);
    if (percent >= 1 && percent <= 100) assert.ok(Math.abs(30 / (30 + got) - percent / 100) < 1e-12, `${percent}%: the scan's share of the cycle`);
  }
});

test('at 50% each scan is followed by as long idle, and the measured share says so', async () => {
  const clock = new FakeClock();
  const engine = throttleEngine(fakeEngine(clock, () => 20), () => 50, { clock });
  for (let i = 0; i < 10; i++) {
    const began = clock.now();
    assert.deepEqual(await clock.runUntil(engine.scan(0, 7)), { nonces: [], scanned: 7 });
    assert.equal(clock.now() - began, 40, 'a 20 ms scan, then 20 ms idle');
  }
  assert.equal(engine.measuredCpuShare(), 0.5);
});

test('the percentage is read at every scan, and 100% never waits', async () => {
  const clock = new FakeClock();
  let percent = 100;
  const engine = throttleEngine(fakeEngine(clock, () => 10), () => percent, { clock });
  for (let i = 0; i < 5; i++) await clock.runUntil(engine.scan(0, 1));
  assert.equal(clock.now(), 50, 'five 10 ms scans back to back');
  assert.equal(engine.measuredCpuShare(), 1);
  percent = 20;
  await clock.runUntil(engine.scan(0, 1));
  assert.equal(clock.now(), 100, 'a 10 ms scan at 20% waits 40 ms more');
  assert.equal(engine.measuredCpuShare(), 0.6, '60 ms busy of 100');
});

test('the measured share covers only the last window, and counts idle time with no scan', async () => {
  const clock = new FakeClock();
  const engine = throttleEngine(fakeEngine(clock, () => 100), () => 25, { clock, windowMs: 1000 });
  assert.equal(engine.measuredCpuShare(), 0, 'nothing scanned yet');
  // Three cycles of 100 ms busy + 300 ms idle: 0..1200 ms.
  for (let i = 0; i < 3; i++) await clock.runUntil(engine.scan(0, 1));
  assert.equal(clock.now(), 1200);
  // The window is 200..1200: busy 400..500 and 800..900.
  assert.equal(engine.measuredCpuShare(), 0.2);
  // 600 ms later with no scan, the window 800..1800 holds one 100 ms busy interval.
  await clock.runUntil(new Promise<void>((resolve) => clock.setTimer(resolve, 600)));
  assert.equal(engine.measuredCpuShare(), 0.1);
});

test('dispose ends a wait at once and disposes the engine', async () => {
  const clock = new FakeClock();
  const inner = fakeEngine(clock, () => 50);
  const engine = throttleEngine(inner, () => 10, { clock });
  let done = false;
  const scanning = engine.scan(0, 1).then((result) => ((done = true), result));
  await clock.runUntil(new Promise<void>((resolve) => clock.setTimer(resolve, 50)));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(clock.pendingDelaysMs(), [450], 'the scan is done and its 450 ms wait has begun');
  assert.equal(done, false);
  engine.dispose();
  assert.deepEqual(await scanning, { nonces: [], scanned: 1 });
  assert.equal(clock.now(), 50, 'no time passed');
  assert.deepEqual(clock.pendingDelaysMs(), [], 'the wait is cancelled');
  assert.equal(inner.disposed, true);
  assert.deepEqual(await engine.scan(0, 1), { nonces: [], scanned: 0 });
  assert.equal(inner.scans, 1, 'a disposed throttle scans no more');
});

test('dispose ends a scan that never returns (a terminated worker)', async () => {
  const clock = new FakeClock();
  const engine = throttleEngine(fakeEngine(clock, () => Infinity), () => 50, { clock });
  const scanning = engine.scan(0, 1);
  await new Promise((resolve) => setImmediate(resolve));
  engine.dispose();
  assert.deepEqual(await scanning, { nonces: [], scanned: 0 });
});

test('by default the throttle waits in real time (smoke: a lower bound only, which load cannot break)', async () => {
  const realScan: HashEngine = {
    name: 'wasm',
    setJob() {},
    scan: (_start, count) => new Promise((resolve) => setTimeout(() => resolve({ nonces: [], scanned: count }), 20)),
    dispose() {},
  };
  const engine = throttleEngine(realScan, () => 50);
  const began = performance.now();
  await engine.scan(0, 1);
  // 20 ms of scan and at least as long idle; timers may fire a millisecond early.
  assert.ok(performance.now() - began >= 38, `took ${performance.now() - began} ms`);
});

test('dispose ends a setJob that never returns (a terminated worker)', async () => {
  const clock = new FakeClock();
  const inner = fakeEngine(clock, () => 10);
  const engine = throttleEngine({ ...inner, setJob: () => new Promise<void>(() => {}) }, () => 50, { clock });
  const preparing = engine.setJob({ header: new Uint8Array(80), target: 1n });
  await new Promise((resolve) => setImmediate(resolve));
  engine.dispose();
  assert.equal(await preparing, undefined);
});
