// DigestSet (the gateway's memory of share hashes) against a plain Set of the same strings, under
// a long seeded sequence of adds, lookups and deletes that crosses several rehashes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { DigestSet, digestTablesAllocated } from '../server/work/digest-set.js';

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

  test('an entry is the last 64 bits of the digest: digests that differ only before them are one entry', () => {
    // The documented trade (digest-set.ts): 2^-64 per pair of distinct shares, for a quarter of the memory.
    const set = new DigestSet(16);
    const tail = digest(7).slice(48);
    assert.equal(set.add('1'.repeat(48) + tail), true);
    assert.equal(set.has('2'.repeat(48) + tail), true);
    assert.equal(set.has('1'.repeat(48) + digest(8).slice(48)), false);
  });

  test('a released set is empty and its tables go to the next set, which then allocates nothing', () => {
    const fill = (set: DigestSet, from: number, count: number) => {
      for (let i = from; i < from + count; i++) assert.equal(set.add(digest(i)), true);
    };
    const first = new DigestSet(16);
    fill(first, 0, 20_000);
    first.release();
    assert.equal(first.size, 0);
    assert.equal(first.has(digest(1)), false);
    assert.equal(first.delete(digest(1)), false, 'a share whose template expired may still be forgotten: a no-op');
    assert.throws(() => first.add(digest(1)), /add after release/);

    const before = digestTablesAllocated();
    const second = new DigestSet(16);
    fill(second, 100_000, 20_000);
    assert.equal(digestTablesAllocated(), before, 'the second set grew through the first one\'s tables');
    // Reused tables start empty: nothing of the first set shows through.
    for (let i = 0; i < 20_000; i += 997) assert.equal(second.has(digest(i)), false);
    for (let i = 100_000; i < 120_000; i += 997) assert.equal(second.has(digest(i)), true);
    // A late delete on the released set must not reach the tables the second set now uses.
    assert.equal(first.delete(digest(100_000)), false);
    assert.equal(second.has(digest(100_000)), true);
    second.release();
    second.release();
  });

  test('refuses what is not 64 hex digits, naming the problem', () => {
    const set = new DigestSet();
    assert.throws(() => set.add('ab'), /a digest is 64 hex digits, got 2/);
    assert.throws(() => set.has('g'.repeat(64)), /not a hex digit at 0 of a digest: "g"/);
    assert.throws(() => set.delete(`${'0'.repeat(63)} `), /not a hex digit at 63/);
    assert.equal(set.size, 0);
  });
});
