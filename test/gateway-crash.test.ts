// Crash safety: kill -9 the gateway while shares are being submitted, restart it on the same
// data directory, and find every acknowledged share in the ledger, counted once in the totals.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { difficultyToWork } from '../protocol/target.js';
import { MEMBER } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';

const BIN = fileURLToPath(new URL('../bin/dao-gateway.mjs', import.meta.url));
/** Pinned (start = min = max), so every share carries the same work. */
const DIFFICULTY = '1e-6';

/** Starts the built dao-gateway as a user would and reads the ports from its start line. */
async function startGatewayProcess(dataDir: string): Promise<{ child: ChildProcess; stratumPort: number }> {
  const child = spawn(process.execPath, [BIN, '--http-port', '0', '--stratum-port', '0', '--data-dir', dataDir, '--start-difficulty', DIFFICULTY, '--min-difficulty', DIFFICULTY, '--max-difficulty', DIFFICULTY, '--messages-per-second', '100000', '--message-burst', '100000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  const stratumPort = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`dao-gateway exited with ${code}: ${stderr}`)));
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { stratum?: string };
      if (entry.stratum) resolve(Number(entry.stratum.split(':').at(-1)));
    });
  });
  return { child, stratumPort };
}

test('kill -9 mid-stream: every acknowledged share is in the ledger, each counted once in the totals', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dao-crash-'));
  const { child, stratumPort } = await startGatewayProcess(dataDir);
  const acknowledged: string[] = [];
  /** Every share the miner sent, answered or not: the ledger may hold no other. */
  const submitted = new Set<string>();
  try {
    const miner = await TestMiner.tcp(stratumPort);
    await miner.login(`${MEMBER}.crash`);
    const inFlight = new Set<Promise<void>>();
    let killed = false;
    for (let i = 0; !killed && i < 5000; i++) {
      const share = await miner.findShare({ worker: `${MEMBER}.crash`, extranonce2: i.toString(16).padStart(8, '0') });
      submitted.add(share.hash);
      const pending: Promise<void> = miner.submit(share.params).then(
        (response) => {
          if (response.result === true) acknowledged.push(share.hash);
        },
        () => {},
      );
      inFlight.add(pending);
      void pending.finally(() => inFlight.delete(pending));
      // Keep several submissions in flight, so the kill lands between a commit and its ack.
      if (inFlight.size >= 8) await Promise.race(inFlight);
      if (acknowledged.length >= 300) {
        child.kill('SIGKILL');
        killed = true;
      }
    }
    assert.ok(killed, 'enough shares were acknowledged to kill mid-stream');
    await new Promise((resolve) => child.once('exit', resolve));
    miner.close();
  } finally {
    child.kill('SIGKILL');
  }

  // The gateway comes back on the same data directory.
  const restarted = await startGatewayProcess(dataDir);
  restarted.child.kill('SIGTERM');
  assert.equal(await new Promise((resolve) => restarted.child.once('exit', resolve)), 0);

  const db = new Database(join(dataDir, 'ledger.sqlite'), { readonly: true });
  try {
    const keys = (db.prepare('SELECT share_key FROM shares').all() as { share_key: string }[]).map((r) => r.share_key);
    const stored = new Set(keys);
    const missing = acknowledged.filter((h) => !stored.has(h));
    assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged shares missing`);
    const unknown = keys.filter((k) => !submitted.has(k));
    assert.deepEqual(unknown, [], 'the ledger holds only shares the miner submitted');
    // Each share row credits its work once: a replay after the restart that re-ran the totals
    // trigger, or a batch committed twice, would show here and not in the rows.
    const shareWork = difficultyToWork(Number(DIFFICULTY));
    const member = db.prepare('SELECT shares, work FROM member_totals WHERE member = ?').get(MEMBER) as { shares: number; work: number };
    assert.equal(member.shares, keys.length, 'member totals count each share row once');
    assert.ok(Math.abs(member.work - keys.length * shareWork) < 1e-6 * shareWork, `member work ${member.work} = ${keys.length} shares x ${shareWork}`);
    const pool = db.prepare('SELECT shares, work FROM pool_totals').get() as { shares: number; work: number };
    assert.equal(pool.shares, keys.length, 'pool totals count each share row once');
    assert.ok(Math.abs(pool.work - keys.length * shareWork) < 1e-6 * shareWork, `pool work ${pool.work} = ${keys.length} shares x ${shareWork}`);
  } finally {
    db.close();
  }
});
