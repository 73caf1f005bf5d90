// The page's one unit system and the words that explain differing figures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countOf, formatRate, formatWork, quorumText } from '../web/app/units.js';
import { shareDifference } from '../web/app/figure-reasons.js';
import { pressureResponse } from '../web/contributor/pressure.js';
import { CpuCeiling } from '../web/contributor/cpu-ceiling.js';

test('rates use H/s with SI prefixes', () => {
  assert.equal(formatRate(950), '950 H/s');
  assert.equal(formatRate(362_600), '362.6 kH/s');
  assert.equal(formatRate(1_800_000), '1.80 MH/s');
  assert.equal(formatRate(2_500_000_000), '2.50 GH/s');
});

test('work is a number of hashes with the same prefixes, never "Mhashes"', () => {
  assert.equal(formatWork(1), '1 hash');
  assert.equal(formatWork(950), '950 hashes');
  assert.equal(formatWork(1_200_000_000), '1.20 G hashes');
  assert.equal(formatWork('4294967296'), '4.29 G hashes');
  assert.equal(formatWork(12_345_000n), '12.35 M hashes');
  assert.doesNotMatch(formatWork(5e6), /Mhashes/);
});

test('counts take their plural', () => {
  assert.equal(countOf(0, 'share'), '0 shares');
  assert.equal(countOf(1, 'share'), '1 share');
  assert.equal(countOf(2, 'share'), '2 shares');
  assert.equal(countOf(1, 'hash', 'hashes'), '1 hash');
});

test('quorum reads as a share below it and as a multiple once reached, never 999.9%', () => {
  assert.equal(quorumText(43n, 100n), '43% of quorum');
  assert.equal(quorumText(0n, 100n), '0% of quorum');
  assert.equal(quorumText(100n, 100n), 'quorum reached: 1.0x');
  assert.equal(quorumText(320n, 100n), 'quorum reached: 3.2x');
  assert.equal(quorumText(9_999n, 1n), 'quorum reached: 9999.0x');
  assert.equal(quorumText(5n, 0n), 'no quorum needed');
});

test('the device and the pool agreeing need no words; differing, they say why', () => {
  assert.deepEqual(shareDifference({ pending: 0, accepted: 12, rejected: 0 }, 12, {}), []);
  assert.deepEqual(shareDifference({ pending: 1, accepted: 11, rejected: 0 }, 11, {}), ['1 in flight']);
  assert.deepEqual(shareDifference({ pending: 0, accepted: 11, rejected: 1 }, 11, { stale: 1 }), ['1 rejected: stale']);
  assert.deepEqual(shareDifference({ pending: 0, accepted: 2, rejected: 1 }, 2, {}), ['1 share rejected by the pool, not credited']);
  assert.match(shareDifference({ pending: 0, accepted: 11, rejected: 0 }, 12, {}).join(), /the pool credited 1 more/);
  assert.match(shareDifference({ pending: 0, accepted: 12, rejected: 0 }, 11, {}).join(), /1 not in it yet/);
  assert.deepEqual(shareDifference({ pending: 0, accepted: 3, rejected: 0 }, undefined, {}), [], 'no pool answer yet: nothing to compare');
});

test('compute pressure: serious halves the duty cycle, critical pauses, lower states lift both', () => {
  assert.deepEqual(pressureResponse('nominal'), { dutyFactor: 1, pause: false });
  assert.deepEqual(pressureResponse('fair'), { dutyFactor: 1, pause: false });
  assert.deepEqual(pressureResponse('serious'), { dutyFactor: 0.5, pause: false });
  assert.equal(pressureResponse('critical').pause, true);
  assert.deepEqual(pressureResponse(undefined), { dutyFactor: 1, pause: false });
  const ceiling = new CpuCeiling(50);
  ceiling.setPressureFactor(0.5);
  assert.equal(ceiling.percent, 25);
  ceiling.setCeiling(10);
  assert.equal(ceiling.percent, 10, 'never below the least duty cycle the workers keep');
  ceiling.setCeiling(80);
  ceiling.setPressureFactor(1);
  assert.equal(ceiling.percent, 80);
});
