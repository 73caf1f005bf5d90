// The behaviour every HashEngine (web/miner/engine.ts) must have, as test cases run against each
// implementation: the WebAssembly builds, the parallel engine in-process and over worker threads
// (test/wasm-engine.test.ts), and WebGPU on Dawn (test/webgpu.test.ts). An EngineKind says how to
// open a fresh engine of the kind. Ranges are small: SwiftShader runs the WebGPU kernel on the CPU.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { blockHash, headerFromHex, withNonce } from '../../protocol/header.js';
import { bitsToTarget, MAX_TARGET, type Target } from '../../protocol/target.js';
import { NONCE_SPACE, type EngineName, type HashEngine } from '../../web/miner/engine.js';
import { randomHeader, referenceScan } from './reference-scan.js';
import { loadVectors } from './vectors.js';

export interface EngineKind {
  /** The name the tests are listed under. */
  label: string;
  /** What `engine.name` must say. */
  engineName: EngineName;
  /** A fresh engine; the suite disposes every engine it opens. */
  open(): Promise<HashEngine>;
}

/** A target that about one hash in `oneIn` meets. */
const looseTarget = (oneIn: number): Target => MAX_TARGET / BigInt(oneIn);

/** The independent value of one nonce's hash: node:crypto's SHA-256 twice, as the display-order integer. */
function referenceValue(header: Uint8Array, nonce: number): bigint {
  const first = createHash('sha256').update(withNonce(header, nonce)).digest();
  const second = createHash('sha256').update(first).digest();
  return BigInt('0x' + Buffer.from(second).reverse().toString('hex'));
}

/** Every nonce of the range, in scan order: what a target every hash meets must give. */
const wholeRange = (start: number, count: number): number[] => Array.from({ length: count }, (_, i) => (start + i) % NONCE_SPACE);

export function engineCases(kind: EngineKind): void {
  describe(`${kind.label}: the HashEngine contract`, () => {
    let engine: HashEngine;
    const opened: HashEngine[] = [];
    const open = async () => {
      const e = await kind.open();
      opened.push(e);
      return e;
    };
    before(async () => (engine = await open()));
    after(() => {
      for (const e of opened) e.dispose();
    });

    test('reports its name', () => {
      assert.equal(engine.name, kind.engineName);
    });

    for (const block of loadVectors().block_headers) {
      test(`finds exactly the real nonce of ${block.name} in a window around it`, async () => {
        const header = headerFromHex(block.header_hex);
        await engine.setJob({ header: withNonce(header, 0), target: bitsToTarget(parseInt(block.bits, 16)) });
        const start = (block.nonce - 1234 + NONCE_SPACE) % NONCE_SPACE;
        assert.deepEqual(await engine.scan(start, 3001), { nonces: [block.nonce], scanned: 3001 });
        assert.equal(blockHash(withNonce(header, block.nonce)), block.expected.hash);
      });
    }

    test('agrees with node:crypto on random headers and loose targets, counts not a multiple of 4', async () => {
      for (let seed = 1; seed <= 4; seed++) {
        const header = randomHeader(seed);
        const target = looseTarget(2 ** (10 - seed));
        await engine.setJob({ header, target });
        const start = (seed * 0x9e3779b9) >>> 0;
        const count = 2000 + seed;
        const expected = referenceScan(header, target, start, count);
        assert.ok(expected.length > 0, 'the target should be loose enough to find something');
        assert.deepEqual(await engine.scan(start, count), { nonces: expected, scanned: count }, `seed ${seed}`);
      }
    });

    test('scans exactly [start, start + count): first and last nonce, a zero count, the last nonce before 2^32', async () => {
      await engine.setJob({ header: randomHeader(5), target: MAX_TARGET }); // every nonce meets it
      for (const [start, count] of [[0, 1], [1, 2], [7, 3], [1000, 5], [12_345, 257], [NONCE_SPACE - 1, 1], [NONCE_SPACE - 3, 3]] as const) {
        assert.deepEqual(await engine.scan(start, count), { nonces: wholeRange(start, count), scanned: count }, `scan(${start}, ${count})`);
      }
      assert.deepEqual(await engine.scan(5, 0), { nonces: [], scanned: 0 });
    });

    test('wraps at 2^32: the nonces after 2^32 - 1 are 0, 1, ... in scan order', async () => {
      await engine.setJob({ header: randomHeader(6), target: MAX_TARGET });
      assert.deepEqual(await engine.scan(NONCE_SPACE - 2, 5), { nonces: [NONCE_SPACE - 2, NONCE_SPACE - 1, 0, 1, 2], scanned: 5 });
      const header = randomHeader(99);
      const target = looseTarget(32);
      await engine.setJob({ header, target });
      const start = NONCE_SPACE - 1001;
      const expected = referenceScan(header, target, start, 2000);
      assert.ok(expected.some((n) => n > 2 ** 31) && expected.some((n) => n < 2 ** 31), 'hits on both sides of the wrap');
      assert.deepEqual(await engine.scan(start, 2000), { nonces: expected, scanned: 2000 });
    });

    test('returns every nonce when more are found than a result buffer holds (1024), across the wrap', async () => {
      await engine.setJob({ header: randomHeader(7), target: MAX_TARGET });
      const start = NONCE_SPACE - 2000;
      assert.deepEqual(await engine.scan(start, 5000), { nonces: wholeRange(start, 5000), scanned: 5000 });
    });

    test('the target is inclusive: a hash equal to it is found, one above it is not, and a zero target finds nothing', async () => {
      // The lowest hash of a window. A target with its top word and zeros below must not find it:
      // the comparison does not stop at the most significant word.
      const header = randomHeader(8);
      let best = { nonce: 0, value: MAX_TARGET };
      for (let n = 0; n < 2048; n++) {
        const value = referenceValue(header, n);
        if (value < best.value) best = { nonce: n, value };
      }
      const cases: [Target, number[]][] = [
        [best.value, [best.nonce]],
        [best.value - 1n, []],
        [(best.value >> 224n) << 224n, []],
        [0n, []],
      ];
      for (const [target, expected] of cases) {
        await engine.setJob({ header, target });
        assert.deepEqual(await engine.scan(0, 2048), { nonces: expected, scanned: 2048 }, `target ${target.toString(16)}`);
      }
    });

    test('several scans in a row: consecutive ranges add up to one, and a new job replaces the old', async () => {
      const a = { header: randomHeader(9), target: looseTarget(64) };
      const b = { header: randomHeader(10), target: looseTarget(64) };
      await engine.setJob(a);
      const pieces: number[] = [];
      for (let start = 500; start < 3500; start += 750) pieces.push(...(await engine.scan(start, 750)).nonces);
      assert.deepEqual(pieces, referenceScan(a.header, a.target, 500, 3000));
      await engine.setJob(b);
      const onB = referenceScan(b.header, b.target, 0, 1500);
      assert.notDeepEqual(onB, referenceScan(a.header, a.target, 0, 1500), 'the two jobs differ in this window');
      assert.deepEqual((await engine.scan(0, 1500)).nonces, onB);
      await engine.setJob(a);
      assert.deepEqual((await engine.scan(0, 1500)).nonces, referenceScan(a.header, a.target, 0, 1500));
    });

    test('refuses bad ranges and headers that are not 80 bytes', async () => {
      await engine.setJob({ header: randomHeader(11), target: MAX_TARGET });
      const badStart = (err: unknown) => err instanceof RangeError && /nonceStart/.test(err.message);
      const badCount = (err: unknown) => err instanceof RangeError && /count/.test(err.message);
      for (const [start, count, check] of [[-1, 10, badStart], [NONCE_SPACE, 10, badStart], [0.5, 1, badStart], [0, 1.5, badCount], [0, -1, badCount], [0, NONCE_SPACE + 1, badCount]] as const) {
        await assert.rejects(engine.scan(start, count), check, `scan(${start}, ${count})`);
      }
      // Sync or async, as the engine's setJob is.
      await assert.rejects(async () => engine.setJob({ header: new Uint8Array(79), target: 1n }), /80 bytes/);
    });

    test('a scan before any job is refused', async () => {
      const fresh = await open();
      await assert.rejects(fresh.scan(0, 10), /setJob must be called before scan/);
    });

    test('stop: a scan in flight when the engine is disposed settles, with only correct nonces; later scans are refused; dispose twice is harmless', async () => {
      const fresh = await open();
      const header = randomHeader(12);
      const target = looseTarget(16);
      await fresh.setJob({ header, target });
      const count = 20_000;
      const scanning = fresh.scan(100, count);
      fresh.dispose();
      const outcome = await scanning.then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
      if ('result' in outcome) {
        // What was hashed before the stop, from the start of the range, and nothing else.
        const { nonces, scanned } = outcome.result;
        assert.ok(Number.isInteger(scanned) && scanned >= 0 && scanned <= count, `scanned ${scanned}`);
        assert.deepEqual(nonces, referenceScan(header, target, 100, scanned));
      }
      await assert.rejects(fresh.scan(0, 10));
      fresh.dispose(); // a second dispose (a Stop after a failure) is harmless
    });
  });
}
