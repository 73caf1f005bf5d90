// The cluster's status, one line per process: each gateway's settlement role (from its /healthz),
// its connections (from /api/stats) and, from /proc, the CPU and memory of every gateway and
// balancer since the last reading, which is what the benchmark tables quote.
import { cpuPercent, sampleProcess, type ProcSample } from '../load/proc-stats.js';
import type { Cluster } from './cluster.js';

export interface ProcessStatus {
  name: string;
  pid: number;
  /** Undefined: the process is gone. */
  cpuPercent: number | undefined;
  rssBytes: number | undefined;
  /** Gateways only: 'leader', 'follower', 'no settlement' (no --chain-rpc) or why /healthz did not say. */
  role?: string;
  connections?: number;
}

const HTTP_TIMEOUT_MS = 2_000;

async function getJson(url: string): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  return res.json();
}

async function gatewayRole(httpPort: number): Promise<{ role: string; connections?: number }> {
  try {
    const [health, stats] = await Promise.all([getJson(`http://127.0.0.1:${httpPort}/healthz`), getJson(`http://127.0.0.1:${httpPort}/api/stats`)]);
    const settlement = health.settlement as { leader: boolean } | undefined;
    const role = settlement ? (settlement.leader ? 'leader' : 'follower') : 'no settlement (no --chain-rpc)';
    const problems = (health.problems as string[]).length ? ` [${(health.problems as string[]).join('; ')}]` : '';
    return { role: role + problems, connections: stats.connections as number };
  } catch (err) {
    return { role: `not answering (${(err as Error).message})` };
  }
}

/** Keeps the last /proc sample of each process, so each reading covers the time since the one before. */
export class ClusterStatus {
  private readonly last = new Map<number, ProcSample>();

  constructor(private readonly cluster: Cluster) {}

  private usage(pid: number): { cpuPercent: number | undefined; rssBytes: number | undefined } {
    const now = sampleProcess(pid);
    const before = this.last.get(pid);
    if (now) this.last.set(pid, now);
    return { cpuPercent: now && before ? cpuPercent(before, now) : undefined, rssBytes: now?.rssBytes };
  }

  async read(): Promise<ProcessStatus[]> {
    const gateways = await Promise.all(
      this.cluster.gateways.map(async (g) => ({ name: `gateway ${g.instanceId}`, pid: g.pid, ...this.usage(g.pid), ...(await gatewayRole(g.httpPort)) })),
    );
    const balancers = this.cluster.balancers.map((b) => ({ name: `haproxy ${b.index}`, pid: b.pid, ...this.usage(b.pid) }));
    return [...gateways, ...balancers];
  }
}

export function formatStatus(rows: ProcessStatus[]): string {
  return rows
    .map((r) => {
      const cpu = r.cpuPercent === undefined ? '  ?' : r.cpuPercent.toFixed(0).padStart(3);
      const rss = r.rssBytes === undefined ? 'gone' : `${(r.rssBytes / 2 ** 20).toFixed(0)} MiB`;
      const conns = r.connections === undefined ? '' : `  ${r.connections.toLocaleString('en-US')} connections`;
      return `  ${r.name.padEnd(10)} pid ${String(r.pid).padEnd(7)} cpu ${cpu}%  rss ${rss.padStart(8)}${conns}${r.role ? `  ${r.role}` : ''}`;
    })
    .join('\n');
}
