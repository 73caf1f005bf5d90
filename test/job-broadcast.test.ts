// JobBroadcast: how a job reaches every session. A refresh is spread over its window in slices, a
// clean job goes out at once and supersedes what is still going out, closed sessions are skipped,
// and every session sees the jobs in the order they came.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { JobBroadcast, type BroadcastPacing } from '../server/stratum/job-broadcast.js';
import type { Job } from '../server/work/job-manager.js';
import { waitFor } from './helpers/wait-for.js';

function job(id: string, clean: boolean): Job {
  return { id, notifyParams: [id, '', '', '', [], '', '', '', clean] } as unknown as Job;
}

/** Sessions as numbers; what each one received, in order. */
function recipients(count: number) {
  const received = new Map<number, string[]>();
  const live = new Set<number>();
  for (let i = 0; i < count; i++) {
    received.set(i, []);
    live.add(i);
  }
  return {
    received,
    live,
    sent: () => [...received.values()].reduce((n, jobs) => n + jobs.length, 0),
    recipients: {
      snapshot: () => [...live],
      isLive: (s: number) => live.has(s),
      deliver: (s: number, j: Job) => received.get(s)!.push(j.id),
    },
  };
}

const PACING: BroadcastPacing = { cleanSlice: 100, refreshSpreadMs: 200, refreshPauseMs: 20, minRefreshSlice: 10 };

test('a refresh is spread over its window in slices, not sent at once', async () => {
  const r = recipients(1000);
  const broadcast = new JobBroadcast(r.recipients, PACING);
  broadcast.send(job('a', false));
  assert.equal(r.sent(), 100, 'the first slice goes now: 1000 sessions over 200 ms in 20 ms steps');
  await sleep(60);
  assert.ok(r.sent() > 100 && r.sent() < 1000, `part of the way after 60 ms (${r.sent()})`);
  await waitFor('the refresh to reach every session', () => r.sent() === 1000, 5_000, 20);
  assert.equal(r.sent(), 1000);
  for (const jobs of r.received.values()) assert.deepEqual(jobs, ['a']);
  broadcast.close();
});

test('a small pool gets a refresh in one slice', () => {
  const r = recipients(8);
  const broadcast = new JobBroadcast(r.recipients, PACING);
  broadcast.send(job('a', false));
  assert.equal(r.sent(), 8);
  broadcast.close();
});

test('a clean job supersedes a refresh still going out and reaches everyone without pauses', async () => {
  const r = recipients(1000);
  // Refresh pauses of 10 s: anything that reaches everyone within a second did not wait for one.
  const broadcast = new JobBroadcast(r.recipients, { ...PACING, refreshSpreadMs: 100_000, refreshPauseMs: 10_000 });
  broadcast.send(job('refresh', false));
  broadcast.send(job('refresh2', false));
  broadcast.send(job('block', true));
  await waitFor('the clean job to reach the last session', () => r.received.get(999)!.length > 0, 1_000, 1);
  assert.equal(r.received.get(999)!.join(), 'block', 'a session not reached by the refresh skips it');
  assert.equal(r.received.get(0)!.join(), 'refresh,block');
  for (const jobs of r.received.values()) assert.equal(jobs.at(-1), 'block');
  for (const jobs of r.received.values()) assert.equal(jobs.includes('refresh2'), false, 'superseded jobs are not sent');
  broadcast.close();
});

test('queued refreshes reach every session in order; sessions closed meanwhile get nothing more', async () => {
  const r = recipients(500);
  const broadcast = new JobBroadcast(r.recipients, PACING);
  broadcast.send(job('a', false));
  broadcast.send(job('b', false));
  r.live.delete(499);
  await waitFor('both refreshes to reach the last live session', () => r.received.get(498)!.length === 2, 5_000, 20);
  for (let s = 0; s < 499; s++) assert.deepEqual(r.received.get(s), ['a', 'b']);
  assert.deepEqual(r.received.get(499), []);
  broadcast.close();
});

test('close stops a broadcast in progress', async () => {
  const r = recipients(1000);
  const broadcast = new JobBroadcast(r.recipients, PACING);
  broadcast.send(job('a', false));
  broadcast.close();
  const sent = r.sent();
  await sleep(100);
  assert.equal(r.sent(), sent);
  broadcast.send(job('b', true));
  assert.equal(r.sent(), sent, 'nothing goes out after close');
});
