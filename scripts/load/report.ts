// The end-of-run report for people: what was asked, what the gateway sustained, and every error
// the load did not ask for, spelled out (an empty list is printed as "none", so it is visibly zero).
import type { LoadSummary, SecondLine } from './summary.js';

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const f1 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '?' : x.toFixed(1));
const kib = (bytes: number | undefined) => (bytes === undefined ? '?' : `${(bytes / 1024).toFixed(1)} KiB`);

const pct = (x: number | undefined) => (x === undefined ? '?' : `${x.toFixed(0)}%`);
const ms = (x: number) => (Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(1) : x.toFixed(0));
const mib = (bytes: number | undefined) => (bytes === undefined ? '?' : `${(bytes / 2 ** 20).toFixed(0)} MiB`);

/** The compact once-a-second line. */
export function secondLine(s: SecondLine): string {
  const { counts: c, latencyMs: l } = s;
  return (
    `${s.t.toFixed(0).padStart(4)}s ${s.phase.padEnd(7)} conns ${s.connections}  sent ${c.sent}/s  acc ${c.accepted}/s  rej ${c.rejected}  err ${c.errors}  ` +
    `ack p50 ${ms(l.p50)} p99 ${ms(l.p99)} max ${ms(l.max)} ms  gw cpu ${pct(s.gatewayCpuPercent)} rss ${mib(s.gatewayRssBytes)}  ` +
    `gen cpu ${pct(s.generatorCpuPercent)}  machine ${pct(s.machineCpuPercent)}${s.lagMs >= 50 ? `  gen lag ${s.lagMs.toFixed(0)} ms` : ''}`
  );
}

function listing(title: string, entries: Record<string, number>): string[] {
  const rows = Object.entries(entries);
  if (rows.length === 0) return [`${title}: none`];
  return [`${title}:`, ...rows.map(([what, count]) => `  ${n(count).padStart(9)}  ${what}`)];
}

export function formatReport(s: LoadSummary): string {
  const g = s.gateway;
  const lines = [
    '',
    `load: ${n(s.miners.ws)} WebSocket + ${n(s.miners.tcp)} TCP miners from ${s.miners.sourceAddresses} source addresses, ${n(s.requestedRate)} shares/s asked, ` +
      `${f1(s.window.seconds)} s window after ${s.warmupSeconds} s warm-up`,
    `gateway: ${g.spawned ? `spawned (pid ${g.pid}), difficulty ${g.difficulty} pinned, ledger synchronous=${g.ledgerSynchronous}` : `running (pid ${g.pid ?? 'not given: no CPU or memory figures'}), difficulty ${g.difficulty} as it set it`}`,
    '',
    `connected ${n(s.miners.connected)} of ${n(s.miners.ws + s.miners.tcp)} in ${f1(s.connectSeconds)} s`,
    `accepted ${n(s.acceptedPerSecond)} shares/s sustained (${n(s.window.accepted)} in the window; sent ${n(s.sentPerSecond)}/s)`,
    `ack latency p50 ${f1(s.latencyMs.p50)} ms, p99 ${f1(s.latencyMs.p99)} ms, max ${f1(s.latencyMs.max)} ms (${n(s.latencyMs.count)} answers)`,
    `gateway CPU ${f1(g.cpuPercent)}% of one core (${f1(g.cpuUsPerShare)} µs per share); RSS idle ${mib(g.rssIdleBytes)}, connected ${mib(g.rssConnectedBytes)}, under load ${mib(g.rssLoadBytes)} (peak ${mib(g.rssPeakBytes)})`,
    `gateway memory per connection: ${kib(g.rssPerConnectionBytes)} under load, ${kib(g.rssPerConnectionConnectedBytes)} connected before any share`,
    `generator CPU ${f1(s.generator.cpuPercent)}% (${f1(s.generator.cpuUsPerShare)} µs per share; event loop busy ${f1(s.generator.loopBusyPercent)}%, most late ${f1(s.generator.maxLagMs)} ms), RSS ${mib(s.generator.rssBytes)}; ` +
      `makes ${n(s.generator.shareMakingPerSecond)} shares/s alone`,
    `machine: ${s.machine.cores} cores, ${f1(s.machine.cpuPercent)}% busy, of which ${f1(s.machine.otherCpuPercent)}% neither the gateway nor the generator`,
    '',
    ...listing('rejected shares', s.rejected),
    ...(Object.keys(s.expectedRejected).length ? listing('expected rejections (not errors)', s.expectedRejected) : []),
    ...listing('other errors', s.errors),
    ...(Object.keys(s.interruptions).length ? listing('interruptions (reconnected; not errors)', s.interruptions) : []),
    ...(s.gatewayProblems.length ? ['gateway log lines:', ...s.gatewayProblems.map((line) => `  ${line}`)] : []),
  ];
  if (s.profile) {
    lines.push('', `gateway CPU profile over ${f1(s.profile.sampledMs / 1000)} s (${s.profile.file}):`);
    for (const a of s.profile.areas) lines.push(`  ${(100 * a.share).toFixed(1).padStart(5)}%  ${a.name}`);
    lines.push('  top functions:');
    for (const fn of s.profile.functions) lines.push(`  ${(100 * fn.share).toFixed(1).padStart(5)}%  ${fn.name}`);
  }
  lines.push('', s.ok ? 'OK: no error the load did not ask for' : `FAILED: ${s.aborted ?? 'errors or rejections the load did not ask for (above)'}`);
  return lines.join('\n');
}
