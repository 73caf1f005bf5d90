// The gateway under test, in a process of its own so that its CPU time and memory are measured
// apart from the load generator's. Started by scripts/bench-gateway.ts as
//   node --expose-gc --import tsx scripts/bench-gateway-child.ts '<GatewayConfig overrides as JSON>'
// It prints one JSON line with its ports, then answers one command per stdin line with one JSON
// line on stdout: `stats`, `gc-stats` (after a full GC, for memory), `profile-start`,
// `profile-stop FILE` (a .cpuprofile of the gateway between the two), and `exit`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { DEFAULT_CONFIG, type GatewayConfig } from '../server/config.js';
import { startGateway } from '../server/gateway.js';

/** What `stats` reports; the parent turns two of them into rates. */
export interface GatewayStats {
  /** The child's own clock (performance.now), so rates do not include the pipe's delay. */
  atMs: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Event-loop time, cumulative: busy / (busy + idle) over a span is how saturated the loop was. */
  loopActiveMs: number;
  loopIdleMs: number;
  sessions: number;
  /** The SQLite ledger's group-commit counters (transactions, items, largest batch). */
  ledger: { transactions: number; itemsCommitted: number; largestBatch: number; lastBatchMs: number } | undefined;
}

const overrides = JSON.parse(process.argv[2] ?? '{}') as Partial<GatewayConfig>;
const dataDir = mkdtempSync(join(tmpdir(), 'dao-bench-gateway-'));
const gateway = await startGateway({ ...DEFAULT_CONFIG, httpPort: 0, stratumPort: 0, dataDir, logLevel: 'silent', webRoot: '', ...overrides });
let profiler: Session | undefined;

function stats(): GatewayStats {
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  const ledger = (gateway.view.ledger as { stats?: GatewayStats['ledger'] }).stats;
  return {
    atMs: performance.now(),
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    externalBytes: memory.external,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    loopActiveMs: loop.active,
    loopIdleMs: loop.idle,
    sessions: gateway.view.hub.sessions.size,
    ledger: ledger && { transactions: ledger.transactions, itemsCommitted: ledger.itemsCommitted, largestBatch: ledger.largestBatch, lastBatchMs: ledger.lastBatchMs },
  };
}

async function command(line: string): Promise<unknown> {
  const [name, arg] = line.trim().split(/\s+/, 2);
  switch (name) {
    case 'stats':
      return stats();
    case 'gc-stats':
      // Twice: the first pass may only queue finalizers that free more on the second.
      (globalThis as { gc?: () => void }).gc?.();
      (globalThis as { gc?: () => void }).gc?.();
      return stats();
    case 'profile-start':
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      return { profiling: true };
    case 'profile-stop': {
      if (!profiler || !arg) return { error: 'profile-stop FILE, after profile-start' };
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(arg, JSON.stringify(profile));
      profiler.disconnect();
      profiler = undefined;
      return { file: arg };
    }
    case 'exit':
      await shutdown();
      return { closed: true };
    default:
      return { error: `unknown command "${line}"` };
  }
}

async function shutdown(): Promise<void> {
  await gateway.close();
  rmSync(dataDir, { recursive: true, force: true });
}

console.log(JSON.stringify({ httpPort: gateway.httpPort, stratumPort: gateway.stratumPort, pid: process.pid }));
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  command(line).then(
    (reply) => {
      console.log(JSON.stringify(reply));
      if (line.trim() === 'exit') process.exit(0);
    },
    (err: unknown) => console.log(JSON.stringify({ error: String(err) })),
  );
});
// The parent went away without saying exit: do not linger.
lines.on('close', () => void shutdown().finally(() => process.exit(0)));
