// Edge cases and bad input for the protocol library, beyond the known-answer vectors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DIFF1_TARGET,
  MAX_TARGET,
  ProtocolError,
  bitsToTarget,
  difficultyToTarget,
  difficultyToWork,
  bytesToHex,
  equalBytes,
  hexToBytes,
  merkleBranchForCoinbase,
  merkleRootFromBranch,
  parseDifficulty,
  parseNotifyParams,
  parseSubmitParams,
  rollVersion,
  sha256,
  sha256Compress,
  sha256d,
  concatBytes,
  IV,
  targetToBits,
  targetToDifficulty,
  targetToWords,
} from '../protocol/index.js';
import { LineFramer } from '../protocol/line-framer.js';
import { sha256dHeader, sha256dPair } from '../protocol/sha256d-fixed.js';

const throwsField = (fn: () => unknown, field: string, pattern: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof ProtocolError && err.field === field && pattern.test(err.detail));

describe('difficulty', () => {
  test('is exact for decimal fractions down to 1e-9', () => {
    assert.equal(difficultyToTarget('0.000000001'), DIFF1_TARGET * 1_000_000_000n);
    assert.equal(difficultyToTarget(1e-9), DIFF1_TARGET * 1_000_000_000n);
    assert.equal(difficultyToTarget('1e-6'), DIFF1_TARGET * 1_000_000n);
    assert.equal(difficultyToTarget(0.5), DIFF1_TARGET * 2n);
    assert.equal(difficultyToTarget('3'), DIFF1_TARGET / 3n);
  });
  test('clamps below the smallest difficulty to the largest target', () => {
    assert.equal(difficultyToTarget('1e-12'), MAX_TARGET);
  });
  test('round-trips through targets', () => {
    for (const d of [1e-9, 1e-6, 0.001, 0.37, 1, 512, 16384, 1e12]) {
      const back = targetToDifficulty(difficultyToTarget(d));
      assert.ok(Math.abs(back - d) / d < 1e-12, `${d} came back as ${back}`);
    }
  });
  test('work is difficulty * 2^32 expected hashes', () => {
    assert.equal(difficultyToWork(1), 4294967296);
    assert.equal(difficultyToWork(0.25), 1073741824);
  });
  test('rejects what is not a positive number', () => {
    throwsField(() => parseDifficulty('0'), 'difficulty', /greater than 0/);
    throwsField(() => parseDifficulty(-1), 'difficulty', /not a positive decimal/);
    throwsField(() => parseDifficulty('abc'), 'difficulty', /not a positive decimal/);
    throwsField(() => parseDifficulty(NaN), 'difficulty', /not a positive decimal/);
    throwsField(() => parseDifficulty(Infinity), 'difficulty', /not a positive decimal/);
    throwsField(() => parseDifficulty(null), 'difficulty', /expected a number/);
    throwsField(() => parseDifficulty('1e999'), 'difficulty', /out of range/);
  });
  test('target words are most significant first', () => {
    assert.deepEqual([...targetToWords(DIFF1_TARGET)], [0, 0xffff0000, 0, 0, 0, 0, 0, 0]);
  });
});

describe('compact bits', () => {
  test('encode and decode agree for real targets', () => {
    for (const bits of [0x1d00ffff, 0x1b0404cb, 0x1814dd04, 0x207fffff, 0x17034219]) {
      assert.equal(targetToBits(bitsToTarget(bits)), bits);
    }
  });
  test('an overflowing exponent is an error', () => {
    throwsField(() => bitsToTarget(0x2300ffff), 'nbits', /overflows/);
  });
});

describe('hex input', () => {
  test('names the field and the problem', () => {
    throwsField(() => hexToBytes('abc', 'coinb1'), 'coinb1', /odd number/);
    throwsField(() => hexToBytes('zz', 'coinb1'), 'coinb1', /not valid hex/);
    throwsField(() => hexToBytes(12, 'coinb1'), 'coinb1', /expected a hex string/);
    throwsField(() => hexToBytes('00', 'prevhash', 32), 'prevhash', /expected 32 bytes/);
    throwsField(() => hexToBytes('0g', 'nonce'), 'nonce', /not valid hex/);
    throwsField(() => hexToBytes('0 ', 'nonce'), 'nonce', /not valid hex/);
  });
  test('equalBytes compares length and every byte', () => {
    assert.equal(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3)), true);
    assert.equal(equalBytes(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 4)), false);
    assert.equal(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3)), false);
    assert.equal(equalBytes(new Uint8Array(0), new Uint8Array(0)), true);
  });
  test('hex round-trips at every size, past the chunk a single call encodes, either case in', () => {
    for (const size of [0, 1, 31, 32, 4095, 4096, 4097, 10_000]) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 151 + size) & 0xff);
      const hex = bytesToHex(bytes);
      assert.equal(hex, Buffer.from(bytes).toString('hex'), `${size} bytes`);
      assert.deepEqual(hexToBytes(hex, 'x'), bytes);
      assert.deepEqual(hexToBytes(hex.toUpperCase(), 'x'), bytes);
    }
  });
});

const NOTIFY = ['1', '00'.repeat(32), '01', '02', [], '20000000', '1d00ffff', '64b3f3ec', true];

describe('Stratum messages', () => {
  test('notify parses', () => {
    const job = parseNotifyParams(NOTIFY);
    assert.equal(job.jobId, '1');
    assert.equal(job.version, 0x20000000);
    assert.equal(job.bits, 0x1d00ffff);
    assert.equal(job.cleanJobs, true);
  });
  test('notify with wrong types or lengths is refused, naming the param', () => {
    const bad = (i: number, value: unknown) => NOTIFY.map((v, j) => (j === i ? value : v));
    throwsField(() => parseNotifyParams('x'), 'notify', /expected 9 params/);
    throwsField(() => parseNotifyParams(NOTIFY.slice(0, 8)), 'notify', /expected 9 params/);
    throwsField(() => parseNotifyParams(bad(0, 5)), 'job_id', /job id/);
    throwsField(() => parseNotifyParams(bad(1, '00')), 'prevhash', /32 bytes/);
    throwsField(() => parseNotifyParams(bad(4, ['00'])), 'merkle_branch[0]', /32 bytes/);
    throwsField(() => parseNotifyParams(bad(4, 'nope')), 'merkle_branch', /array/);
    throwsField(() => parseNotifyParams(bad(5, '2000000')), 'version', /odd number/);
    throwsField(() => parseNotifyParams(bad(8, 'yes')), 'clean_jobs', /true or false/);
  });
  test('submit takes 5 or 6 params', () => {
    const five = parseSubmitParams(['w', '1', '00000000', '64b3f3ec', 'ed460d91']);
    assert.equal(five.nonce, 0xed460d91);
    assert.equal(five.versionBits, undefined);
    assert.equal(parseSubmitParams(['w', '1', '00', '64b3f3ec', 'ed460d91', '00002000']).versionBits, 0x2000);
    throwsField(() => parseSubmitParams(['w', '1', '00', '64b3f3ec']), 'submit', /5 or 6 params/);
    throwsField(() => parseSubmitParams(['w', '1', '00', '64b3f3ec', 'ed460d9']), 'nonce', /odd number/);
    throwsField(() => parseSubmitParams([null, '1', '00', '64b3f3ec', 'ed460d91']), 'worker', /worker/);
  });
  test('version bits outside the negotiated mask are refused', () => {
    assert.equal(rollVersion(0x20000000, 0x00002000, 0x1fffe000), 0x20002000);
    assert.equal(rollVersion(0x20000000, undefined, 0), 0x20000000);
    throwsField(() => rollVersion(0x20000000, 0x00000001, 0x1fffe000), 'version_bits', /outside the negotiated mask/);
    throwsField(() => rollVersion(0x20000000, 0x00002000, 0), 'version_bits', /outside the negotiated mask 00000000/);
  });
});

describe('merkle branches', () => {
  // The root from the branch must equal the root of the whole tree, for every tree size.
  function fullRoot(leaves: Uint8Array[]): Uint8Array {
    let level = leaves;
    while (level.length > 1) {
      const next: Uint8Array[] = [];
      for (let i = 0; i < level.length; i += 2) next.push(sha256d(concatBytes(level[i]!, level[i + 1] ?? level[i]!)));
      level = next;
    }
    return level[0]!;
  }
  for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 8, 13]) {
    test(`coinbase and ${n} transactions`, () => {
      const txids = Array.from({ length: n + 1 }, (_, i) => sha256d(Uint8Array.of(i)));
      const branch = merkleBranchForCoinbase(txids.slice(1));
      assert.deepEqual(merkleRootFromBranch(txids[0]!, branch), fullRoot(txids));
    });
  }
  test('the specialised fold step equals sha256d of the 64 bytes (noble), edge values and random pairs', () => {
    const pairs: [Uint8Array, Uint8Array][] = [
      [new Uint8Array(32), new Uint8Array(32)],
      [new Uint8Array(32).fill(0xff), new Uint8Array(32).fill(0xff)],
      [new Uint8Array(32).fill(0x80), new Uint8Array(32).fill(0x7f)],
    ];
    for (let i = 0; i < 500; i++) pairs.push([sha256d(Uint8Array.of(i, 1)), sha256d(Uint8Array.of(i, 2))]);
    for (const [left, right] of pairs) assert.deepEqual(sha256dPair(left, right), sha256d(concatBytes(left, right)));
    assert.throws(() => sha256dPair(new Uint8Array(31), new Uint8Array(32)), /two 32-byte values/);
  });
  test('the specialised header hash equals sha256d of the 80 bytes (noble), edge values and random headers', () => {
    const headers: Uint8Array[] = [new Uint8Array(80), new Uint8Array(80).fill(0xff), new Uint8Array(80).fill(0x80)];
    for (let i = 0; i < 500; i++) headers.push(concatBytes(sha256d(Uint8Array.of(i, 1)), sha256d(Uint8Array.of(i, 2)), sha256d(Uint8Array.of(i, 3)).subarray(0, 16)));
    for (const header of headers) assert.deepEqual(sha256dHeader(header), sha256d(header));
    assert.throws(() => sha256dHeader(new Uint8Array(79)), /an 80-byte header/);
  });
  test('the compression, run block by block over a padded message, equals sha256 (noble)', () => {
    // One and two blocks, at an offset into the buffer, as midstate uses it on a header.
    for (const length of [0, 1, 55, 56, 64, 100, 119]) {
      for (let seed = 0; seed < 20; seed++) {
        const message = Uint8Array.from({ length }, (_, i) => (i * 151 + seed * 29 + (i >> 2) * seed) & 0xff);
        const blocks = length + 9 <= 64 ? 1 : 2;
        const padded = new Uint8Array(3 + 64 * blocks);
        padded.set(message, 3);
        padded[3 + length] = 0x80;
        new DataView(padded.buffer).setUint32(3 + 64 * blocks - 4, length * 8, false);
        const state = Uint32Array.from(IV);
        for (let b = 0; b < blocks; b++) sha256Compress(state, padded, 3 + 64 * b);
        const digest = new Uint8Array(32);
        state.forEach((word, i) => new DataView(digest.buffer).setUint32(4 * i, word, false));
        assert.deepEqual(digest, sha256(message), `length ${length}, seed ${seed}`);
      }
    }
    assert.throws(() => sha256Compress(Uint32Array.from(IV), new Uint8Array(80), 17), /64-byte block/);
  });
});

describe('line framing (Stratum over TCP)', () => {
  test('joins lines split across chunks and skips blank ones', () => {
    const framer = new LineFramer(100);
    assert.deepEqual(framer.push('{"id":1}\n{"id"'), { lines: ['{"id":1}'], tooLong: false });
    assert.deepEqual(framer.push(':2}\r\n\n  \n{"id":3}\n'), { lines: ['{"id":2}', '{"id":3}'], tooLong: false });
  });
  test('reports a line over the limit, complete or still arriving, after the lines before it', () => {
    assert.deepEqual(new LineFramer(10).push('short\n' + 'x'.repeat(11) + '\nlater\n'), { lines: ['short'], tooLong: true });
    const pending = new LineFramer(10);
    assert.deepEqual(pending.push('ok\n' + 'x'.repeat(8)), { lines: ['ok'], tooLong: false });
    assert.deepEqual(pending.push('xxx'), { lines: [], tooLong: true });
  });
});
