// Extranonce1 resumption on its own: a session that comes back within the window gets its
// prefix again; after the window the prefix goes back to the allocator; a new slot size drops
// held prefixes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExtranonceAllocator } from '../server/stratum/extranonce.js';
import { ExtranonceResume } from '../server/stratum/extranonce-resume.js';
import { waitFor } from './helpers/wait-for.js';

/** A one-byte prefix in a partition of one value: a second prefix exists only once the first is released. */
const single = () => new ExtranonceAllocator(1, 7);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

test('nothing is handed out before the first template says the slot size', () => {
  const resume = new ExtranonceResume({ instanceId: 0 });
  assert.throws(() => resume.allocate(), /no work yet/);
  assert.equal(resume.useSlotSize(8), true);
  assert.equal(resume.useSlotSize(8), false, 'the same size again changes nothing');
  const { extranonce1, extranonce2Size, subscriptionId } = resume.allocate();
  assert.equal(extranonce1.length, 4);
  assert.equal(extranonce2Size, 4);
  assert.match(subscriptionId, /^[0-9a-f]{16}$/);
});

test('a session back within the window resumes its prefix; a stranger does not get it', () => {
  const resume = new ExtranonceResume({ instanceId: 7, allocatorFor: single, resumeWindowMs: 60_000 });
  resume.useSlotSize(4);
  const first = resume.allocate();
  resume.hold(first.subscriptionId, first.extranonce1);
  assert.throws(() => resume.allocate('someone-else'), /every extranonce1 of instance 7 is in use/, 'a held prefix is not handed to another');
  const again = resume.allocate(first.subscriptionId);
  assert.equal(hex(again.extranonce1), hex(first.extranonce1));
  assert.notEqual(again.subscriptionId, first.subscriptionId, 'a new subscription id for the next drop');
  assert.throws(() => resume.allocate(first.subscriptionId), /in use/, 'a held prefix resumes once');
  resume.close();
});

test('after the window the prefix is released for anyone', async () => {
  const resume = new ExtranonceResume({ instanceId: 7, allocatorFor: single, resumeWindowMs: 20 });
  resume.useSlotSize(4);
  const first = resume.allocate();
  resume.hold(first.subscriptionId, first.extranonce1);
  const other = await waitFor('the held prefix to be released', async () => {
    try {
      return resume.allocate('a-stranger');
    } catch {
      return undefined;
    }
  });
  assert.equal(hex(other.extranonce1), hex(first.extranonce1), 'the only prefix is free again');
  const late = (() => {
    try {
      return resume.allocate(first.subscriptionId);
    } catch (err) {
      return err as Error;
    }
  })();
  assert.ok(late instanceof Error && /in use/.test(late.message), 'the late miner does not get it back');
});

test('a new slot size brings a new allocator and forgets held prefixes', () => {
  const sizes: number[] = [];
  const resume = new ExtranonceResume({ instanceId: 7, allocatorFor: (slot) => (sizes.push(slot), single()), resumeWindowMs: 60_000 });
  resume.useSlotSize(4);
  const first = resume.allocate();
  resume.hold(first.subscriptionId, first.extranonce1);
  assert.equal(resume.useSlotSize(6), true);
  assert.deepEqual(sizes, [4, 6]);
  assert.equal(resume.extranonce2Size, 5);
  const after = resume.allocate(first.subscriptionId);
  assert.notEqual(after.subscriptionId, first.subscriptionId);
  assert.throws(() => resume.allocate(), /in use/, 'the new allocator handed out its one prefix fresh, not as a resume');
  resume.close();
});
