// Part 1b of `npm run bench:gateway`: the whole per-share path of the gateway without sockets,
// in this process: JSON text in, MessagePump, StratumSession.submit (job checks, the cached merkle
// root, verifyShare, duplicate check), the SQLite ledger's group commit with fsync (FULL, the
// default), JSON text out. Only the gateway's stats and metrics hooks are left out (no-ops here).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAddress } from 'ethers';
import { pino } from 'pino';
import { hexToBytes } from '../protocol/hex.js';
import { parseNotifyParams } from '../protocol/stratum-job.js';
import { difficultyToTarget } from '../protocol/target.js';
import { openSqliteLedger } from '../server/ledger/sqlite-ledger.js';
import { ExtranonceAllocator } from '../server/stratum/extranonce.js';
import { MessagePump } from '../server/stratum/message-pump.js';
import { StratumSession, type Connection } from '../server/stratum/session.js';
import type { SessionContext } from '../server/stratum/session-context.js';
import { JobManager } from '../server/work/job-manager.js';
import { realisticTemplate, ShareFactory } from './bench-gateway-shares.js';
import { BENCH_DIFFICULTY, type RateRow } from './bench-gateway-verify.js';

/** Sessions in flight together: each has one share in the pump at a time, as over a socket. */
const SESSIONS = 256;

/** A member's address for miner `i`: checksummed (EIP-55), as the gateway insists. */
export function memberAddress(i: number): string {
  return getAddress('0x' + (0xda0_0000 + i).toString(16).padStart(40, '0'));
}

/** One in-process miner: its pump, and the response it is waiting for. */
class PipeMiner {
  readonly connection: Connection;
  readonly pump: MessagePump;
  factory: ShareFactory | undefined;
  private waiting: ((text: string) => void) | undefined;
  private nextId = 1;

  constructor(ctx: SessionContext, index: number) {
    this.connection = { id: `b${index}`, remoteAddress: '127.0.0.1', send: (text) => this.receive(text), close() {} };
    const session = new StratumSession(ctx, this.connection);
    this.pump = new MessagePump(session, { messagesPerSecond: 1e6, burst: 10_000 }, () => false);
  }

  /** One request, then its response text. Only one is ever outstanding per miner. */
  request(method: string, paramsJson: string): Promise<string> {
    const response = new Promise<string>((resolve) => (this.waiting = resolve));
    this.pump.receive(`{"id":${this.nextId++},"method":"${method}","params":${paramsJson}}`);
    return response;
  }

  private receive(text: string): void {
    // Notifications carry id null; only they need parsing (a job for the share factory).
    if (text.startsWith('{"id":null')) {
      const message = JSON.parse(text) as { method: string; params: unknown[] };
      if (message.method === 'mining.notify') this.factory?.setJob(parseNotifyParams(message.params));
      return;
    }
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.(text);
  }
}

export async function benchSession(seconds: number): Promise<RateRow & { meanBatch: number; rejected: Record<string, number> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dao-bench-session-'));
  const ledger = openSqliteLedger(join(dataDir, 'ledger.sqlite'), { synchronous: 'FULL' });
  const jobs = new JobManager({ staleGraceMs: 10_000, refreshIntervalMs: 60_000 });
  const allocator = ExtranonceAllocator.forSlot(8);
  const rejected: Record<string, number> = {};
  let subscriptions = 0;
  const ctx: SessionContext = {
    jobs,
    ledger,
    log: pino({ level: 'silent' }),
    vardiff: { targetIntervalMs: 10_000, minDifficulty: BENCH_DIFFICULTY, maxDifficulty: BENCH_DIFFICULTY, hysteresis: 1.5 },
    startDifficulty: BENCH_DIFFICULTY,
    versionRollingMask: 0x1fffe000,
    ntimeRollSeconds: 7_000,
    limits: { maxIdentitiesPerSession: 8, authorizationsPerMinute: 30, suggestIntervalSeconds: 30 },
    now: Date.now,
    onLimitHit() {},
    allocateExtranonce: () => ({ extranonce1: allocator.allocate(), extranonce2Size: 8 - allocator.prefixSize, subscriptionId: `s${subscriptions++}` }),
    onAuthorized() {},
    onShareAccepted() {},
    onShareRejected: (_session, reason) => void (rejected[reason] = (rejected[reason] ?? 0) + 1),
    forward() {},
  };
  jobs.accept(realisticTemplate());

  const miners = Array.from({ length: SESSIONS }, (_, i) => new PipeMiner(ctx, i));
  for (const [i, miner] of miners.entries()) {
    const subscribed = JSON.parse(await miner.request('mining.subscribe', '["bench"]')) as { result: [unknown, string, number] };
    const worker = `${memberAddress(i)}.s${i}`;
    const [, extranonce1, extranonce2Size] = subscribed.result;
    miner.factory = new ShareFactory(worker, hexToBytes(extranonce1, 'extranonce1'), extranonce2Size, difficultyToTarget(BENCH_DIFFICULTY));
    // authorize sends the first job right after its response, synchronously.
    await miner.request('mining.authorize', JSON.stringify([worker, 'x']));
    await miner.factory.refill();
  }

  let counting = false;
  let running = true;
  let accepted = 0;
  const loops = miners.map(async (miner) => {
    const factory = miner.factory!;
    while (running) {
      let params = factory.take();
      if (params === undefined) {
        await factory.refill();
        params = factory.take();
        if (params === undefined) continue;
      }
      const response = await miner.request('mining.submit', params);
      if (counting && response.endsWith('"result":true,"error":null}')) accepted++;
    }
  });
  // Half a second of warm-up (JIT, SQLite page cache) is not counted.
  await new Promise((r) => setTimeout(r, 500));
  const before = { ...ledger.stats };
  counting = true;
  const began = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counting = false;
  const elapsed = (performance.now() - began) / 1000;
  const after = ledger.stats;
  running = false;
  await Promise.all(loops);
  jobs.stop();
  await ledger.close();
  rmSync(dataDir, { recursive: true, force: true });
  const transactions = after.transactions - before.transactions;
  return {
    key: 'sessionPath',
    name: `StratumSession + MessagePump + SQLite ledger (FULL), ${SESSIONS} sessions, no sockets`,
    perSecond: accepted / elapsed,
    meanBatch: transactions > 0 ? (after.itemsCommitted - before.itemsCommitted) / transactions : 0,
    rejected,
  };
}
