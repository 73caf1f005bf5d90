// Extranonce1 resumption on its own: a session that comes back within the window gets its
// prefix again; after the window the prefix goes back to the allocator; a new slot size drops
// held prefixes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExtranonceAllocator, ExtranonceExhaustedError } from '../server/stratum/extranonce.js';
import { ExtranonceResume } from '../server/stratum/extranonce-resume.js';
import { waitFor } from './helpers/wait-for.js';

/** A one-byte prefix in a partition of one value: a second prefix exists only once the first is released. */
const single = () => new ExtranonceAllocator(1, 7);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** A partition of `n` prefixes (instance 7, 3-byte prefixes, only the first n of 65,536 offered). */
function partitionOf(n: number) {
  return () =>
    new (class extends ExtranonceAllocator {
      override get full(): boolean {
        return this.allocated >= n;
      }
    })(3, 7);
}

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

test('a session back within the window resumes its prefix; a stranger does not get it while another is free', () => {
  const resume = new ExtranonceResume({ instanceId: 7, allocatorFor: partitionOf(2), resumeWindowMs: 60_000 });
  resume.useSlotSize(4);
  const first = resume.allocate();
  resume.hold(first.subscriptionId, first.extranonce1, '192.0.2.1');
  const stranger = resume.allocate('someone-else');
  assert.notEqual(hex(stranger.extranonce1), hex(first.extranonce1), 'a held prefix is not handed to another while a free one exists');
  const again = resume.allocate(first.subscriptionId);
  assert.equal(hex(again.extranonce1), hex(first.extranonce1));
  assert.notEqual(again.subscriptionId, first.subscriptionId, 'a new subscription id for the next drop');
  assert.throws(() => resume.allocate(first.subscriptionId), /in use/, 'a held prefix resumes once');
  resume.close();
});

test('when the partition is full, a held prefix goes to a new miner rather than refuse it', () => {
  const resume = new ExtranonceResume({ instanceId: 7, allocatorFor: single, resumeWindowMs: 60_000 });
  resume.useSlotSize(4);
  const first = resume.allocate();
  resume.hold(first.subscriptionId, first.extranonce1, '192.0.2.1');
  const stranger = resume.allocate('someone-else');
  assert.equal(hex(stranger.extranonce1), hex(first.extranonce1));
  assert.throws(() => resume.allocate(first.subscriptionId), (err: Error) => err instanceof ExtranonceExhaustedError, 'the late miner is refused: its hold was given up');
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

test('churn from one address holds at most 8 prefixes; the 9th drop releases its oldest', () => {
  const resume = new ExtranonceResume({ instanceId: 7, resumeWindowMs: 60_000 });
  resume.useSlotSize(4);
  const drops: string[] = [];
  for (let i = 0; i < 300; i++) {
    const s = resume.allocate();
    resume.hold(s.subscriptionId, s.extranonce1, '192.0.2.1');
    drops.push(s.subscriptionId);
  }
  assert.deepEqual(resume.usage, { capacity: 65_536, inUse: 8, held: 8 });
  // The oldest drops lost their hold; the newest 8 still resume.
  const old = resume.allocate(drops[0]);
  const recent = resume.allocate(drops[299]);
  assert.deepEqual(resume.usage, { capacity: 65_536, inUse: 9, held: 7 }, 'the old one got a fresh prefix, the recent one its own back');
  assert.ok(old.extranonce1.length === 3 && recent.extranonce1.length === 3);
  resume.close();
});

test('300 subscribe/close cycles from one address into a 256-prefix partition leave room for another address', () => {
  const resume = new ExtranonceResume({ instanceId: 7, allocatorFor: partitionOf(256), resumeWindowMs: 60_000, holdsPerIp: 1_000 });
  resume.useSlotSize(4);
  // Even with no per-address cap, held prefixes yield to new sessions, oldest first.
  for (let i = 0; i < 300; i++) {
    const s = resume.allocate();
    resume.hold(s.subscriptionId, s.extranonce1, '192.0.2.1');
  }
  assert.equal(resume.usage.inUse, 256);
  const other = resume.allocate();
  assert.equal(other.extranonce1.length, 3, 'another address subscribes');
  resume.close();
});

test('a full partition of live sessions refuses with ExtranonceExhaustedError once nothing is held', () => {
  const resume = new ExtranonceResume({ instanceId: 7, allocatorFor: partitionOf(3), resumeWindowMs: 60_000 });
  resume.useSlotSize(4);
  const a = resume.allocate();
  resume.allocate();
  resume.hold(a.subscriptionId, a.extranonce1, '192.0.2.1');
  resume.allocate();
  resume.allocate(); // takes a's held prefix: the oldest held goes first
  assert.deepEqual(resume.usage, { capacity: 65_536, inUse: 3, held: 0 });
  assert.throws(() => resume.allocate(a.subscriptionId), (err: Error) => err instanceof ExtranonceExhaustedError);
  resume.close();
});

test('an uncapped address (a known farm) keeps every hold', () => {
  const resume = new ExtranonceResume({ instanceId: 7, resumeWindowMs: 60_000, holdsPerIp: 2, uncapped: (ip) => ip === '198.51.100.7' });
  resume.useSlotSize(4);
  for (let i = 0; i < 20; i++) {
    const farm = resume.allocate();
    resume.hold(farm.subscriptionId, farm.extranonce1, '198.51.100.7');
    const other = resume.allocate();
    resume.hold(other.subscriptionId, other.extranonce1, '192.0.2.1');
  }
  assert.equal(resume.usage.held, 22);
  resume.close();
});
