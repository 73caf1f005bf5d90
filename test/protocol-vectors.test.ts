// Known-answer tests: every vector in test/vectors/sha256d-stratum.json.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bitsToTarget,
  blockHash,
  buildCoinbase,
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  decodeBits,
  difficultyToTarget,
  hashToDifficulty,
  hashValue,
  headerFromHex,
  headerHash,
  hexToBytes,
  hexToU32,
  merkleBranchForCoinbase,
  merkleRootFromBranch,
  midstate,
  parseHeader,
  parseNotifyParams,
  parseSubmitParams,
  prevhashToStratum,
  reverseBytes,
  serializeHeader,
  sha256d,
  swapWords,
  targetToDifficulty,
  verifyShare,
} from '../protocol/index.js';
import { loadVectors, type StratumExample } from './helpers/vectors.js';

const vectors = loadVectors();
const hex256 = (value: bigint) => value.toString(16).padStart(64, '0');
const closeTo = (actual: number, expected: number, relative: number) =>
  assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * relative, `${actual} is not within ${relative} of ${expected}`);

describe('bits and targets', () => {
  for (const v of vectors.bits_targets) {
    test(`bits ${v.bits}`, () => {
      const decoded = decodeBits(hexToU32(v.bits, 'bits'));
      assert.equal(hex256(decoded.target), v.target);
      assert.equal(decoded.negative, v.sign_bit_set);
      if (v.sign_bit_set) assert.throws(() => bitsToTarget(hexToU32(v.bits, 'bits')), /sign bit/);
      else assert.equal(hex256(bitsToTarget(hexToU32(v.bits, 'bits'))), v.target);
    });
  }
  for (const v of vectors.network_difficulty) {
    test(`network difficulty of ${v.bits}`, () => {
      closeTo(targetToDifficulty(bitsToTarget(hexToU32(v.bits, 'bits'))), v.difficulty, 1e-12);
    });
  }
  for (const v of vectors.pool_difficulty_targets) {
    test(`pool difficulty ${v.difficulty}`, () => {
      assert.equal(hex256(difficultyToTarget(v.difficulty)), v.target);
      assert.equal(hex256(difficultyToTarget(Number(v.difficulty))), v.target);
      closeTo(targetToDifficulty(BigInt('0x' + v.target)), Number(v.difficulty), 1e-12);
    });
  }
});

describe('block headers', () => {
  for (const v of vectors.block_headers) {
    test(`${v.name} (height ${v.height})`, () => {
      const header = headerFromHex(v.header_hex);
      assert.equal(blockHash(header), v.expected.hash);
      const fields = parseHeader(header);
      assert.equal(fields.version, hexToU32(v.version, 'version'));
      assert.equal(bytesToHex(reverseBytes(fields.prevhash)), v.prevhash);
      assert.equal(bytesToHex(reverseBytes(fields.merkleRoot)), v.merkle_root);
      assert.equal(fields.ntime, v.time);
      assert.equal(fields.nonce, v.nonce);
      assert.equal(bytesToHex(serializeHeader(fields)), v.header_hex);
      const target = bitsToTarget(hexToU32(v.bits, 'bits'));
      assert.equal(hex256(target), v.expected.target);
      assert.equal(hashValue(headerHash(header)) <= target, v.expected.pow_valid);
      // What a pool would send as this block's hash when the next block builds on it.
      assert.equal(prevhashToStratum(headerHash(header)), v.expected.stratum_prevhash_of_this_block);
    });
  }
});

function stratumShare(example: StratumExample) {
  const job = parseNotifyParams(example.messages.notify.params);
  const submission = parseSubmitParams(example.messages.submit.params);
  const extranonce1 = hexToBytes(example.extranonce1, 'extranonce1');
  const versionMask = example.version_mask ? hexToU32(example.version_mask, 'mask') : 0;
  return { job, submission, extranonce1, versionMask };
}

describe('Stratum sessions', () => {
  for (const example of vectors.stratum_examples) {
    test(example.id, () => {
      const { job, submission, extranonce1, versionMask } = stratumShare(example);
      const coinbase = buildCoinbase(job, extranonce1, submission.extranonce2);
      assert.equal(bytesToHex(coinbase), example.expected.coinbase_hex);
      assert.equal(bytesToHex(reverseBytes(sha256d(coinbase))), example.expected.coinbase_txid);
      const root = merkleRootFromBranch(sha256d(coinbase), job.merkleBranch);
      assert.equal(bytesToHex(root), example.expected.merkle_root_internal);
      assert.equal(bytesToHex(reverseBytes(root)), example.expected.merkle_root);

      const share = verifyShare(
        { job, extranonce1, extranonce2Size: example.extranonce2_size, versionMask, difficulty: example.pool_difficulty },
        submission,
      );
      assert.equal(bytesToHex(share.header), example.expected.header_hex);
      assert.equal(parseHeader(share.header).version, hexToU32(example.expected.header_version, 'v'));
      assert.equal(share.hash, example.expected.hash);
      closeTo(share.shareDifficulty, Number(example.expected.share_difficulty), 1e-12);
      assert.equal(share.meetsDifficulty, example.expected.meets_pool_difficulty);
      assert.equal(example.messages.subscribe_response.result[1], example.extranonce1);
      assert.equal(example.messages.subscribe_response.result[2], example.extranonce2_size);
    });
    if (example.template_txids && example.expected.merkle_branch_from_template) {
      test(`${example.id}: merkle branch from the template's txids`, () => {
        const txids = example.template_txids!.map((t) => reverseBytes(hexToBytes(t, 'txid', 32)));
        assert.deepEqual(merkleBranchForCoinbase(txids).map(bytesToHex), example.expected.merkle_branch_from_template);
      });
    }
  }
});

describe('share difficulty examples', () => {
  for (const v of vectors.share_difficulty_examples) {
    test(v.id, () => {
      let header: Uint8Array;
      if (v.header_hex) {
        header = headerFromHex(v.header_hex);
      } else {
        const merkleRoot = v.coinbase_hex
          ? merkleRootFromBranch(sha256d(hexToBytes(v.coinbase_hex, 'coinbase')), v.merkle_branch!.map((b) => hexToBytes(b, 'branch', 32)))
          : hexToBytes(v.merkle_root_internal!, 'root', 32);
        if (v.expected.merkle_root_internal) assert.equal(bytesToHex(merkleRoot), v.expected.merkle_root_internal);
        header = serializeHeader({
          version: hexToU32(v.version, 'version'),
          prevhash: swapWords(hexToBytes(v.prevhash_stratum, 'prevhash', 32)),
          merkleRoot,
          ntime: hexToU32(v.ntime, 'ntime'),
          bits: hexToU32(v.nbits, 'nbits'),
          nonce: hexToU32(v.nonce, 'nonce'),
        });
      }
      const difficulty = hashToDifficulty(headerHash(header));
      if (v.expected.share_difficulty_int !== undefined) assert.equal(Math.floor(difficulty), v.expected.share_difficulty_int);
      if (v.expected.share_difficulty !== undefined) closeTo(difficulty, Number(v.expected.share_difficulty), 1e-12);
    });
  }
});

test('midstate examples', () => {
  for (const v of vectors.midstate_examples) {
    const header = serializeHeader({
      version: hexToU32(v.version, 'version'),
      prevhash: swapWords(hexToBytes(v.prevhash_stratum, 'prevhash', 32)),
      merkleRoot: hexToBytes(v.merkle_root_internal, 'root', 32),
      ntime: hexToU32(v.ntime, 'ntime'),
      bits: hexToU32(v.nbits, 'nbits'),
      nonce: 0,
    });
    const words = midstate(header);
    const le = new Uint8Array(32);
    const view = new DataView(le.buffer);
    words.forEach((w, i) => view.setUint32(4 * i, w, true));
    assert.equal(bytesToHex(le), v.expected.midstate_le_words);
  }
});

describe('negative examples: each classic mistake gives the recorded wrong hash, and the verifier makes none of them', () => {
  const base = vectors.stratum_examples.find((e) => e.id === 'public-pool-testnet3-bitaxe-version-rolling')!;
  const { job, submission, extranonce1, versionMask } = stratumShare(base);
  const notify = base.messages.notify.params as string[];
  const good = verifyShare({ job, extranonce1, versionMask, difficulty: base.pool_difficulty }, submission);
  const rolledVersion = hexToU32(base.expected.header_version, 'version');
  const u32le = (hex: string) => reverseBytes(hexToBytes(hex, 'x', 4));

  /** Builds the header with one part done wrong and returns its display hash. */
  function mistaken(id: string): string {
    let version = rolledVersion;
    let prevhash = job.prevhash;
    let coinbase = buildCoinbase(job, extranonce1, submission.extranonce2);
    let branch = job.merkleBranch;
    let reverseRoot = false;
    let ntimeBytes = u32le(notify[7]!);
    let nonceBytes = u32le(submission.nonce.toString(16).padStart(8, '0'));
    switch (id) {
      case 'pp-no-version-rolling': version = job.version; break;
      case 'pp-prevhash-not-swapped': prevhash = hexToBytes(notify[1], 'p', 32); break;
      case 'pp-prevhash-fully-reversed': prevhash = reverseBytes(hexToBytes(notify[1], 'p', 32)); break;
      case 'pp-merkle-root-reversed': reverseRoot = true; break;
      case 'pp-nonce-byteswapped': nonceBytes = reverseBytes(nonceBytes); break;
      case 'pp-ntime-byteswapped': ntimeBytes = reverseBytes(ntimeBytes); break;
      case 'pp-extranonce-order': coinbase = concatBytes(job.coinb1, submission.extranonce2, extranonce1, job.coinb2); break;
      case 'pp-branch-reversed': branch = branch.map(reverseBytes); break;
      default: throw new Error(`no construction for negative example ${id}`);
    }
    let root = merkleRootFromBranch(sha256d(coinbase), branch);
    if (reverseRoot) root = reverseBytes(root);
    const header = serializeHeader({ version, prevhash, merkleRoot: root, ntime: 0, bits: job.bits, nonce: 0 });
    header.set(ntimeBytes, 68);
    header.set(nonceBytes, 76);
    return blockHash(header);
  }

  for (const v of vectors.negative_examples) {
    test(v.id, () => {
      const wrongHash = mistaken(v.id);
      assert.equal(wrongHash, v.expected.hash);
      assert.equal(bytesToBigInt(hexToBytes(wrongHash, 'h', 32)) <= difficultyToTarget(base.pool_difficulty), v.expected.meets_pool_difficulty);
      assert.notEqual(good.hash, wrongHash);
      assert.equal(good.meetsDifficulty, true);
    });
  }
});
