// The WebGPU engine on a real WebGPU implementation (Dawn in Node; SwiftShader where there is no
// GPU): the HashEngine contract (test/helpers/engine-cases.ts: real Bitcoin blocks, ranges, the
// target edge, stop), then what only this engine has (batches, dispatch shapes, result overflow)
// against node:crypto's SHA-256. Run with
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node --import tsx --test test/webgpu.test.ts
// Without an adapter every test fails with the message that says how to get one: a skipped GPU
// test would pass silently on exactly the machines where the engine was never run.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { loadWgslSource, openNodeGpuDevice } from '../cli/webgpu-node.js';
import { MAX_TARGET, type Target } from '../protocol/target.js';
import type { HashEngine } from '../web/miner/engine.js';
import { createWebGpuEngine, type WebGpuEngineOptions } from '../web/miner/engines/webgpu.js';
import { referenceScan } from './helpers/reference-scan.js';
import { engineCases } from './helpers/engine-cases.js';

const SPACE = 2 ** 32;

let devicePromise: Promise<GPUDevice> | undefined;
const device = (): Promise<GPUDevice> => (devicePromise ??= openNodeGpuDevice());
const engines: HashEngine[] = [];

/** Pipelines compile slowly on SwiftShader (about a second each), so tests share engines by options. */
const engineCache = new Map<string, Promise<HashEngine>>();
function engine(options: Omit<WebGpuEngineOptions, 'shaderSource'> = {}): Promise<HashEngine> {
  const key = JSON.stringify(options);
  let made = engineCache.get(key);
  if (!made) {
    made = device().then((d) => {
      const e = createWebGpuEngine(d, { ...options, shaderSource: loadWgslSource() });
      engines.push(e);
      return e;
    });
    engineCache.set(key, made);
  }
  return made;
}

after(async () => {
  for (const e of engines) e.dispose();
  if (devicePromise) (await devicePromise.catch(() => undefined))?.destroy();
});

// Batches of 2048: the contract's windows of a few thousand nonces span several dispatches.
engineCases({
  label: 'webgpu engine (Dawn)',
  engineName: 'webgpu',
  open: async () => {
    const e = createWebGpuEngine(await device(), { shaderSource: loadWgslSource(), batchSize: 2048 });
    engines.push(e);
    return e;
  },
});

/** A deterministic pseudo-random header, so a failure can be replayed. */
function testHeader(seed: string): Uint8Array {
  const a = createHash('sha256').update(`header a ${seed}`).digest();
  const b = createHash('sha256').update(`header b ${seed}`).digest();
  const c = createHash('sha256').update(`header c ${seed}`).digest();
  return Uint8Array.from([...a, ...b, ...c.subarray(0, 16)]);
}

/** A target that about one hash in `oneIn` meets (oneIn a power of two). */
const looseTarget = (oneIn: number): Target => MAX_TARGET / BigInt(oneIn);

describe('webgpu engine: against node:crypto', () => {
  test('many batches of 256 (128-thread workgroups), a partial last one, wrapping past 2^32', async () => {
    const e = await engine({ batchSize: 256, workgroupSize: 128 });
    const header = testHeader('wrap');
    const target = looseTarget(32);
    await e.setJob({ header, target });
    const start = SPACE - 500;
    const expected = referenceScan(header, target, start, 1000);
    assert.ok(expected.length >= 12, `the window should hold a few dozen hits, has ${expected.length}`);
    assert.ok(expected.some((n) => n > start) && expected.some((n) => n < 500), 'hits on both sides of the wrap');
    const result = await e.scan(start, 1000);
    assert.deepEqual(result.nonces, expected); // in scan order: 2^32-500 .. 2^32-1, then 0 .. 499
    assert.equal(result.scanned, 1000);
  });

  test('a window of 20000 in batches of 2048 (partial last batch)', async () => {
    const e = await engine({ batchSize: 2048 });
    const header = testHeader('window');
    const target = looseTarget(512);
    await e.setJob({ header, target });
    const start = 0x9e3779b9;
    const expected = referenceScan(header, target, start, 20000);
    assert.ok(expected.length >= 15, `the window should hold a few dozen hits, has ${expected.length}`);
    assert.deepEqual((await e.scan(start, 20000)).nonces, expected);
  });

  test('adaptive batches (a target dispatch time) change size between scans and lose nothing', async () => {
    const e = await engine({ batchSize: 1 << 16, targetDispatchMs: 2 });
    const header = testHeader('adaptive');
    const target = looseTarget(512);
    await e.setJob({ header, target });
    for (const start of [0, 40_000, 2 ** 32 - 30_000]) {
      const expected = referenceScan(header, target, start, 60_000);
      assert.deepEqual((await e.scan(start, 60_000)).nonces, expected);
    }
  });

  test('the default batch size with a count below one batch', async () => {
    const e = await engine();
    const header = testHeader('default');
    const target = looseTarget(256);
    await e.setJob({ header, target });
    const expected = referenceScan(header, target, 12345, 9000);
    assert.deepEqual((await e.scan(12345, 9000)).nonces, expected);
  });

  test('a batch of more than 65535 workgroups is dispatched in two dimensions', async () => {
    const e = await engine({ batchSize: 70000, workgroupSize: 1 });
    const header = testHeader('2d');
    const target = looseTarget(4096);
    await e.setJob({ header, target });
    const expected = referenceScan(header, target, 5, 70000);
    assert.ok(expected.length >= 5, `hits past x = 65535 are needed too, has ${expected.length}`);
    assert.ok(expected.some((n) => n - 5 >= 65535), 'a hit beyond the first row of workgroups');
    assert.deepEqual((await e.scan(5, 70000)).nonces, expected);
  });

  test('more hits than the result buffer holds: every nonce still comes back, in order', async () => {
    const e = await engine({ batchSize: 4096 });
    const header = testHeader('overflow');
    await e.setJob({ header, target: MAX_TARGET }); // every nonce meets it
    const start = SPACE - 1500;
    const result = await e.scan(start, 3000); // one batch of 3000 > 1024 slots, across the wrap
    assert.equal(result.nonces.length, 3000);
    assert.deepEqual(result.nonces, Array.from({ length: 3000 }, (_, i) => (start + i) % SPACE));
  });

  test('overflow with a small capacity and a loose target matches the reference', async () => {
    const e = await engine({ batchSize: 4096, resultCapacity: 8 });
    const header = testHeader('small capacity');
    const target = looseTarget(64);
    await e.setJob({ header, target });
    const expected = referenceScan(header, target, 100, 8192);
    assert.ok(expected.length > 16, `more hits than slots, has ${expected.length}`);
    assert.deepEqual((await e.scan(100, 8192)).nonces, expected);
  });
});

describe('webgpu engine: arguments', () => {
  test('rejects a target above 2^256 - 1, bad options, and a scan once disposed (saying so)', async () => {
    const d = await device();
    const fresh = createWebGpuEngine(d, { shaderSource: loadWgslSource(), batchSize: 64 });
    try {
      // Ranges, headers and a scan before setJob: the contract cases above.
      assert.throws(() => fresh.setJob({ header: new Uint8Array(80), target: MAX_TARGET + 1n }), RangeError);
    } finally {
      fresh.dispose();
    }
    await assert.rejects(fresh.scan(0, 1), /disposed/);
    assert.throws(() => createWebGpuEngine(d, { shaderSource: 'x', batchSize: 0 }), RangeError);
    assert.throws(() => createWebGpuEngine(d, { shaderSource: '' }), TypeError);
  });

  test('a kernel that does not compile is reported with the compiler message', async () => {
    const broken = createWebGpuEngine(await device(), { shaderSource: loadWgslSource().replace('fn main', 'fn main(') });
    await assert.rejects(broken.scan(0, 1), /did not compile/);
    broken.dispose();
  });
});
