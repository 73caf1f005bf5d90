// The fast reward-tree builder (compact leaves + hash-wasm) against the reference it replaces at
// scale: @openzeppelin/merkle-tree's StandardMerkleTree over the same leaves in account order, and
// the project's own buildRewardTree / verifyRewardProof. Root AND every proof must agree, or a
// member's claim would fail on-chain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { checksumAddress } from '../protocol/dao/address.js';
import { encodeLeaves, indexOfAccount, LEAF_RECORD_BYTES, leafAt, leafCountOf } from '../protocol/dao/compact-leaves.js';
import { buildRewardTreeNodes, LEAVES_PER_WORK_FLUSH, rewardProofAt } from '../protocol/dao/reward-tree-builder.js';
import { buildRewardTree, REWARD_LEAF_ENCODING, verifyRewardProof, type RewardLeaf } from '../protocol/dao/reward-tree.js';
import { Rng } from './helpers/fuzz-rng.js';
import { hexByte, randomAmount, randomHex, randomLeaves } from './helpers/random-leaves.js';

const MAX_UINT256 = (1n << 256n) - 1n;

const byAccount = (a: RewardLeaf, b: RewardLeaf) => {
  const x = a.account.toLowerCase();
  const y = b.account.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Encodes and builds `leaves` fast, and checks every figure against the libraries' trees. */
async function assertMatchesReference(leaves: RewardLeaf[], what: string): Promise<void> {
  const compact = encodeLeaves(leaves);
  assert.equal(leafCountOf(compact), leaves.length, `${what}: leaf count`);
  assert.equal(compact.length, leaves.length * LEAF_RECORD_BYTES, `${what}: table size`);
  const built = await buildRewardTreeNodes(compact);
  const sorted = [...leaves].sort(byAccount);
  const values = sorted.map((leaf) => [checksumAddress(leaf.account), leaf.cumulativeWork.toString(), leaf.cumulativeReward.toString()]);
  const reference = StandardMerkleTree.of(values, [...REWARD_LEAF_ENCODING], { sortLeaves: false });
  assert.equal(built.root, reference.root, `${what}: root differs from StandardMerkleTree's`);
  assert.equal(built.leafCount, leaves.length, `${what}: leafCount`);
  assert.equal(built.totalWork, leaves.reduce((sum, leaf) => sum + leaf.cumulativeWork, 0n), `${what}: totalWork`);
  const project = buildRewardTree(leaves);
  assert.equal(built.root, project.root, `${what}: root differs from buildRewardTree's`);
  assert.equal(built.totalWork, project.totalWork, `${what}: totalWork differs from buildRewardTree's`);
  for (let i = 0; i < sorted.length; i++) {
    const account = checksumAddress(sorted[i]!.account);
    const leaf = leafAt(compact, i);
    assert.deepEqual(leaf, { account, cumulativeWork: sorted[i]!.cumulativeWork, cumulativeReward: sorted[i]!.cumulativeReward }, `${what}: leafAt(${i})`);
    assert.equal(indexOfAccount(compact, account), i, `${what}: indexOfAccount of leaf ${i}`);
    assert.equal(indexOfAccount(compact, account.toLowerCase()), i, `${what}: indexOfAccount of leaf ${i} in lower case`);
    const proof = rewardProofAt(built, i);
    assert.deepEqual(proof, reference.getProof(i), `${what}: proof of leaf ${i} differs from StandardMerkleTree's`);
    assert.deepEqual(proof, project.proofs.get(account)?.proof, `${what}: proof of leaf ${i} differs from buildRewardTree's`);
    assert.ok(verifyRewardProof(built.root, { ...leaf, proof }), `${what}: verifyRewardProof refuses leaf ${i}`);
  }
}

test('random leaf sets of every awkward size give StandardMerkleTree\'s root and every proof', async () => {
  for (const size of [1, 2, 3, 4, 5, 7, 8, 9, 255, 256, 257, 1000]) {
    // Shuffled input order: the encoder sorts, whatever order the ledger hands it.
    await assertMatchesReference(randomLeaves(size, 1000 + size), `${size} random leaves`);
  }
});

test('zero and maximal amounts encode and hash as their abi.encode words', async () => {
  const [a, b, c, d] = randomLeaves(4, 7).map((leaf) => leaf.account);
  await assertMatchesReference(
    [
      { account: a!, cumulativeWork: 0n, cumulativeReward: 0n },
      { account: b!, cumulativeWork: MAX_UINT256, cumulativeReward: MAX_UINT256 },
      { account: c!, cumulativeWork: 0n, cumulativeReward: MAX_UINT256 },
      { account: d!, cumulativeWork: (1n << 64n) - 1n, cumulativeReward: 1n << 64n },
    ],
    'zero and maximal amounts',
  );
  await assertMatchesReference([{ account: a!, cumulativeWork: MAX_UINT256, cumulativeReward: 0n }], 'one maximal leaf');
});

test('accounts that share long prefixes or differ only in the last byte sort and hash as the library does', async () => {
  const next = new Rng(99);
  const prefix19 = '0x' + randomHex(next, 19);
  const lastByte = Array.from({ length: 256 }, (_, i) => prefix19 + hexByte(255 - i));
  await assertMatchesReference(lastByte.map((account, i) => ({ account, cumulativeWork: BigInt(i), cumulativeReward: BigInt(3 * i) })), 'the last byte only');
  // Runs long enough for the radix sort to recurse, then short ones it finishes by insertion.
  const prefix10 = '0x' + randomHex(next, 10);
  const clustered = new Set<string>(['0x' + '00'.repeat(20), '0x' + 'ff'.repeat(20), '0x' + '00'.repeat(19) + '01', '0x' + 'ff'.repeat(19) + 'fe']);
  for (let i = 0; i < 300; i++) clustered.add(prefix10 + randomHex(next, 10));
  for (let i = 0; i < 40; i++) clustered.add(prefix10 + randomHex(next, 5) + '0000000000');
  for (let i = 0; i < 40; i++) clustered.add(prefix19.slice(0, 30) + randomHex(next, 6));
  await assertMatchesReference(
    [...clustered].map((account) => ({ account, cumulativeWork: randomAmount(next), cumulativeReward: randomAmount(next) })),
    'clustered prefixes',
  );
});

test('the encoder sorts thousands of clustered accounts exactly as a string sort does', () => {
  const next = new Rng(5);
  const prefixes = Array.from({ length: 30 }, () => '0x' + randomHex(next, next.range(1, 18)));
  const accounts = new Set<string>();
  while (accounts.size < 20_000) {
    const prefix = next.pick(prefixes);
    accounts.add(prefix + randomHex(next, 20 - (prefix.length - 2) / 2));
  }
  const leaves = [...accounts].map((account, i) => ({ account, cumulativeWork: BigInt(i), cumulativeReward: 0n }));
  const compact = encodeLeaves(leaves);
  const expected = [...accounts].sort();
  const workOf = new Map(leaves.map((leaf) => [leaf.account, leaf.cumulativeWork]));
  for (let i = 0; i < expected.length; i++) {
    const leaf = leafAt(compact, i);
    assert.equal(leaf.account.toLowerCase(), expected[i], `leaf ${i} is out of account order`);
    assert.equal(leaf.cumulativeWork, workOf.get(expected[i]!), `leaf ${i} lost its amounts`);
  }
});

test('mixed-case and checksummed input gives the same bytes and root as lower case', async () => {
  const leaves = randomLeaves(9, 42);
  const mixed = leaves.map((leaf, i) => ({
    ...leaf,
    account: i % 3 === 0 ? checksumAddress(leaf.account) : i % 3 === 1 ? '0x' + leaf.account.slice(2).toUpperCase() : leaf.account,
  }));
  assert.deepEqual(encodeLeaves(mixed), encodeLeaves(leaves));
  await assertMatchesReference(mixed, 'mixed case');
});

test('encodeLeaves refuses what would make the tree ambiguous or unclaimable, naming it', () => {
  const [a, b] = randomLeaves(2, 3);
  const leaf = (account: string, cumulativeWork = 1n, cumulativeReward = 1n): RewardLeaf => ({ account, cumulativeWork, cumulativeReward });
  assert.throws(() => encodeLeaves([leaf(a!.account), leaf(b!.account), leaf(a!.account)]), { message: `two leaves for ${checksumAddress(a!.account)}` });
  assert.throws(() => encodeLeaves([leaf(a!.account), leaf(checksumAddress(a!.account))]), { message: `two leaves for ${checksumAddress(a!.account)}` }, 'the same account in another case');
  assert.throws(() => encodeLeaves([leaf(a!.account, -1n)]), { name: 'RangeError', message: `cumulativeWork of ${a!.account} is not a uint256: -1` });
  assert.throws(() => encodeLeaves([leaf(a!.account, 1n, -5n)]), { name: 'RangeError', message: `cumulativeReward of ${a!.account} is not a uint256: -5` });
  assert.throws(() => encodeLeaves([leaf(a!.account, MAX_UINT256 + 1n)]), { name: 'RangeError', message: `cumulativeWork of ${a!.account} is not a uint256: ${MAX_UINT256 + 1n}` });
  assert.throws(() => encodeLeaves([leaf(a!.account, 1n, 1n << 300n)]), { name: 'RangeError', message: `cumulativeReward of ${a!.account} is not a uint256: ${1n << 300n}` });
  for (const bad of ['0x1234', a!.account.slice(2), a!.account + '0', a!.account.slice(0, -1) + 'g', '0X' + a!.account.slice(2), ' ' + a!.account.slice(1), '']) {
    assert.throws(() => encodeLeaves([leaf(b!.account), leaf(bad)]), { message: `not an address: ${bad}` }, `accepted ${JSON.stringify(bad)}`);
  }
  assert.equal(encodeLeaves([]).length, 0);
});

test('indexOfAccount finds every leaf and answers -1 for accounts between, before and after them', () => {
  const leaves = randomLeaves(200, 11).sort(byAccount);
  const compact = encodeLeaves(leaves);
  for (let i = 0; i < leaves.length; i++) assert.equal(indexOfAccount(compact, leaves[i]!.account), i);
  const missing = ['0x' + '00'.repeat(20), '0x' + 'ff'.repeat(20), ...randomLeaves(50, 12).map((leaf) => leaf.account)];
  for (const account of missing) assert.equal(indexOfAccount(compact, account), -1, `found ${account}, which has no leaf`);
  // Neighbours of a real leaf: the same account one step below and above in its last byte.
  const near = leaves[100]!.account;
  const last = parseInt(near.slice(-2), 16);
  for (const step of [-1, 1]) {
    const neighbour = near.slice(0, -2) + hexByte(last + step);
    if (!leaves.some((leaf) => leaf.account === neighbour)) assert.equal(indexOfAccount(compact, neighbour), -1);
  }
  assert.equal(indexOfAccount(new Uint8Array(0), near), -1, 'an empty table has nobody');
  assert.throws(() => indexOfAccount(compact, 'nobody'), { message: 'not an address: nobody' });
  assert.throws(() => leafAt(compact, 200), { name: 'RangeError', message: 'no leaf 200' });
  assert.throws(() => leafAt(compact, -1), { name: 'RangeError', message: 'no leaf -1' });
});

test('a truncated table is refused everywhere, and an empty one by the builder', async () => {
  const compact = encodeLeaves(randomLeaves(3, 13));
  const truncated = compact.subarray(0, compact.length - 1);
  const message = `a leaf table of ${truncated.length} bytes is not a whole number of 84-byte records`;
  assert.throws(() => leafCountOf(truncated), { message });
  assert.throws(() => leafAt(truncated, 0), { message });
  assert.throws(() => indexOfAccount(truncated, randomLeaves(1, 13)[0]!.account), { message });
  await assert.rejects(buildRewardTreeNodes(truncated), { message });
  await assert.rejects(buildRewardTreeNodes(new Uint8Array(0)), { message: 'a reward tree needs at least one leaf' });
  const built = await buildRewardTreeNodes(compact);
  assert.throws(() => rewardProofAt(built, 3), { name: 'RangeError', message: 'no leaf 3' });
});

test('a table at an offset inside a larger buffer builds the same tree', async () => {
  // Settlement may read the table out of a bigger buffer (a database page, a file): byteOffset != 0.
  const compact = encodeLeaves(randomLeaves(9, 17));
  const host = new Uint8Array(compact.length + 8);
  host.set(compact, 4);
  const inside = host.subarray(4, 4 + compact.length);
  const [direct, offset] = await Promise.all([buildRewardTreeNodes(compact), buildRewardTreeNodes(inside)]);
  assert.equal(offset.root, direct.root);
  assert.equal(offset.totalWork, direct.totalWork);
  assert.deepEqual(leafAt(inside, 8), leafAt(compact, 8));
});

test('totalWork stays exact across the builder\'s number-sum flushes, up to maximal amounts', async () => {
  const count = 2 * LEAVES_PER_WORK_FLUSH + 100;
  const leaves = randomLeaves(count, 21, (rng) => (rng.chance(0.5) ? MAX_UINT256 - BigInt(rng.u32()) : randomAmount(rng)));
  const built = await buildRewardTreeNodes(encodeLeaves(leaves));
  assert.equal(built.totalWork, leaves.reduce((sum, leaf) => sum + leaf.cumulativeWork, 0n));
});
