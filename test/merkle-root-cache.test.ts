// The session's merkle root cache: hits by merkle key identity and extranonce2, two slots reused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MerkleRootCache } from '../server/stratum/merkle-root-cache.js';

const template = (name: string): object => ({ name });
const root = (n: number) => new Uint8Array(32).fill(n);

test('a root is built once per (template, extranonce2) and the two newest are kept', () => {
  const cache = new MerkleRootCache(4);
  const a = template('a');
  const b = template('b');
  let builds = 0;
  const get = (t: object, en2: number[], n: number) =>
    cache.root(t, Uint8Array.from(en2), () => {
      builds++;
      return root(n);
    });
  assert.deepEqual(get(a, [0, 0, 0, 1], 1), root(1));
  assert.deepEqual(get(a, [0, 0, 0, 1], 9), root(1), 'a hit returns the kept root');
  assert.equal(builds, 1);
  assert.deepEqual(get(a, [0, 0, 0, 2], 2), root(2), 'another extranonce2 is another root');
  assert.deepEqual(get(b, [0, 0, 0, 1], 3), root(3), 'another key (by identity) is another root');
  assert.equal(builds, 3);
  assert.deepEqual(get(a, [0, 0, 0, 2], 9), root(2), 'the two newest stay');
  assert.deepEqual(get(b, [0, 0, 0, 1], 9), root(3));
  assert.deepEqual(get(a, [0, 0, 0, 1], 4), root(4), 'the oldest was reused for a newer one');
  assert.equal(builds, 4);
  assert.deepEqual(get(template('a'), [0, 0, 0, 1], 5), root(5), 'an equal-looking but different key object is a miss');
  assert.throws(() => get(a, [1, 2], 6), /extranonce2 is 4 bytes here, got 2/);
});
