import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExtranonceAllocator } from '../server/stratum/extranonce.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

test("instance 3's prefixes all start with 0x03, are unique, and never enter another instance's partition", () => {
  const allocator = new ExtranonceAllocator(2, 3);
  assert.equal(allocator.capacity, 256);
  const seen = new Set<string>();
  for (let i = 0; i < 256; i++) {
    const prefix = allocator.allocate();
    assert.equal(prefix.length, 2);
    assert.equal(prefix[0], 0x03, `prefix ${hex(prefix)} is outside instance 3's partition`);
    seen.add(hex(prefix));
  }
  assert.equal(seen.size, 256, 'every prefix of the partition, each once');
  assert.throws(
    () => allocator.allocate(),
    (err: Error) => {
      assert.match(err.message, /every extranonce1 of instance 3 is in use: all 256 prefix\(es\) of 2 byte\(s\) starting with 0x03/);
      return true;
    },
  );
});

test('a released prefix is handed out again, and only then', () => {
  const allocator = new ExtranonceAllocator(2, 0xfe);
  const all = Array.from({ length: 256 }, () => allocator.allocate());
  assert.throws(() => allocator.allocate(), /instance 254 is in use/);
  allocator.release(all[17]!);
  assert.equal(allocator.allocated, 255);
  assert.deepEqual(allocator.allocate(), all[17]);
  assert.throws(() => allocator.allocate(), /in use/);
  // A prefix of another partition or another size is not this allocator's: nothing is freed.
  allocator.release(Uint8Array.of(0x05, 0x00));
  allocator.release(Uint8Array.of(0xfe, 0x00, 0x00));
  assert.throws(() => allocator.allocate(), /in use/);
});

test('the largest slot: 4-byte prefixes of instance 255 start with 0xff; two instances never collide', () => {
  const a = ExtranonceAllocator.forSlot(8, 255);
  const b = ExtranonceAllocator.forSlot(8, 254);
  assert.equal(a.prefixSize, 4);
  assert.equal(a.capacity, 2 ** 24);
  const fromA = new Set(Array.from({ length: 2000 }, () => hex(a.allocate())));
  const fromB = new Set(Array.from({ length: 2000 }, () => hex(b.allocate())));
  assert.ok([...fromA].every((p) => p.startsWith('ff')));
  assert.ok([...fromB].every((p) => p.startsWith('fe')));
  assert.equal(fromA.size + fromB.size, 4000);
});

test('instance 0 alone (a single SQLite gateway) works as before, within 0x00..', () => {
  const allocator = ExtranonceAllocator.forSlot(6);
  assert.equal(allocator.prefixSize, 4);
  const prefixes = Array.from({ length: 100 }, () => allocator.allocate());
  assert.ok(prefixes.every((p) => p[0] === 0));
  assert.equal(new Set(prefixes.map(hex)).size, 100);
  // A 3-byte slot leaves a 1-byte prefix: the partition is that one byte, so one session at a time.
  const tiny = ExtranonceAllocator.forSlot(3, 9);
  assert.deepEqual(tiny.allocate(), Uint8Array.of(9));
  assert.throws(() => tiny.allocate(), /all 1 prefix\(es\) of 1 byte\(s\) starting with 0x09/);
});

test('bad sizes and instance ids are refused', () => {
  assert.throws(() => new ExtranonceAllocator(5), /prefixSize must be 1\.\.4, got 5/);
  assert.throws(() => new ExtranonceAllocator(2, 256), /instanceId must be 0\.\.255, got 256/);
  assert.throws(() => new ExtranonceAllocator(2, -1), /instanceId must be 0\.\.255, got -1/);
  assert.throws(() => ExtranonceAllocator.forSlot(2), /extranonce slot \(2 bytes\) is too small/);
});
