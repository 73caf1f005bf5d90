// npm run bench:gateway [-- --connections N] [--seconds S] [--json] [--cpu-prof]
//                          [--ledger-synchronous FULL|NORMAL]
// The pool gateway's capacity, measured in one run on this machine:
//  1. share validations per second in this process on one core (the verifier alone, then the
//     whole session path without sockets), beside peers that show where the time goes;
//  2. a real gateway in a child process under N WebSocket miners on loopback: accepted shares
//     per second, rejections, ack latency, memory per connection and the gateway's CPU.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { integerOption, parseOptions } from '../cli/args.js';
import { UsageError } from '../cli/usage-error.js';
import { packageRoot } from '../server/package-root.js';
import type { GatewayConfig } from '../server/config.js';
import type { GatewayStats } from './bench-gateway-child.js';
import { LoadRun } from './bench-gateway-load.js';
import { summarizeProfile } from './bench-gateway-profile.js';
import { printReport, type Report } from './bench-gateway-report.js';
import { benchSession } from './bench-gateway-session.js';
import { benchVerify, BENCH_DIFFICULTY } from './bench-gateway-verify.js';

/** Shares each miner keeps in flight: enough to keep the gateway busy, few enough to be honest. */
const IN_FLIGHT = 4;
/** Seconds of submitting before the window opens (JIT, SQLite cache, TCP buffers settle). */
const WARMUP_SECONDS = 2;
const SESSION_SECONDS = 3;

/** The gateway child: one command per stdin line, one JSON reply per stdout line, in order. */
class GatewayChild {
  private readonly replies: ((line: string) => void)[] = [];
  readonly exited: Promise<number | null>;

  private constructor(private readonly proc: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: proc.stdout }).on('line', (line) => this.replies.shift()?.(line));
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  static async start(overrides: Partial<GatewayConfig>): Promise<{ child: GatewayChild; httpPort: number }> {
    const script = fileURLToPath(new URL('./bench-gateway-child.ts', import.meta.url));
    const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script, JSON.stringify(overrides)], {
      cwd: packageRoot(),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const child = new GatewayChild(proc);
    const ready = child.next();
    const started = await Promise.race([ready, child.exited.then((code) => Promise.reject(new Error(`the gateway child exited (${code}) before listening`)))]);
    return { child, httpPort: (JSON.parse(started) as { httpPort: number }).httpPort };
  }

  async command<T>(line: string): Promise<T> {
    const reply = this.next();
    this.proc.stdin.write(line + '\n');
    return JSON.parse(await reply) as T;
  }

  kill(): void {
    this.proc.kill('SIGKILL');
  }

  private next(): Promise<string> {
    return new Promise((resolve) => this.replies.push(resolve));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(argv: string[]): Promise<void> {
  const opts = parseOptions(argv, {
    connections: { type: 'string' },
    seconds: { type: 'string' },
    json: { type: 'boolean' },
    'cpu-prof': { type: 'boolean' },
    'ledger-synchronous': { type: 'string' },
  });
  const connections = integerOption(opts.connections, 'connections', 500, 1, 10_000);
  const seconds = integerOption(opts.seconds, 'seconds', 20, 1, 120);
  const ledgerSynchronous = opts['ledger-synchronous'] ?? 'FULL';
  if (ledgerSynchronous !== 'FULL' && ledgerSynchronous !== 'NORMAL') throw new UsageError('--ledger-synchronous: expected FULL or NORMAL');
  const log = opts.json ? () => {} : (line: string) => console.error(line);

  log('1. share validation in-process, one core');
  const validation = benchVerify(600, log);
  log(`  the session path without sockets, ${SESSION_SECONDS} s`);
  const session = await benchSession(SESSION_SECONDS);

  log(`2. gateway child process, ${connections} WebSocket miners`);
  const overrides: Partial<GatewayConfig> = {
    // Pinned: vardiff clamps to [min, max], so it cannot move the difficulty during the run.
    startDifficulty: BENCH_DIFFICULTY,
    minDifficulty: BENCH_DIFFICULTY,
    maxDifficulty: BENCH_DIFFICULTY,
    maxConnectionsPerIp: connections + 16,
    // Far above what one miner sends here; the pump also refuses more than `burst` in flight.
    messagesPerSecond: 100_000,
    messageBurst: 10_000,
    // A rejection must show in the figures, not turn into a ban of 127.0.0.1.
    maxInvalidPerMinute: 1_000_000,
    ledgerSynchronous,
  };
  const { child, httpPort } = await GatewayChild.start(overrides);
  // The whole run is bounded even if the gateway stops answering.
  const watchdog = setTimeout(() => {
    console.error('bench-gateway: the load run took too long; giving up');
    child.kill();
    process.exit(1);
  }, (seconds + 120) * 1000);
  watchdog.unref();

  const idle = await child.command<GatewayStats>('gc-stats');
  const load = new LoadRun({ url: `ws://127.0.0.1:${httpPort}/stratum`, connections, inFlight: IN_FLIGHT, difficulty: BENCH_DIFFICULTY });
  const connectStart = performance.now();
  await load.connectAll();
  const connectSeconds = (performance.now() - connectStart) / 1000;
  const connected = await child.command<GatewayStats>('gc-stats');
  log(`  ${connections} miners logged in in ${connectSeconds.toFixed(1)} s; submitting for ${WARMUP_SECONDS} s warm-up + ${seconds} s`);

  load.startSubmitting();
  await sleep(WARMUP_SECONDS * 1000);
  const profileFile = opts['cpu-prof'] ? join(tmpdir(), `bench-gateway-${Date.now()}.cpuprofile`) : undefined;
  if (profileFile) await child.command('profile-start');
  const before = await child.command<GatewayStats>('stats');
  load.beginWindow();
  await sleep(seconds * 1000);
  const window = load.endWindow();
  const after = await child.command<GatewayStats>('stats');
  if (profileFile) await child.command(`profile-stop ${profileFile}`);
  await load.drain();
  load.close();
  await child.command('exit');
  await child.exited;
  clearTimeout(watchdog);

  const spanMs = after.atMs - before.atMs;
  const transactions = (after.ledger?.transactions ?? 0) - (before.ledger?.transactions ?? 0);
  const items = (after.ledger?.itemsCommitted ?? 0) - (before.ledger?.itemsCommitted ?? 0);
  const report: Report = {
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, node: process.version },
    validation: [...validation, session],
    sessionRejected: session.rejected,
    sessionMeanBatch: session.meanBatch,
    load: {
      connections,
      inFlightPerConnection: IN_FLIGHT,
      difficulty: BENCH_DIFFICULTY,
      ledgerSynchronous,
      connectSeconds,
      windowSeconds: window.seconds,
      warmupSeconds: WARMUP_SECONDS,
      acceptedPerSecond: window.accepted / window.seconds,
      accepted: window.accepted,
      rejected: window.rejected,
      latencyMs: window.latencyMs,
      rssIdleBytes: idle.rssBytes,
      rssConnectedBytes: connected.rssBytes,
      rssPerConnectionBytes: (connected.rssBytes - idle.rssBytes) / connections,
      heapPerConnectionBytes: (connected.heapUsedBytes - idle.heapUsedBytes) / connections,
      gatewayCpuPercent: (100 * (after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs)) / 1000 / spanMs,
      gatewaySystemCpuPercent: (100 * (after.cpuSystemUs - before.cpuSystemUs)) / 1000 / spanMs,
      gatewayLoopBusyPercent: (100 * (after.loopActiveMs - before.loopActiveMs)) / (after.loopActiveMs - before.loopActiveMs + after.loopIdleMs - before.loopIdleMs),
      ledgerCommitsPerSecond: (transactions * 1000) / spanMs,
      ledgerMeanBatch: transactions > 0 ? items / transactions : 0,
      ledgerLargestBatch: after.ledger?.largestBatch ?? 0,
    },
    profile: profileFile ? summarizeProfile(profileFile) : undefined,
    warnings: load.warnings,
  };
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  else printReport(report);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof UsageError ? `bench-gateway: ${err.message}` : err);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
