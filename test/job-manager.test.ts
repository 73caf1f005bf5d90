// JobManager: refreshes keep the merkle key when the coinbase and branch are unchanged, so the
// sessions' cached merkle roots survive them; any change to those bytes gives a new key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobManager } from '../server/work/job-manager.js';
import { template } from './helpers/work-template.js';

test('jobs with byte-identical coinbase parts and branch share a merkle key; any change makes a new one', () => {
  const jobs = new JobManager({ staleGraceMs: 10_000, refreshIntervalMs: 60_000 });
  try {
    const first = jobs.accept(template());
    // A refresh as the practice source sends it: rebuilt arrays with the same bytes, a later ntime.
    const refresh = jobs.accept(template({ coinb1: Uint8Array.of(1, 2, 3), merkleBranch: [new Uint8Array(32).fill(7), new Uint8Array(32).fill(8)], ntime: 1_700_000_030, cleanJobs: false }));
    assert.notEqual(refresh.id, first.id);
    assert.notEqual(refresh.generation, first.generation);
    assert.equal(refresh.merkleKey, first.merkleKey, 'the merkle roots of the refresh are the same');
    assert.equal(jobs.derive(refresh).merkleKey, first.merkleKey, 'a re-notify after set_difficulty is the same work');

    const newCoinbase = jobs.accept(template({ coinb2: Uint8Array.of(4, 5, 7), cleanJobs: false }));
    assert.notEqual(newCoinbase.merkleKey, first.merkleKey, 'coinb2 changed');
    const newBranch = jobs.accept(template({ coinb2: Uint8Array.of(4, 5, 7), merkleBranch: [new Uint8Array(32).fill(7)], cleanJobs: false }));
    assert.notEqual(newBranch.merkleKey, newCoinbase.merkleKey, 'the branch changed');
    const newTx = jobs.accept(template({ coinb2: Uint8Array.of(4, 5, 7), merkleBranch: [new Uint8Array(32).fill(9)], cleanJobs: false }));
    assert.notEqual(newTx.merkleKey, newBranch.merkleKey, 'a branch hash changed');
  } finally {
    jobs.stop();
  }
});

test('a share hash is refused again while any template of its block is live; expired templates give their sets back', () => {
  let nowMs = 1_000_000;
  const jobs = new JobManager({ staleGraceMs: 10_000, refreshIntervalMs: 60_000 }, () => nowMs);
  const hash = (n: number) => '0'.repeat(48) + n.toString(16).padStart(16, '0');
  try {
    const first = jobs.accept(template());
    assert.equal(jobs.markSeen(first, hash(1)), true);
    assert.equal(jobs.markSeen(first, hash(1)), false, 'the same work twice');

    nowMs += 1_000;
    const refresh = jobs.accept(template({ ntime: 1_700_000_030, cleanJobs: false }));
    assert.equal(jobs.markSeen(refresh, hash(1)), false, 'a refresh of the same block still knows the first template\'s shares');
    assert.equal(jobs.markSeen(refresh, hash(2)), true);

    jobs.forgetSeen(refresh, hash(2));
    assert.equal(jobs.markSeen(refresh, hash(2)), true, 'a share whose write failed may be submitted again');

    // Past the grace period the first template expires with the next one: its set is released.
    nowMs += 20_000;
    jobs.accept(template({ ntime: 1_700_000_060, cleanJobs: false }));
    assert.equal(first.generation.seenHashes.size, 0);
    assert.throws(() => first.generation.seenHashes.add(hash(3)), /after release/);
    jobs.forgetSeen(first, hash(1)); // a late ledger failure on an expired template: a no-op
    assert.equal(refresh.generation.seenHashes.size, 1, 'the refresh is still in its grace period');

    // A new block drops every template at once.
    const next = jobs.accept(template({ prevhash: new Uint8Array(32).fill(2) }));
    assert.equal(refresh.generation.seenHashes.size, 0);
    assert.equal(jobs.markSeen(next, hash(1)), true, 'shares of an earlier block are not this block\'s duplicates');
  } finally {
    jobs.stop();
  }
});

test('derived jobs are shared per (job, ntime, difficulty): a flood of retargets mints a few, and none outlives its job', () => {
  const jobs = new JobManager({ staleGraceMs: 10_000, refreshIntervalMs: 60_000 });
  try {
    const first = jobs.accept(template());
    const before = jobs.size;
    const a = jobs.derive(first, first.stratum.ntime + 1, 2e-5);
    for (let i = 0; i < 1_000; i++) {
      assert.equal(jobs.derive(first, first.stratum.ntime + 1, i % 2 === 0 ? 2e-5 : 1e-5).id, i % 2 === 0 ? a.id : jobs.derive(first, first.stratum.ntime + 1, 1e-5).id);
    }
    assert.equal(jobs.size, before + 2, 'one job per difficulty');
    assert.notEqual(jobs.derive(first, first.stratum.ntime + 2, 2e-5).id, a.id, 'another ntime is other work');
    // A new block drops every job: the cache does not hand out one that can no longer be submitted.
    jobs.accept(template({ prevhash: new Uint8Array(32).fill(5) }));
    const again = jobs.derive(first, first.stratum.ntime + 1, 2e-5);
    assert.notEqual(again.id, a.id);
  } finally {
    jobs.stop();
  }
});
