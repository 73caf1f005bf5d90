// The duty cycle of web/miner/throttle.ts, on a fake engine whose scans take a known time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HashEngine } from '../web/miner/engine.js';
import { throttleEngine } from '../web/miner/throttle.js';

function fakeEngine(scanMs: number): HashEngine & { disposed: boolean } {
  const engine = {
    name: 'wasm' as const,
    disposed: false,
    setJob() {},
    scan: (_start: number, count: number) => new Promise<{ nonces: number[]; scanned: number }>((r) => setTimeout(() => r({ nonces: [], scanned: count }), scanMs)),
    dispose() {
      engine.disposed = true;
    },
  };
  return engine;
}

test('at 50% each scan is followed by as long idle, and the measured share says so', async () => {
  const engine = throttleEngine(fakeEngine(20), () => 50);
  const began = performance.now();
  for (let i = 0; i < 10; i++) await engine.scan(0, 1);
  const elapsed = performance.now() - began;
  assert.ok(elapsed >= 380, `10 scans of 20 ms at 50% took ${elapsed} ms`);
  const share = engine.measuredCpuShare();
  assert.ok(share > 0.4 && share < 0.6, `measured ${share}`);
});

test('the percentage is read at every scan, and 100% never waits', async () => {
  let percent = 100;
  const engine = throttleEngine(fakeEngine(10), () => percent);
  for (let i = 0; i < 5; i++) await engine.scan(0, 1);
  assert.ok(engine.measuredCpuShare() > 0.8, `measured ${engine.measuredCpuShare()} at 100%`);
  percent = 20;
  const began = performance.now();
  await engine.scan(0, 1);
  assert.ok(performance.now() - began >= 45, 'a 10 ms scan at 20% waits about 40 ms more');
});

test('dispose ends a wait at once and disposes the engine', async () => {
  const inner = fakeEngine(50);
  const engine = throttleEngine(inner, () => 10);
  const scanning = engine.scan(0, 1);
  await new Promise((r) => setTimeout(r, 80)); // the scan is done, the 450 ms wait has begun
  const disposedAt = performance.now();
  engine.dispose();
  await scanning;
  assert.ok(performance.now() - disposedAt < 30, 'the wait ended with dispose');
  assert.equal(inner.disposed, true);
  assert.deepEqual(await engine.scan(0, 1), { nonces: [], scanned: 0 });
});
