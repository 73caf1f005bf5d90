// DigestSet (the gateway's memory of share hashes) against a plain Set of the same strings, under
// a long seeded sequence of adds, lookups and deletes that crosses several rehashes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { DigestSet } from '../server/work/digest-set.js';

/** A distinct, reproducible 64-hex-digit digest per n. */
function digest(n: number): string {
  return createHash('sha256').update(String(n)).digest('hex');
}

describe('DigestSet', () => {
  test('adds, finds and deletes digests; a second add of the same digest is refused', () => {
    const set = new DigestSet(16);
    const a = digest(1);
    assert.equal(set.has(a), false);
    assert.equal(set.add(a), true);
    assert.equal(set.add(a), false);
    assert.equal(set.has(a), true);
    assert.equal(set.has(a.toUpperCase()), true, 'hex digits are compared by value, not by case');
    assert.equal(set.size, 1);
    assert.equal(set.delete(a), true);
    assert.equal(set.delete(a), false);
    assert.equal(set.has(a), false);
    assert.equal(set.size, 0);
    assert.equal(set.add(a), true, 'a deleted digest may come back');
  });

  test('share hashes with long runs of leading zeros still spread over the table', () => {
    // Real share hashes start with zeros: only their last digits differ.
    const set = new DigestSet(16);
    const hashes = Array.from({ length: 5000 }, (_, i) => '0'.repeat(40) + digest(i).slice(0, 24));
    for (const h of hashes) assert.equal(set.add(h), true);
    for (const h of hashes) assert.equal(set.has(h), true);
    assert.equal(set.has('0'.repeat(64)), false);
    assert.equal(set.size, hashes.length);
  });

  test('agrees with a Set<string> over 200,000 random operations and many rehashes', () => {
    let x = 0x9e3779b9;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    const set = new DigestSet(16);
    const reference = new Set<string>();
    for (let i = 0; i < 200_000; i++) {
      const value = digest(next() % 60_000);
      const op = next() % 10;
      if (op < 6) assert.equal(set.add(value), !reference.has(value) && reference.add(value) !== undefined);
      else if (op < 8) assert.equal(set.delete(value), reference.delete(value));
      else assert.equal(set.has(value), reference.has(value));
      assert.equal(set.size, reference.size);
    }
    for (const value of reference) assert.equal(set.has(value), true);
  });

  test('refuses what is not 64 hex digits, naming the problem', () => {
    const set = new DigestSet();
    assert.throws(() => set.add('ab'), /a digest is 64 hex digits, got 2/);
    assert.throws(() => set.has('g'.repeat(64)), /not a hex digit at 0 of a digest: "g"/);
    assert.throws(() => set.delete(`${'0'.repeat(63)} `), /not a hex digit at 63/);
    assert.equal(set.size, 0);
  });
});
