// The compact settlement store on a real SQLite ledger, without a chain: epochs closed through the
// tree worker give @openzeppelin/merkle-tree's root and proofs; a ledger whose epochs were stored
// in the old layout (every member's JSON proof in epoch_leaves) is migrated and serves the same
// proofs; a crashed close's leftovers are cleared by the next close; altered chunks are refused.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import Database from 'better-sqlite3';
import { getAddress } from 'ethers';
import { REWARD_LEAF_ENCODING, splitEpochReward, verifyRewardProof, type RewardLeaf } from '../protocol/dao/index.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, migrate } from '../server/ledger/migrations.js';
import { buildEpoch } from '../server/settlement/epoch-builder.js';
import { EpochTreeError } from '../server/settlement/epoch-trees.js';
import { SqliteSettlementStore } from '../server/settlement/sqlite-settlement-store.js';
import { oldLayout } from './helpers/old-layout-epochs.js';
import { CHUNK_LEAVES } from '../server/settlement/tree-chunks.js';

const REWARD = 10n ** 20n;
const randomAddress = () => getAddress('0x' + randomBytes(20).toString('hex'));

function ledger(migrations = MIGRATIONS): Database.Database {
  const db = new Database(join(mkdtempSync(join(tmpdir(), 'settlement-compact-')), 'ledger.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations);
  return db;
}

let shareKey = 0;
/** Share rows as the ledger's writer stores them (work in expected hashes). */
function addShares(db: Database.Database, work: ReadonlyMap<string, number>): void {
  const insert = db.prepare(
    `INSERT INTO shares (share_key, member, worker, session_id, job_id, difficulty, work, hash, accepted_at_ms)
     VALUES (?, ?, 'rig', 's', 'j', 1, ?, '00', ?)`,
  );
  db.transaction(() => {
    for (const [member, w] of work) insert.run(`k${shareKey++}`, member, w, Date.now());
  })();
}

const close = (store: SqliteSettlementStore, bps = 1000) => store.close((input) => buildEpoch({ ...input, reward: REWARD, reinvestmentBps: bps, endMs: Date.now() }));

/** What a member's leaves must be: the previous cumulative leaves plus this epoch's rounded work and split. */
function expectedLeaves(previous: Map<string, RewardLeaf>, work: ReadonlyMap<string, number>, bps = 1000): Map<string, RewardLeaf> {
  const rounded = new Map([...work].map(([m, w]) => [m, BigInt(Math.round(w))] as const));
  const split = splitEpochReward(rounded, REWARD, bps);
  const next = new Map(previous);
  for (const [member, w] of rounded) {
    const before = previous.get(member);
    next.set(member, { account: member, cumulativeWork: (before?.cumulativeWork ?? 0n) + w, cumulativeReward: (before?.cumulativeReward ?? 0n) + split.byMember.get(member)! });
  }
  return next;
}

/**
 * The epoch's root and proofs are @openzeppelin/merkle-tree's over the expected leaves (in account
 * order, as buildRewardTree orders them). Proofs of `sample` members (all when undefined): the
 * library takes seconds per thousand proofs.
 */
async function assertProofsMatchLibrary(store: SqliteSettlementStore, epoch: number, leaves: Map<string, RewardLeaf>, sample?: number[]): Promise<void> {
  const values = [...leaves.values()]
    .map((l) => [l.account, l.cumulativeWork.toString(), l.cumulativeReward.toString()])
    .sort((x, y) => (x[0]!.toLowerCase() < y[0]!.toLowerCase() ? -1 : 1));
  const reference = StandardMerkleTree.of(values, [...REWARD_LEAF_ENCODING], { sortLeaves: false });
  const stored = (await store.epoch(epoch))!;
  assert.equal(stored.root, reference.root, `epoch ${epoch}: the root is @openzeppelin/merkle-tree's`);
  assert.equal(stored.totalWork, [...leaves.values()].reduce((sum, l) => sum + l.cumulativeWork, 0n));
  assert.equal(stored.members, leaves.size);
  for (const index of sample ?? values.keys()) {
    const [member, work, reward] = values[index]!;
    const leaf = await store.leaf(epoch, member!);
    assert.ok(leaf, `${member} has a leaf in epoch ${epoch}`);
    assert.deepEqual(leaf.proof, reference.getProof(index), `epoch ${epoch}: ${member}'s proof (leaf ${index}) is the library's`);
    assert.equal(leaf.cumulativeWork, BigInt(work!));
    assert.equal(leaf.cumulativeReward, BigInt(reward!));
    assert.ok(verifyRewardProof(stored.root, { account: member!, cumulativeWork: leaf.cumulativeWork, cumulativeReward: leaf.cumulativeReward, proof: leaf.proof }));
  }
}

/** Leaves at both ends of every chunk and a few in between. */
const chunkEdges = (count: number) => [...new Set([0, 1, 2, CHUNK_LEAVES - 1, CHUNK_LEAVES, CHUNK_LEAVES + 1, count - 2, count - 1, 777, 9_999, CHUNK_LEAVES + 150])].filter((i) => i >= 0 && i < count);

test('epochs closed through the tree worker serve the library root and proofs; the history keeps only changed leaves', async () => {
  const db = ledger();
  const store = new SqliteSettlementStore(db);
  // Over a chunk of members, so an epoch spans two chunks; 0.4 rounds away for one newcomer.
  const members = Array.from({ length: CHUNK_LEAVES + 300 }, () => randomAddress());
  const first = new Map(members.map((m, i) => [m, 1000 + i * 7.3] as const));
  addShares(db, first);
  assert.equal((await close(store))!.epoch, 1);
  const leaves1 = expectedLeaves(new Map(), first);
  await assertProofsMatchLibrary(store, 1, leaves1, chunkEdges(leaves1.size));

  // Epoch 2: a few members work again, a newcomer joins, one newcomer's work rounds to nothing.
  const second = new Map([[members[5]!, 40.2], [members[CHUNK_LEAVES + 7]!, 12], [randomAddress(), 99]] as const);
  const nothing = randomAddress();
  addShares(db, new Map([...second, [nothing, 0.4]]));
  assert.equal((await close(store))!.epoch, 2);
  const leaves2 = expectedLeaves(leaves1, second);
  await assertProofsMatchLibrary(store, 2, leaves2, chunkEdges(leaves2.size));
  assert.equal(await store.leaf(2, nothing), undefined, 'work that rounds to nothing makes no leaf');

  const unchanged = (await store.leaf(2, members[0]!))!;
  assert.equal(unchanged.epochWork, 0n, 'a member without work this epoch added nothing');
  assert.equal(unchanged.cumulativeWork, leaves1.get(members[0]!)!.cumulativeWork);
  assert.equal(db.prepare('SELECT count(*) FROM epoch_leaves WHERE epoch = 2').pluck().get(), 3, 'epoch_leaves holds only the changed leaves');
  assert.deepEqual((await store.memberLeaves(members[5]!, 10)).map((l) => [l.epoch, l.epochWork]), [[2, 40n], [1, 1037n]]);
  assert.deepEqual((await store.memberLeaves(members[0]!, 10)).map((l) => l.epoch), [1]);
  db.close();
});

test("a crashed close's leftovers (rows above the last epoch) are deleted by the next close", async () => {
  const db = ledger();
  const store = new SqliteSettlementStore(db);
  const work = new Map([[randomAddress(), 500]]);
  addShares(db, work);
  // What a close that died before its epoch row leaves: chunks and changed leaves of epoch 1.
  db.prepare(`INSERT INTO epoch_tree_chunks (epoch, chunk, leaves) VALUES (1, 0, x'00'), (1, 7, x'01')`).run();
  db.prepare(`INSERT INTO epoch_leaves (epoch, member, epoch_work, epoch_reward, cumulative_work, cumulative_reward) VALUES (1, '0xdead', '1', '1', '1', '1')`).run();
  assert.equal(await store.lastEpoch(), undefined, 'leftovers are no epoch');
  assert.equal((await close(store))!.epoch, 1);
  assert.equal(db.prepare('SELECT count(*) FROM epoch_tree_chunks WHERE epoch = 1').pluck().get(), 1);
  assert.equal(db.prepare(`SELECT count(*) FROM epoch_leaves WHERE member = '0xdead'`).pluck().get(), 0);
  await assertProofsMatchLibrary(store, 1, expectedLeaves(new Map(), work));
  db.close();
});

test('an altered chunk is refused with an error naming the epoch; the next request tries again', async () => {
  const db = ledger();
  const work = new Map(Array.from({ length: 50 }, (_, i) => [randomAddress(), 100 + i] as const));
  addShares(db, work);
  await close(new SqliteSettlementStore(db));
  // One reward byte of one leaf, changed behind the gateway's back.
  const chunk = db.prepare('SELECT leaves FROM epoch_tree_chunks WHERE epoch = 1 AND chunk = 0').pluck().get() as Buffer;
  chunk[83] = chunk[83]! ^ 0xff;
  db.prepare('UPDATE epoch_tree_chunks SET leaves = ? WHERE epoch = 1 AND chunk = 0').run(chunk);
  const store = new SqliteSettlementStore(db);
  const member = [...work.keys()][0]!;
  await assert.rejects(store.leaf(1, member), (err: unknown) => err instanceof EpochTreeError && err.epoch === 1 && /epoch 1: the tree of its stored leaves has root 0x[0-9a-f]{64}, not the epoch's root/.test(err.message));
  await assert.rejects(store.leaf(1, member), EpochTreeError, 'a failed load is not cached as a tree');
  db.prepare('DELETE FROM epoch_tree_chunks WHERE epoch = 1').run();
  await assert.rejects(new SqliteSettlementStore(db).leaf(1, member), /epoch 1: its stored tree chunks hold 0 bytes, not the 50 leaves/);
  db.close();
});

test('a ledger with epochs in the old layout (a JSON proof per member) is migrated and serves the same proofs', async () => {
  const db = ledger(MIGRATIONS.slice(0, 2));
  const [a, b, c] = [0, 1, 2].map(() => randomAddress()) as [string, string, string];
  const { epochs, trees, rows } = oldLayout(a, b, c);
  addShares(db, new Map([[a, 1]]));
  addShares(db, new Map([[a, 1]]));
  for (const i of epochs.keys()) {
    const epoch = i + 1;
    db.prepare(
      `INSERT INTO epochs (epoch, start_ms, end_ms, first_share_id, last_share_id, epoch_work, total_work, reward, reinvested, reinvestment_bps, root, status, created_at_ms)
       VALUES (?, 0, 1, ?, ?, '0', ?, '0', '0', 0, ?, 'published', 1)`,
    ).run(epoch, i, epoch, trees[i]!.totalWork.toString(), trees[i]!.root);
    for (const row of rows(i)) db.prepare(`INSERT INTO epoch_leaves VALUES (?, ?, ?, ?, ?, ?, ?)`).run(...row);
  }

  // Step 3 compacts the trees; the later steps (audit bundles...) follow it.
  assert.deepEqual(migrate(db).applied, Array.from({ length: LATEST_SCHEMA_VERSION - 2 }, (_, i) => i + 3));
  const store = new SqliteSettlementStore(db);
  for (const [i, tree] of trees.entries()) {
    assert.equal((await store.epoch(i + 1))!.members, 3, 'leaf_count comes from the old rows');
    for (const [member, expected] of tree.proofs) {
      const leaf = (await store.leaf(i + 1, member))!;
      assert.deepEqual(leaf.proof, expected.proof, `epoch ${i + 1}: ${member}'s proof is the one stored before the upgrade`);
      assert.equal(leaf.cumulativeReward, expected.cumulativeReward);
    }
  }
  assert.equal((await store.leaf(2, a))!.epochWork, 80n);
  assert.deepEqual((await store.memberLeaves(b, 10)).map((l) => l.epoch), [1], 'unchanged old rows are gone from the history');
  assert.deepEqual((await store.memberLeaves(a, 10)).map((l) => l.epoch), [2, 1]);
  assert.deepEqual(db.prepare(`SELECT name FROM pragma_table_info('epoch_leaves') WHERE name = 'proof'`).all(), [], 'no proof column');

  // The upgraded ledger closes its next epoch on top of the migrated leaves.
  addShares(db, new Map([[c, 25]]));
  assert.equal((await close(store))!.epoch, 3);
  const previous = new Map(epochs[1]!.map((l) => [l.account, l]));
  await assertProofsMatchLibrary(store, 3, expectedLeaves(previous, new Map([[c, 25]])));
  db.close();
});
