// GroupCommit.observe: what the commit-latency metrics hear of each batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit, type BatchCommitted } from '../server/ledger/group-commit.js';

test('observers hear each batch, committed or failed, and a failing observer delays no caller', async () => {
  let fail = false;
  const queue = new GroupCommit<number, number>({
    commitBatch: async (items) => {
      if (fail) throw new Error('disk full');
      return items.map((value) => ({ ok: true as const, value }));
    },
  });
  const heard: BatchCommitted[] = [];
  queue.observe(() => {
    throw new Error('observer bug');
  });
  queue.observe((batch) => heard.push(batch));
  assert.deepEqual(await Promise.all([queue.submit(1), queue.submit(2), queue.submit(3)]), [1, 2, 3]);
  fail = true;
  await assert.rejects(queue.submit(4), /disk full/);
  assert.deepEqual(
    heard.map(({ size, ok }) => ({ size, ok })),
    [
      { size: 3, ok: true },
      { size: 1, ok: false },
    ],
    'one batch of three committed, then one of one failed',
  );
  assert.ok(heard.every((b) => b.ms >= 0 && Number.isFinite(b.ms)));
});
