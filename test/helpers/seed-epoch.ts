// Seeds a SQLite ledger with a large closed epoch in the compact layout (epoch_tree_chunks and an
// epochs row whose root is the chunks' tree), written directly: closing a real epoch of 200,000 or
// a million members through shares would take the test (or the benchmark) minutes.
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { encodeLeaves } from '../../protocol/dao/compact-leaves.js';
import type { RewardLeaf } from '../../protocol/dao/reward-tree.js';
import { buildRewardTreeNodes } from '../../protocol/dao/reward-tree-builder.js';
import { asBuffer, splitIntoChunks } from '../../server/settlement/tree-chunks.js';

/** `count` members with random addresses and amounts (work up to 2^40, reward up to 10^21). */
export function randomLeaves(count: number): RewardLeaf[] {
  const bytes = randomBytes(count * 20);
  return Array.from({ length: count }, (_, i) => ({
    account: '0x' + bytes.subarray(i * 20, i * 20 + 20).toString('hex'),
    cumulativeWork: BigInt(1 + bytes.readUInt32BE(i * 20 + 8)) * 256n,
    cumulativeReward: BigInt(bytes.readUInt32BE(i * 20 + 4)) * 10n ** 12n,
  }));
}

export interface SeededEpoch {
  root: string;
  leaves: Uint8Array;
  totalWork: bigint;
}

/**
 * Stores `leaves` as epoch `epoch`, covering the share ids (firstShareId, lastShareId], with the
 * given status. Run on a migrated ledger; the epoch must follow the last stored one.
 */
export async function seedEpoch(
  db: Database.Database,
  options: { epoch: number; leaves: readonly RewardLeaf[]; firstShareId: number; lastShareId: number; status?: 'built' | 'published'; endMs?: number },
): Promise<SeededEpoch> {
  const leaves = encodeLeaves(options.leaves);
  const tree = await buildRewardTreeNodes(leaves);
  const endMs = options.endMs ?? Date.now();
  db.transaction(() => {
    for (const [i, chunk] of splitIntoChunks(leaves).entries()) {
      db.prepare('INSERT INTO epoch_tree_chunks (epoch, chunk, leaves) VALUES (?, ?, ?)').run(options.epoch, i, asBuffer(chunk));
    }
    db.prepare(
      `INSERT INTO epochs (epoch, start_ms, end_ms, first_share_id, last_share_id, epoch_work, total_work, reward, reinvested,
                           reinvestment_bps, root, status, tx_hash, block_number, created_at_ms, published_at_ms, leaf_count)
       VALUES (?, ?, ?, ?, ?, ?, ?, '0', '0', 0, ?, ?, NULL, NULL, ?, NULL, ?)`,
    ).run(options.epoch, endMs - 1000, endMs, options.firstShareId, options.lastShareId, tree.totalWork.toString(), tree.totalWork.toString(), tree.root, options.status ?? 'built', endMs, tree.leafCount);
  })();
  return { root: tree.root, leaves, totalWork: tree.totalWork };
}
