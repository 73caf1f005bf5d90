// The compact settlement store on a real PostgreSQL ledger: a ledger whose epochs were stored in
// the old layout (every member's JSON proof in epoch_leaves) is migrated and serves the same
// proofs; the next close (through the tree worker) gives @openzeppelin/merkle-tree's root and
// proofs and clears a crashed close's leftovers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { getAddress } from 'ethers';
import pino from 'pino';
import { buildRewardTree, splitEpochReward } from '../protocol/dao/index.js';
import { migratePg } from '../server/ledger/pg/migrations.js';
import { openPgLedger, type PgLedger } from '../server/ledger/pg/pg-ledger.js';
import { buildEpoch } from '../server/settlement/epoch-builder.js';
import { SETTLEMENT_COMPONENT, SETTLEMENT_PG_MIGRATIONS, preparePgSettlement } from '../server/settlement/pg-schema.js';
import { PgSettlementStore } from '../server/settlement/pg-settlement-store.js';
import { oldLayout } from './helpers/old-layout-epochs.js';
import { useFreshDatabase } from './helpers/pg.js';

const database = useFreshDatabase();
const REWARD = 10n ** 20n;
const randomAddress = () => getAddress('0x' + randomBytes(20).toString('hex'));
let ledger: PgLedger;

after(async () => {
  await ledger?.close();
});

let n = 0;
const share = (member: string, work: number) => ({ member, worker: 'rig', sessionId: 's', jobId: 'job', difficulty: work / 2 ** 32, work, hash: '00'.repeat(32), acceptedAtMs: Date.now(), shareKey: `compact-${n++}` });

test('old-layout epochs are migrated to compact trees with the same proofs, and the next close builds on them', async () => {
  ledger = await openPgLedger(database().url, { instanceId: 1 });
  const pool = ledger.pool;
  await migratePg(pool, SETTLEMENT_COMPONENT, SETTLEMENT_PG_MIGRATIONS.slice(0, 1));
  const [a, b, c] = [randomAddress(), randomAddress(), randomAddress()];
  const { epochs, trees, rows } = oldLayout(a, b, c);
  for (const i of epochs.keys()) {
    await pool.query(
      `INSERT INTO epochs (epoch, start_ms, end_ms, shares, epoch_work, total_work, reward, reinvested, reinvestment_bps, root, status, created_at_ms)
       VALUES ($1, 0, 1, 1, 0, $2, 0, 0, 0, $3, 'published', 1)`,
      [i + 1, trees[i]!.totalWork.toString(), trees[i]!.root],
    );
    for (const row of rows(i)) await pool.query(`INSERT INTO epoch_leaves VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`, row);
  }

  await preparePgSettlement(pool, pino({ level: 'silent' }));
  const store = new PgSettlementStore(pool);
  for (const [i, tree] of trees.entries()) {
    assert.equal((await store.epoch(i + 1))!.members, epochs[i]!.length, 'leaf_count comes from the old rows');
    for (const [member, expected] of tree.proofs) {
      assert.deepEqual((await store.leaf(i + 1, member))!.proof, expected.proof, `epoch ${i + 1}: ${member}'s proof is the one stored before the upgrade`);
    }
  }
  assert.deepEqual((await store.memberLeaves(b, 10)).map((l) => l.epoch), [1], 'unchanged old rows are gone from the history');
  assert.equal((await store.leaf(2, b))!.epochWork, 0n);
  assert.equal((await store.leaf(2, a))!.epochWork, 80n);

  // A crashed close left rows of epoch 3; the real close of epoch 3 replaces them.
  await pool.query(`INSERT INTO epoch_tree_chunks (epoch, chunk, leaves) VALUES (3, 0, '\\x00'), (3, 5, '\\x01')`);
  await pool.query(`INSERT INTO epoch_leaves (epoch, member, epoch_work, epoch_reward, cumulative_work, cumulative_reward) VALUES (3, '0xdead', 1, 1, 1, 1)`);
  const d = randomAddress();
  for (const s of [share(c, 20.4), share(d, 7), share(d, 3)]) assert.equal(await ledger.appendShare(s), true);
  const closed = await store.close((input) => buildEpoch({ ...input, reward: REWARD, reinvestmentBps: 2000, endMs: Date.now() }));
  assert.equal(closed?.epoch, 3);
  const split = splitEpochReward(new Map([[c, 20n], [d, 10n]]), REWARD, 2000);
  const expected = buildRewardTree([
    epochs[1]![0]!,
    epochs[1]![1]!,
    { account: c, cumulativeWork: 70n, cumulativeReward: 5n + split.byMember.get(c)! },
    { account: d, cumulativeWork: 10n, cumulativeReward: split.byMember.get(d)! },
  ]);
  assert.equal(closed.root, expected.root, "epoch 3's root is the library's");
  for (const [member, proof] of expected.proofs) assert.deepEqual((await store.leaf(3, member))!.proof, proof.proof, `${member}'s proof in epoch 3`);
  // A store that did not close it rebuilds the tree from the chunks.
  assert.deepEqual((await new PgSettlementStore(pool).leaf(3, d))!.proof, expected.proofs.get(d)!.proof);
  const { rows: chunks } = await pool.query(`SELECT count(*)::int AS chunks FROM epoch_tree_chunks WHERE epoch = 3`);
  assert.equal(chunks[0].chunks, 1, "the crashed close's chunks are gone");
  assert.equal((await pool.query(`SELECT 1 FROM epoch_leaves WHERE member = '0xdead'`)).rowCount, 0);
  assert.deepEqual((await store.memberLeaves(d, 10)).map((l) => [l.epoch, l.epochWork]), [[3, 10n]]);
});
