import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbiCoder, id, keccak256, concat, getAddress, TypedDataEncoder } from 'ethers';
import {
  BALLOT_TYPES,
  buildRewardTree,
  governorDomain,
  PROPOSAL_REQUEST_TYPES,
  REINVESTMENT_BPS_PARAMETER,
  splitEpochReward,
  verifyRewardProof,
} from '../protocol/dao/index.js';
import { checksumAddress } from '../protocol/dao/address.js';

const A = '0x52908400098527886E0F7030069857D2E4169EE7';
const B = '0x8617E340B3D01FA5F11F306F4090FD50E238070D';
const C = '0xde709f2102306220921060314715629080e2fb77';

test('the governed parameter key is keccak256("reinvestmentBps"), as WorkGovernor.sol computes it', () => {
  assert.equal(REINVESTMENT_BPS_PARAMETER, id('reinvestmentBps'));
});

test('EIP-712 type strings match the typehashes in WorkGovernor.sol', () => {
  assert.equal(TypedDataEncoder.from(BALLOT_TYPES).encodeType('Ballot'), 'Ballot(uint256 proposalId,uint8 support,address voter)');
  assert.equal(
    TypedDataEncoder.from(PROPOSAL_REQUEST_TYPES).encodeType('ProposalRequest'),
    'ProposalRequest(address proposer,uint8 kind,uint64 epoch,bytes32 parameter,uint256 value,bytes32 descriptionHash,uint256 nonce)',
  );
  assert.deepEqual(governorDomain(31337, A), { name: 'WorkGovernor', version: '1', chainId: 31337, verifyingContract: A });
});

test('a leaf hashes as keccak256(keccak256(abi.encode(account, work, reward))), the contract hashing', () => {
  const tree = buildRewardTree([{ account: A, cumulativeWork: 7n, cumulativeReward: 11n }]);
  const inner = keccak256(AbiCoder.defaultAbiCoder().encode(['address', 'uint256', 'uint256'], [A, 7n, 11n]));
  // A one-leaf tree's root is the leaf itself.
  assert.equal(tree.root, keccak256(concat([inner])));
  assert.deepEqual(tree.proofs.get(A)?.proof, []);
});

test('every proof verifies against its root, and nothing else does', () => {
  const leaves = [
    { account: B, cumulativeWork: 300n, cumulativeReward: 30n },
    { account: A, cumulativeWork: 100n, cumulativeReward: 10n },
    { account: C, cumulativeWork: 2n ** 200n, cumulativeReward: 1n },
  ];
  const tree = buildRewardTree(leaves);
  assert.equal(tree.totalWork, 400n + 2n ** 200n);
  assert.equal(tree.proofs.size, 3);
  for (const proof of tree.proofs.values()) assert.equal(verifyRewardProof(tree.root, proof), true);
  const a = tree.proofs.get(A)!;
  assert.equal(verifyRewardProof(tree.root, { ...a, cumulativeReward: 11n }), false, 'a raised reward');
  assert.equal(verifyRewardProof(tree.root, { ...a, account: B }), false, 'another account');
  assert.equal(verifyRewardProof(tree.root, { ...a, proof: [] }), false, 'no proof');
  assert.equal(verifyRewardProof(tree.root, { ...a, proof: ['0x1234'] }), false, 'a malformed proof element');
  assert.equal(verifyRewardProof('0x' + '00'.repeat(32), a), false, 'another root');
});

test('the root does not depend on the order the ledger lists members in', () => {
  const leaves = [
    { account: A, cumulativeWork: 1n, cumulativeReward: 2n },
    { account: B, cumulativeWork: 3n, cumulativeReward: 4n },
    { account: C, cumulativeWork: 5n, cumulativeReward: 6n },
  ];
  assert.equal(buildRewardTree(leaves).root, buildRewardTree([...leaves].reverse()).root);
});

test('bad leaf sets are refused', () => {
  assert.throws(() => buildRewardTree([]), /at least one leaf/);
  assert.throws(() => buildRewardTree([{ account: A, cumulativeWork: 1n, cumulativeReward: 1n }, { account: A.toLowerCase(), cumulativeWork: 2n, cumulativeReward: 2n }]), /two leaves/);
  assert.throws(() => buildRewardTree([{ account: A, cumulativeWork: -1n, cumulativeReward: 0n }]), /negative/);
  assert.throws(() => buildRewardTree([{ account: '0x1234', cumulativeWork: 1n, cumulativeReward: 0n }]), /address/i);
});

test("leaf accounts are checksummed as ethers' getAddress does, and refused where it refuses them", () => {
  /** The address, or the error's kind: the two must agree on both. */
  const outcome = (f: (address: string) => string, address: string) => {
    try {
      return f(address);
    } catch (err) {
      return /checksum/.test(String(err)) ? 'bad checksum' : 'invalid';
    }
  };
  const inputs = [A, B, C, '0x' + '0'.repeat(40), '0x' + 'f'.repeat(40), '0x1234', '', '0x' + 'g'.repeat(40), 'XE7338O073KYGTWWZN0F2WZ0R8PX5ZPPZS'];
  for (let i = 0; i < 64; i++) {
    const address = getAddress('0x' + id(`member ${i}`).slice(26));
    const flipped = address.replace(/[a-fA-F]/, (c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()));
    inputs.push(address, address.toLowerCase(), '0x' + address.slice(2).toUpperCase(), address.slice(2), flipped, address + '0', address.slice(0, -1));
  }
  for (const input of inputs) {
    // ICAP addresses (XE...) are the one form ethers takes and the reward tree never sees.
    const expected = input.startsWith('XE') ? 'invalid' : outcome(getAddress, input);
    assert.equal(outcome(checksumAddress, input), expected, input);
  }
});

test('the split takes the reinvestment share first, then pays pro rata, and the parts add up', () => {
  const work = new Map([
    [A, 1n],
    [B, 2n],
    [C, 0n],
  ]);
  const split = splitEpochReward(work, 1000n, 1000);
  // 100 reinvested, 900 split 1:2 -> 300 and 600.
  assert.equal(split.byMember.get(A), 300n);
  assert.equal(split.byMember.get(B), 600n);
  assert.equal(split.byMember.has(C), false, 'no work, no entry');
  assert.equal(split.reinvested, 100n);
  assert.equal(split.members + split.reinvested, 1000n);
});

test('rounding remainders go to the treasury, never to an arbitrary member', () => {
  const split = splitEpochReward(new Map([[A, 1n], [B, 1n], [C, 1n]]), 100n, 0);
  assert.deepEqual([...split.byMember.values()], [33n, 33n, 33n]);
  assert.equal(split.reinvested, 1n);
  assert.equal(split.members + split.reinvested, 100n);
});

test('an epoch without work reinvests everything; bad inputs are refused', () => {
  assert.deepEqual(splitEpochReward(new Map(), 50n, 2500), { reinvested: 50n, members: 0n, byMember: new Map() });
  assert.throws(() => splitEpochReward(new Map(), -1n, 0), /negative/);
  assert.throws(() => splitEpochReward(new Map(), 1n, 10_001), /0\.\.10000/);
  assert.throws(() => splitEpochReward(new Map(), 1n, 1.5), /integer/);
  assert.throws(() => splitEpochReward(new Map([[A, -1n]]), 1n, 0), /negative work/);
});
