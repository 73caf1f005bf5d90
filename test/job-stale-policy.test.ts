// The stale policy on a simulated clock: any job of the current block is valid until a clean job
// or the configured age after a newer one replaced it; only work on an older block is stale.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CONFIG } from '../server/config.js';
import { JobManager } from '../server/work/job-manager.js';
import { template } from './helpers/work-template.js';

test('with the default settings a job superseded 20 s and 60 s ago is still accepted; past the configured age it is not', () => {
  let nowMs = 5_000_000;
  const jobs = new JobManager({ staleGraceMs: DEFAULT_CONFIG.staleGraceMs, refreshIntervalMs: 1e9 }, () => nowMs);
  try {
    const first = jobs.accept(template({ cleanJobs: true }));
    const retarget = jobs.derive(first, first.stratum.ntime + 1);
    nowMs += 30_000;
    const second = jobs.accept(template({ ntime: 1_700_000_030, cleanJobs: false }));
    nowMs += 20_000;
    assert.deepEqual(jobs.check(first.id), { ok: true, job: first }, 'superseded 20 s ago');
    assert.equal(jobs.check(retarget.id).ok, true, 'a session\'s retarget job of the same template');
    nowMs += 30_000;
    jobs.accept(template({ ntime: 1_700_000_060, cleanJobs: false }));
    nowMs += 10_000;
    assert.equal(jobs.check(first.id).ok, true, 'superseded 60 s ago, two templates back');
    assert.equal(jobs.check(second.id).ok, true);
    nowMs = first.createdAtMs + 30_000 + DEFAULT_CONFIG.staleGraceMs + 1;
    assert.equal(jobs.check(first.id).ok, false, 'past the configured age');
    assert.equal(jobs.check(second.id).ok, true, 'the next one is younger');
    assert.ok(DEFAULT_CONFIG.staleGraceMs >= 60_000 && DEFAULT_CONFIG.staleGraceMs <= 600_000, 'minutes, not seconds, and bounded');
  } finally {
    jobs.stop();
  }
});

test('a clean job makes every earlier job stale at once: only a previous block\'s work is refused', () => {
  let nowMs = 5_000_000;
  const jobs = new JobManager({ staleGraceMs: DEFAULT_CONFIG.staleGraceMs, refreshIntervalMs: 1e9 }, () => nowMs);
  try {
    const first = jobs.accept(template({ cleanJobs: true }));
    nowMs += 1_000;
    jobs.accept(template({ prevhash: new Uint8Array(32).fill(2), cleanJobs: true }));
    assert.deepEqual(jobs.check(first.id), { ok: false, reason: 'job not found' });
  } finally {
    jobs.stop();
  }
});

test('a retarget job has the header of its parent but for a later ntime, in its notify and in what shares are checked against', () => {
  const jobs = new JobManager({ staleGraceMs: DEFAULT_CONFIG.staleGraceMs, refreshIntervalMs: 1e9 });
  try {
    const parent = jobs.accept(template({ cleanJobs: true }));
    const derived = jobs.derive(parent, parent.stratum.ntime + 5);
    assert.notEqual(derived.id, parent.id);
    assert.deepEqual(derived.notifyParams.slice(1, 7), parent.notifyParams.slice(1, 7));
    assert.equal(derived.notifyParams[7], (parent.stratum.ntime + 5).toString(16).padStart(8, '0'));
    assert.equal(derived.notifyParams[8], false, 'not clean: the miner may finish what it has');
    assert.equal(derived.stratum.ntime, parent.stratum.ntime + 5);
    assert.equal(derived.stratum.jobId, derived.id);
    assert.equal(derived.merkleKey, parent.merkleKey, 'the same coinbase and branch: cached merkle roots still hold');
    assert.equal(derived.generation, parent.generation, 'the same work: one set of seen hashes');
  } finally {
    jobs.stop();
  }
});
