// The WebAssembly engines (scalar and SIMD builds, in-process and over worker threads) against
// real blocks and against the node:crypto reference.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { openWasmEngine, type WasmBuild } from '../cli/wasm-node.js';
import { createThreadPoolEngine } from '../cli/thread-pool-engine.js';
import { bitsToTarget, blockHash, difficultyToTarget, headerFromHex, hexToU32, MAX_TARGET, withNonce } from '../protocol/index.js';
import type { HashEngine } from '../web/miner/engine.js';
import { randomHeader, referenceScan } from './helpers/reference-scan.js';
import { loadVectors } from './helpers/vectors.js';

const vectors = loadVectors();
const builds: WasmBuild[] = ['scalar', 'simd'];

for (const build of builds) {
  describe(`wasm ${build} build`, () => {
    const engine = openWasmEngine(build);
    after(() => engine.dispose());

    test('reports its name', () => {
      assert.equal(engine.name, build === 'simd' ? 'wasm-simd' : 'wasm');
    });

    for (const block of vectors.block_headers) {
      test(`finds exactly the real nonce of ${block.name} in a window around it`, async () => {
        const header = headerFromHex(block.header_hex);
        await engine.setJob({ header: withNonce(header, 0), target: bitsToTarget(hexToU32(block.bits, 'bits')) });
        const start = Math.max(0, block.nonce - 2501);
        const result = await engine.scan(start, 5003);
        assert.deepEqual(result.nonces, [block.nonce]);
        assert.equal(result.scanned, 5003);
        assert.equal(blockHash(withNonce(header, result.nonces[0]!)), block.expected.hash);
      });
    }

    test('agrees with node:crypto on random headers and loose targets', async () => {
      for (let seed = 1; seed <= 6; seed++) {
        const header = randomHeader(seed);
        const target = difficultyToTarget(1 / 2 ** (22 + seed)); // about 1 in 2^(10 - seed) nonces
        await engine.setJob({ header, target });
        const start = (seed * 0x9e3779b9) >>> 0;
        const count = 3000 + seed; // not a multiple of 4: the SIMD build's scalar tail runs too
        const expected = referenceScan(header, target, start, count);
        assert.ok(expected.length > 0, 'the target should be loose enough to find something');
        assert.deepEqual((await engine.scan(start, count)).nonces, expected, `seed ${seed}`);
      }
    });

    test('wraps at 2^32', async () => {
      const header = randomHeader(99);
      const target = difficultyToTarget(1 / 2 ** 26);
      await engine.setJob({ header, target });
      const start = 2 ** 32 - 1501;
      const expected = referenceScan(header, target, start, 3000);
      assert.ok(expected.some((n) => n > 2 ** 31) && expected.some((n) => n < 2 ** 31), 'hits on both sides of the wrap');
      assert.deepEqual((await engine.scan(start, 3000)).nonces, expected);
    });

    test('returns every nonce when more are found than the result buffer holds', async () => {
      await engine.setJob({ header: randomHeader(7), target: MAX_TARGET });
      const result = await engine.scan(2 ** 32 - 2000, 5000);
      assert.equal(result.nonces.length, 5000);
      assert.deepEqual(result.nonces, Array.from({ length: 5000 }, (_, i) => (2 ** 32 - 2000 + i) % 2 ** 32));
    });

    test('finds nothing when nothing meets the target, and scans a zero count', async () => {
      await engine.setJob({ header: randomHeader(8), target: 0n });
      assert.deepEqual(await engine.scan(0, 4097), { nonces: [], scanned: 4097 });
      assert.deepEqual(await engine.scan(5, 0), { nonces: [], scanned: 0 });
    });

    test('refuses bad arguments', async () => {
      await assert.rejects(engine.scan(-1, 10), /nonceStart/);
      await assert.rejects(engine.scan(2 ** 32, 10), /nonceStart/);
      await assert.rejects(engine.scan(0, 1.5), /count/);
      assert.throws(() => engine.setJob({ header: new Uint8Array(79), target: 1n }), /80 bytes/);
    });
  });
}

test('scalar and SIMD builds return identical results', async () => {
  const engines = builds.map(openWasmEngine);
  for (let seed = 20; seed < 24; seed++) {
    const job = { header: randomHeader(seed), target: difficultyToTarget(1 / 2 ** 22) };
    const results: number[][] = [];
    for (const engine of engines) {
      await engine.setJob(job);
      results.push((await engine.scan(seed * 1000, 20_000)).nonces);
    }
    assert.ok(results[0]!.length > 0);
    assert.deepEqual(results[0], results[1]);
  }
  for (const e of engines) e.dispose();
});

test('the worker-thread pool splits a scan and merges it back in order', async () => {
  const pool: HashEngine = await createThreadPoolEngine('simd', 2);
  try {
    const header = randomHeader(31);
    const target = difficultyToTarget(1 / 2 ** 24);
    await pool.setJob({ header, target });
    const start = 2 ** 32 - 3333;
    const result = await pool.scan(start, 8001);
    assert.equal(result.scanned, 8001);
    assert.deepEqual(result.nonces, referenceScan(header, target, start, 8001));
  } finally {
    pool.dispose();
  }
});
