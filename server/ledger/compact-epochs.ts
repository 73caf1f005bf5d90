// Part of SQLite migration step 3 (migrations.ts): the epochs closed before it stored every
// member's leaf with a JSON proof in epoch_leaves; their leaves become compact chunks
// (epoch_tree_chunks) so an upgraded ledger keeps serving their proofs, now computed on demand
// (the proof source checks each rebuilt root against the epoch's stored root).
import type Database from 'better-sqlite3';
import { chunksOfLeafRows } from '../settlement/tree-chunks.js';

export function compactEpochTrees(db: Database.Database): void {
  const epochs = db.prepare<[], number>('SELECT epoch FROM epochs ORDER BY epoch').pluck().all();
  const leavesOf = db.prepare<[number], { member: string; cumulative_work: string; cumulative_reward: string }>(
    'SELECT member, cumulative_work, cumulative_reward FROM epoch_leaves WHERE epoch = ?',
  );
  const insertChunk = db.prepare<[number, number, Buffer]>('INSERT INTO epoch_tree_chunks (epoch, chunk, leaves) VALUES (?, ?, ?)');
  const setCount = db.prepare<[number, number]>('UPDATE epochs SET leaf_count = ? WHERE epoch = ?');
  for (const epoch of epochs) {
    const rows = leavesOf.all(epoch);
    for (const [i, chunk] of chunksOfLeafRows(rows).entries()) insertChunk.run(epoch, i, chunk);
    setCount.run(rows.length, epoch);
  }
}
