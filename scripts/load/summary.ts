// What a load run reports: once a second (SecondLine) and at the end (LoadSummary, also printed
// as one line of JSON for the README and CI).
import type { ProfileSummary } from '../bench-gateway-profile.js';
import type { LatencySummary } from './latency.js';
import type { Counts } from './tally.js';

export interface SecondLine {
  /** Seconds since the load started (warm-up included). */
  t: number;
  phase: 'warm-up' | 'window' | 'drain';
  connections: number;
  counts: Counts;
  latencyMs: LatencySummary;
  lagMs: number;
  gatewayCpuPercent: number | undefined;
  gatewayRssBytes: number | undefined;
  generatorCpuPercent: number | undefined;
  machineCpuPercent: number | undefined;
}

export interface LoadSummary {
  /** No rejection and no error the load did not ask for, and the run went to its end. */
  ok: boolean;
  /** Why the run ended early, if it did. */
  aborted: string | undefined;
  miners: { ws: number; tcp: number; connected: number; sourceAddresses: number; perAddress: number };
  /** Time for every miner to connect, subscribe, authorize and get its first job. */
  connectSeconds: number;
  requestedRate: number;
  warmupSeconds: number;
  window: { seconds: number; sent: number; accepted: number; rejected: number; errors: number };
  sentPerSecond: number;
  acceptedPerSecond: number;
  /** Send to answer, for the answers received in the window. */
  latencyMs: LatencySummary;
  /** Over the whole run, by the gateway's error text. */
  rejected: Record<string, number>;
  /** Rejections a correct miner also gets (stale after a new block): not errors. */
  expectedRejected: Record<string, number>;
  errors: Record<string, number>;
  /** With `reconnect`: connections dropped and logged in again, and the shares left unanswered. */
  interruptions: Record<string, number>;
  /** The first few lines of what the gateway logged as warnings or errors. */
  gatewayProblems: string[];
  gateway: {
    spawned: boolean;
    pid: number | undefined;
    ledgerSynchronous: 'FULL' | 'NORMAL' | undefined;
    /** The share difficulty: pinned when spawned, as the gateway set it otherwise. */
    difficulty: number;
    /** Over the window, in % of one core. */
    cpuPercent: number | undefined;
    /** CPU time per share answered in the window: what the rate costs, however busy the machine was. */
    cpuUsPerShare: number | undefined;
    rssIdleBytes: number | undefined;
    rssConnectedBytes: number | undefined;
    /** At the end of the window. */
    rssLoadBytes: number | undefined;
    rssPeakBytes: number | undefined;
    /** (RSS under load - RSS idle) / connections: the connections and what the load added (heap, SQLite cache). */
    rssPerConnectionBytes: number | undefined;
    /** (RSS connected - RSS idle) / connections, before any share: the connections alone. */
    rssPerConnectionConnectedBytes: number | undefined;
    openFileLimit: number | undefined;
    exit: number | string | undefined;
  };
  generator: {
    cpuPercent: number | undefined;
    /** CPU time per share sent in the window (sockets, JSON, timers: making shares is nearly free). */
    cpuUsPerShare: number | undefined;
    /** Event-loop busy share over the window: near 100%, the latencies include the generator's own delay. */
    loopBusyPercent: number;
    /** Shares this process makes per second alone (no sockets), measured before the run. */
    shareMakingPerSecond: number;
    /** The most a share went out after its due time. */
    maxLagMs: number;
    rssBytes: number | undefined;
    openFileLimit: number | undefined;
  };
  machine: { cores: number; cpuPercent: number | undefined; otherCpuPercent: number | undefined };
  profile: ProfileSummary | undefined;
}
