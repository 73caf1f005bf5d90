import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExtranonceAllocator, ExtranonceExhaustedError, extranonceLayout } from '../server/stratum/extranonce.js';

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
  // A 2-byte slot leaves the instance byte alone as the prefix: one session at a time.
  const tiny = ExtranonceAllocator.forSlot(2, 9);
  assert.deepEqual(tiny.allocate(), Uint8Array.of(9));
  assert.throws(() => tiny.allocate(), (err: Error) => err instanceof ExtranonceExhaustedError && /all 1 prefix\(es\) of 1 byte\(s\) starting with 0x09/.test(err.message));
});

test('bad sizes and instance ids are refused', () => {
  assert.throws(() => new ExtranonceAllocator(5), /prefixSize must be 1\.\.4, got 5/);
  assert.throws(() => new ExtranonceAllocator(2, 256), /instanceId must be 0\.\.255, got 256/);
  assert.throws(() => new ExtranonceAllocator(2, -1), /instanceId must be 0\.\.255, got -1/);
  assert.throws(() => ExtranonceAllocator.forSlot(1), /extranonce slot \(1 bytes\) is too small/);
});

test('the layout per slot size: an upstream giving 4 bytes leaves room for 65,536 sessions and the miner 1 byte', () => {
  const table = [2, 3, 4, 5, 6, 8].map((slot) => [slot, extranonceLayout(slot)] as const);
  assert.deepEqual(
    table.map(([slot, l]) => [slot, l.prefixSize, l.capacity, l.extranonce2Size]),
    [
      [2, 1, 1, 1],
      [3, 2, 256, 1],
      [4, 3, 65_536, 1],
      [5, 3, 65_536, 2],
      [6, 4, 16_777_216, 2],
      [8, 4, 16_777_216, 4],
    ],
  );
  for (const [slot, l] of table) assert.equal(l.prefixSize + l.extranonce2Size, slot, 'prefix and extranonce2 fill the slot exactly');
});

test('20,000 sessions on a 4-byte upstream slot: 20,000 distinct 3-byte prefixes, all in the instance partition', () => {
  const allocator = ExtranonceAllocator.forSlot(4, 0x2a);
  assert.ok(allocator.capacity >= 20_000);
  const seen = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const prefix = allocator.allocate();
    assert.equal(prefix.length, 3);
    assert.equal(prefix[0], 0x2a);
    seen.add(hex(prefix));
  }
  assert.equal(seen.size, 20_000);
  assert.equal(allocator.allocated, 20_000);
});

test('--miner-extranonce2-bytes 2 (cgminer needs 2): a 4-byte slot then serves 256 sessions, an 8-byte one is unchanged', () => {
  assert.deepEqual(extranonceLayout(4, 2), { prefixSize: 2, capacity: 256, extranonce2Size: 2 });
  assert.deepEqual(extranonceLayout(3, 2), { prefixSize: 1, capacity: 1, extranonce2Size: 2 });
  assert.deepEqual(extranonceLayout(8, 2), extranonceLayout(8));
  assert.throws(() => extranonceLayout(2, 2), /slot \(2 bytes\) is too small to split \(the instance byte and 2 for the miner\)/);
  assert.equal(ExtranonceAllocator.forSlot(4, 1, 2).prefixSize, 2);
});
