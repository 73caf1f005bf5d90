// The gateway benchmark's printed report: two tables with the targets beside the figures.
import type { ProfileSummary } from './bench-gateway-profile.js';
import type { RateRow } from './bench-gateway-verify.js';

export interface Report {
  machine: { cpu: string; cpus: number; node: string };
  validation: RateRow[];
  sessionRejected: Record<string, number>;
  sessionMeanBatch: number;
  load: {
    connections: number;
    inFlightPerConnection: number;
    difficulty: number;
    ledgerSynchronous: string;
    connectSeconds: number;
    windowSeconds: number;
    warmupSeconds: number;
    acceptedPerSecond: number;
    accepted: number;
    rejected: Record<string, number>;
    latencyMs: { p50: number; p99: number; max: number };
    rssIdleBytes: number;
    rssConnectedBytes: number;
    rssPerConnectionBytes: number;
    heapPerConnectionBytes: number;
    gatewayCpuPercent: number;
    gatewaySystemCpuPercent: number;
    gatewayLoopBusyPercent: number;
    ledgerCommitsPerSecond: number;
    ledgerMeanBatch: number;
    ledgerLargestBatch: number;
  };
  profile: ProfileSummary | undefined;
  warnings: string[];
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1)) + ' ms';

function table(header: string[], rows: string[][]): void {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

export function printReport(r: Report): void {
  const { load } = r;
  console.log(`\nGateway benchmark on ${r.machine.cpu}, ${r.machine.cpus} CPUs, Node ${r.machine.node}\n`);

  console.log('1. Share validations per second, in-process, one core (medians of 3 interleaved rounds; the session row: one run)\n');
  const nodeCrypto = r.validation.find((v) => v.key === 'nodeCrypto')?.perSecond;
  table(
    ['path', 'shares/s', 'µs/share', 'vs node:crypto peer', 'target'],
    r.validation.map((v) => [
      v.name,
      int(v.perSecond),
      (1e6 / v.perSecond).toFixed(1),
      nodeCrypto ? `${(v.perSecond / nodeCrypto).toFixed(2)}x` : '',
      v.target === undefined ? '' : `>= ${int(v.target)}/s: ${v.perSecond >= v.target ? 'met' : 'NOT met'}`,
    ]),
  );
  console.log(`\n  session path: mean ledger batch ${r.sessionMeanBatch.toFixed(0)} shares per commit; rejected ${rejectedText(r.sessionRejected)}`);

  console.log(
    `\n2. ${int(load.connections)} WebSocket miners over loopback, ${load.inFlightPerConnection} shares in flight each, ` +
      `difficulty pinned at ${load.difficulty}, ledger synchronous=${load.ledgerSynchronous}; ` +
      `${load.windowSeconds.toFixed(1)} s window after ${load.warmupSeconds} s warm-up; gateway in its own process\n`,
  );
  const rejectedCount = Object.values(load.rejected).reduce((a, b) => a + b, 0);
  table(
    ['figure', 'measured', 'target'],
    [
      ['accepted shares/s', `${int(load.acceptedPerSecond)} (${int(load.accepted)} in the window)`, ''],
      ['rejected shares', rejectedText(load.rejected), rejectedCount === 0 ? '0: met' : '0: NOT met'],
      ['ack latency p50 / p99 / max', `${ms(load.latencyMs.p50)} / ${ms(load.latencyMs.p99)} / ${ms(load.latencyMs.max)}`, ''],
      ['gateway RSS: started / all connected', `${mb(load.rssIdleBytes)} / ${mb(load.rssConnectedBytes)}`, ''],
      ['memory per connection: RSS / JS heap', `${kb(load.rssPerConnectionBytes)} / ${kb(load.heapPerConnectionBytes)}`, ''],
      ['gateway CPU (of one core) / of it system', `${load.gatewayCpuPercent.toFixed(0)}% / ${load.gatewaySystemCpuPercent.toFixed(0)}%`, ''],
      ['gateway event loop busy', `${load.gatewayLoopBusyPercent.toFixed(0)}%`, ''],
      ['ledger commits/s, mean / largest batch', `${load.ledgerCommitsPerSecond.toFixed(0)}, ${load.ledgerMeanBatch.toFixed(0)} / ${int(load.ledgerLargestBatch)} shares`, ''],
      ['connect + subscribe + authorize, all miners', `${load.connectSeconds.toFixed(1)} s`, ''],
    ],
  );
  if (r.profile) printProfile(r.profile);
  for (const warning of r.warnings) console.log(`\nwarning: ${warning}`);
}

function rejectedText(rejected: Record<string, number>): string {
  const entries = Object.entries(rejected);
  return entries.length === 0 ? '0' : entries.map(([reason, n]) => `${n} "${reason}"`).join(', ');
}

function printProfile(p: ProfileSummary): void {
  console.log(`\nGateway CPU profile over the window (${(p.sampledMs / 1000).toFixed(1)} s sampled): ${p.file}\n`);
  table(['area', 'ms', 'share'], p.areas.map((a) => [a.name, a.ms.toFixed(0), `${(100 * a.share).toFixed(1)}%`]));
  console.log('');
  table(['function (self time)', 'ms', 'share'], p.functions.map((f) => [f.name, f.ms.toFixed(0), `${(100 * f.share).toFixed(1)}%`]));
}
