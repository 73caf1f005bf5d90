// npm run bench:settlement [-- --members N] [--active N]
// The settlement at scale, on this machine: a SQLite ledger in a temp directory seeded with a
// previous epoch of N members (written directly in the compact layout) and new shares from
// --active members (default N / 10: three in four already members, one in four newcomers), then:
//  1. one epoch close: its wall time, the worker's merge-and-hash time, and the main thread's
//     longest event-loop delay meanwhile (what a miner's acknowledgement could wait);
//  2. what the epoch costs on disk: its tree chunks and its changed-leaf rows;
//  3. proofs on demand: the first proof (loading and rebuilding the tree), then p50/p99 of
//     10,000 random store.leaf() calls.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type Database from 'better-sqlite3';
import { getAddress } from 'ethers';
import { integerOption, parseOptions } from '../cli/args.js';
import { leafAt } from '../protocol/dao/compact-leaves.js';
import { openSqliteLedger } from '../server/ledger/sqlite-ledger.js';
import { buildEpoch } from '../server/settlement/epoch-builder.js';
import { SqliteSettlementStore } from '../server/settlement/sqlite-settlement-store.js';
import { randomLeaves, seedEpoch } from '../test/helpers/seed-epoch.js';

const PROOFS = 10_000;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Epoch 1 of `members` random members and share rows of `active` members (two each). Returns
 * epoch 1's compact table and the active members: the million leaf objects are garbage once this
 * returns, so the close is not measured beside a collector walking them (a gateway holds none).
 */
async function seed(db: Database.Database, members: number, active: number): Promise<{ previous: Uint8Array; workers: string[] }> {
  const insertShare = db.prepare(
    `INSERT INTO shares (share_key, member, worker, session_id, job_id, difficulty, work, hash, accepted_at_ms) VALUES (?, ?, 'rig', 's', 'j', 1, ?, '00', ?)`,
  );
  insertShare.run('seed', getAddress('0x' + '11'.repeat(20)), 1, Date.now());
  const leaves = randomLeaves(members);
  const { leaves: previous } = await seedEpoch(db, { epoch: 1, leaves, firstShareId: 0, lastShareId: 1, status: 'published' });
  const newcomers = randomLeaves(Math.floor(active / 4));
  const workers = [...leaves.slice(0, active - newcomers.length), ...newcomers].map((leaf) => getAddress(leaf.account));
  db.transaction(() => {
    for (const [i, member] of workers.entries()) {
      insertShare.run(`a${i}`, member, 4294967296 * (1 + (i % 7)), Date.now());
      insertShare.run(`b${i}`, member, 4294967296 * 0.5, Date.now());
    }
  })();
  return { previous, workers };
}

async function main(argv: string[]): Promise<void> {
  const opts = parseOptions(argv, { members: { type: 'string' }, active: { type: 'string' } });
  const members = integerOption(opts.members, 'members', 1_000_000, 1, 10_000_000);
  const active = integerOption(opts.active, 'active', Math.max(1, Math.floor(members / 10)), 1, 10_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'bench-settlement-'));
  const ledger = openSqliteLedger(join(dir, 'ledger.sqlite'));
  try {
    const db = ledger.db;
    console.error(`seeding: a previous epoch of ${members.toLocaleString('en')} members, shares from ${active.toLocaleString('en')} members`);
    const { previous, workers } = await seed(db, members, active);

    const store = new SqliteSettlementStore(db);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    let buildMs = 0;
    delay.enable();
    const started = performance.now();
    const closed = await store.close(async (input) => {
      const built = await buildEpoch({ ...input, reward: 10n ** 20n, reinvestmentBps: 1000, endMs: Date.now() });
      buildMs = built?.buildMs ?? 0;
      return built;
    });
    const closeMs = performance.now() - started;
    delay.disable();
    if (!closed) throw new Error('the close built nothing');
    const summary = (await store.epoch(closed.epoch))!;

    const chunkBytes = db.prepare('SELECT sum(length(leaves)) FROM epoch_tree_chunks WHERE epoch = ?').pluck().get(closed.epoch) as number;
    const delta = db
      .prepare(
        `SELECT count(*) AS rows, sum(length(member) + length(epoch_work) + length(epoch_reward) + length(cumulative_work) + length(cumulative_reward) + 4) AS bytes
           FROM epoch_leaves WHERE epoch = ?`,
      )
      .get(closed.epoch) as { rows: number; bytes: number };

    // A fresh store: nothing cached, as on a gateway that did not close the epoch.
    const reader = new SqliteSettlementStore(db);
    const firstStarted = performance.now();
    const first = (await reader.leaf(closed.epoch, workers[0]!))!;
    const firstMs = performance.now() - firstStarted;
    const accounts = Array.from({ length: PROOFS }, () => leafAt(previous, Math.floor(Math.random() * members)).account);
    const latencies: number[] = [];
    for (const account of accounts) {
      const t = performance.now();
      if (!(await reader.leaf(closed.epoch, account))) throw new Error(`${account} has no leaf`);
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);

    const depth = first.proof.length;
    const oldLayoutBytes = summary.members * (42 + 4 * 20 + depth * 69);
    console.log(`settlement benchmark, ${summary.members.toLocaleString('en')} leaves (${members.toLocaleString('en')} previous members, ${active.toLocaleString('en')} with new shares), SQLite`);
    console.log(`  close:                 ${closeMs.toFixed(0)} ms (worker merge + tree: ${buildMs.toFixed(0)} ms)`);
    console.log(`  event-loop delay max:  ${(delay.max / 1e6).toFixed(1)} ms during the close (p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms)`);
    console.log(`  storage of the epoch:  ${mib(chunkBytes + delta.bytes)}: tree chunks ${mib(chunkBytes)} + ${delta.rows.toLocaleString('en')} changed-leaf rows ~${mib(delta.bytes)} (the old layout, a JSON proof per member: ~${mib(oldLayoutBytes)})`);
    console.log(`  first proof:           ${firstMs.toFixed(0)} ms (load the chunks, rebuild and check the tree in the worker)`);
    console.log(`  proofs after the load: p50 ${(percentile(latencies, 50) * 1000).toFixed(0)} µs, p99 ${(percentile(latencies, 99) * 1000).toFixed(0)} µs over ${PROOFS.toLocaleString('en')} random store.leaf() calls`);
  } finally {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
