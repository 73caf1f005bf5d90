// A load larger than one process can hold: every miner is an open file here and a process may
// hold 20,000 at most (the hard limit of this machine), so 100,000 miners run as several load
// processes side by side. Each child is `scripts/load.ts` itself with its share of the miners, of
// the rate and of the source addresses (disjoint, so each address stays under its per-address cap
// at the gateways); the parent adds up their JSON summaries.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LoadOptionsError, type LoadOptions } from './options.js';
import type { LoadSummary } from './summary.js';

export const MAX_PROCESSES = 64;

export interface MergedSummary {
  ok: boolean;
  processes: number;
  miners: { requested: number; connected: number; sourceAddresses: number };
  /** The slowest process's. */
  connectSeconds: number;
  requestedRate: number;
  window: { sent: number; accepted: number; rejected: number; errors: number };
  acceptedPerSecond: number;
  /**
   * p50 and p99 are the worst process's (an upper bound on the whole load's: the histograms are
   * not merged), max the largest; count is all answers in the windows.
   */
  latencyMs: { count: number; p50: number; p99: number; max: number };
  rejected: Record<string, number>;
  errors: Record<string, number>;
  interruptions: Record<string, number>;
  /** The load processes together, in % of one core, and their memory. */
  generator: { cpuPercent: number; rssBytes: number };
  /** A child that failed before it printed its summary: its exit and last words. */
  failures: string[];
  each: LoadSummary[];
}

/** The argv of child `i`: the caller's, less --processes, with its own share last (the last value wins). */
export function childArgv(argv: string[], share: { miners: number; tcpMiners: number; rate: number; sourceOffset: number }): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--processes') i++;
    else if (!argv[i]!.startsWith('--processes=')) kept.push(argv[i]!);
  }
  return [...kept, '--miners', String(share.miners), '--tcp-miners', String(share.tcpMiners), '--rate', String(share.rate), '--source-offset', String(share.sourceOffset), '--start-together'];
}

/** What a child says on stdout once its miners are logged in, and what it waits for on stdin. */
const READY = 'ready';
const GO = 'go';

/** A child's beforeLoad: says it is ready and waits for the parent's go (or for stdin to close). */
export function startTogether(): Promise<void> {
  process.stdout.write(`${READY}\n`);
  return new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin });
    const done = () => {
      lines.close();
      resolve();
    };
    lines.on('line', (line) => line === GO && done());
    lines.once('close', resolve);
  });
}

/** `total` dealt out over `parts`, the first ones one more when it does not divide. */
const deal = (total: number, parts: number, i: number) => Math.floor(total / parts) + (i < total % parts ? 1 : 0);

export function shares(options: LoadOptions, processes: number) {
  const perAddress = options.perAddress ?? 200;
  const tcpMiners = options.tcpMiners ?? 1;
  let sourceOffset = options.sourceOffset ?? 0;
  return Array.from({ length: processes }, (_, i) => {
    const share = { miners: deal(options.miners, processes, i), tcpMiners: deal(tcpMiners, processes, i), rate: options.rate / processes, sourceOffset };
    sourceOffset += Math.ceil((share.miners + share.tcpMiners) / perAddress);
    return share;
  });
}

export async function runLoadProcesses(
  argv: string[],
  options: LoadOptions,
  processes: number,
  run: { script: string; log: (line: string) => void; signal: AbortSignal },
): Promise<MergedSummary> {
  if (!Number.isInteger(processes) || processes < 1 || processes > MAX_PROCESSES) throw new LoadOptionsError(`processes: ${processes} is outside 1..${MAX_PROCESSES} (a whole number)`);
  if (options.gatewayUrl === undefined && options.stratumUrl === undefined) {
    throw new LoadOptionsError('processes: several load processes need a running gateway or cluster (--gateway/--gateway-tcp), or each would start a gateway of its own');
  }
  if (options.cpuProfileSeconds) throw new LoadOptionsError('processes: a CPU profile needs the gateway one run starts');
  const plan = shares(options, processes);
  if (plan.some((s) => s.miners + s.tcpMiners === 0)) throw new LoadOptionsError(`processes: ${processes} processes for ${options.miners + (options.tcpMiners ?? 1)} miners leaves some with none`);
  // Every child logs its miners in, then all start their shares at once.
  let ready = 0;
  const children: ChildProcess[] = [];
  const onReady = () => {
    if (++ready === processes) for (const child of children) child.stdin?.write(`${GO}\n`);
  };
  const results = await Promise.all(plan.map((share, i) => runChild(run.script, childArgv(argv, share), i, { ...run, onReady, children })));
  return merge(results.flatMap((r) => (r.summary ? [r.summary] : [])), results.flatMap((r) => (r.failure ? [r.failure] : [])), processes, options);
}

function runChild(
  script: string,
  argv: string[],
  i: number,
  run: { log: (line: string) => void; signal: AbortSignal; onReady: () => void; children: ChildProcess[] },
): Promise<{ summary?: LoadSummary; failure?: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  run.children.push(child);
  child.stdin!.on('error', () => undefined); // a go to a child already gone
  // A child that died before it was ready must not hold the others back.
  let saidReady = false;
  void new Promise((resolve) => child.once('exit', resolve)).then(() => saidReady || run.onReady());
  const stopChild = () => child.kill('SIGINT');
  run.signal.addEventListener('abort', stopChild, { once: true });
  let last = '';
  const tail: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === READY && !saidReady) {
      saidReady = true;
      run.onReady();
    } else last = line;
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    run.log(`[load ${i + 1}] ${line}`);
    tail.push(line);
    if (tail.length > 3) tail.shift();
  });
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      run.signal.removeEventListener('abort', stopChild);
      try {
        resolve({ summary: JSON.parse(last) as LoadSummary });
      } catch {
        resolve({ failure: `load process ${i + 1} exited (${code ?? signal}) without a summary: ${tail.join(' | ')}` });
      }
    });
  });
}

function add(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  return into;
}

export function merge(each: LoadSummary[], failures: string[], processes: number, options: LoadOptions): MergedSummary {
  const sum = (f: (s: LoadSummary) => number | undefined) => each.reduce((n, s) => n + (f(s) ?? 0), 0);
  const most = (f: (s: LoadSummary) => number) => Math.max(...each.map(f).filter((x) => !Number.isNaN(x)), 0);
  return {
    ok: failures.length === 0 && each.every((s) => s.ok),
    processes,
    miners: { requested: options.miners + (options.tcpMiners ?? 1), connected: sum((s) => s.miners.connected), sourceAddresses: sum((s) => s.miners.sourceAddresses) },
    connectSeconds: most((s) => s.connectSeconds),
    requestedRate: options.rate,
    window: { sent: sum((s) => s.window.sent), accepted: sum((s) => s.window.accepted), rejected: sum((s) => s.window.rejected), errors: sum((s) => s.window.errors) },
    acceptedPerSecond: sum((s) => s.acceptedPerSecond),
    latencyMs: { count: sum((s) => s.latencyMs.count), p50: most((s) => s.latencyMs.p50), p99: most((s) => s.latencyMs.p99), max: most((s) => s.latencyMs.max) },
    rejected: each.reduce((m, s) => add(m, s.rejected), {}),
    errors: each.reduce((m, s) => add(m, s.errors), {}),
    interruptions: each.reduce((m, s) => add(m, s.interruptions), {}),
    generator: { cpuPercent: sum((s) => s.generator.cpuPercent), rssBytes: sum((s) => s.generator.rssBytes) },
    failures,
    each,
  };
}

export function formatMerged(m: MergedSummary): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const rows = (title: string, r: Record<string, number>) => (Object.keys(r).length ? [`${title}:`, ...Object.entries(r).map(([k, v]) => `  ${n(v).padStart(9)}  ${k}`)] : [`${title}: none`]);
  return [
    '',
    `load over ${m.processes} processes: ${n(m.miners.connected)} of ${n(m.miners.requested)} miners logged in (the slowest process in ${m.connectSeconds.toFixed(1)} s), from ${m.miners.sourceAddresses} source addresses`,
    `accepted ${n(m.acceptedPerSecond)} shares/s of ${n(m.requestedRate)} asked (${n(m.window.accepted)} in the windows)`,
    `ack latency, worst process: p50 ${m.latencyMs.p50.toFixed(1)} ms, p99 ${m.latencyMs.p99.toFixed(1)} ms, max ${m.latencyMs.max.toFixed(1)} ms (${n(m.latencyMs.count)} answers)`,
    `load processes: ${m.generator.cpuPercent.toFixed(0)}% of one core together, RSS ${(m.generator.rssBytes / 2 ** 20).toFixed(0)} MiB`,
    ...rows('rejected shares', m.rejected),
    ...rows('other errors', m.errors),
    ...(Object.keys(m.interruptions).length ? rows('interruptions (reconnected; not errors)', m.interruptions) : []),
    ...m.failures,
    '',
    m.ok ? 'OK: no error the load did not ask for' : 'FAILED: errors, rejections or failed processes (above)',
  ].join('\n');
}
