// runLoad: one whole load run (start or reach the gateway, connect the miners, submit at the
// requested rate through a warm-up and a measurement window, drain, close) and its summary.
// The CLI (scripts/load.ts) and tests call it alike.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { releaseFinishedFragments } from '../../server/stratum/ws-receiver-fragments.js';
import { summarizeProfile, type ProfileSummary } from '../bench-gateway-profile.js';
import { connectMiners } from './connect.js';
import { profileWindow } from './inspector-profile.js';
import type { Endpoint } from './links.js';
import { sourceAddresses } from './loopback.js';
import { LoadMiner } from './miner.js';
import { FD_MARGIN, LoadOptionsError, resolveOptions, type LoadOptions, type ResolvedOptions } from './options.js';
import { Pacer } from './pacer.js';
import { openFileLimit } from './proc-stats.js';
import { secondLine } from './report.js';
import { Sampler, type Reading } from './sampler.js';
import { measureShareMaking } from './share-rate.js';
import { spawnGateway, type SpawnedGateway } from './spawn-gateway.js';
import type { LoadSummary, SecondLine } from './summary.js';
import { Tally } from './tally.js';

export type { LoadSummary, SecondLine } from './summary.js';

/** How long answers still owed are awaited after the load stops: a share unanswered this long is lost. */
const DRAIN_MS = 30_000;
/** Connect, subscribe, authorize, first job: each within this. */
const STEP_TIMEOUT_MS = 30_000;
const MAX_PROBLEM_LINES = 10;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** CPU µs per share from a CPU % (of one core) over `seconds`. */
const perShare = (percent: number | undefined, seconds: number, shares: number) => (percent === undefined || shares === 0 ? undefined : (percent / 100) * seconds * 1e6 / shares);
const sorted = (map: Map<string, number>) => Object.fromEntries([...map].sort((a, b) => b[1] - a[1]));
const count = (n: number) => n.toLocaleString('en-US');

export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  // The generator's 20,000 client receivers have the gateway's promotion problem too; its full
  // collections would stall the reading of answers and count as gateway latency.
  releaseFinishedFragments();
  const o = resolveOptions(options);
  const log = options.log ?? (() => undefined);
  const tally = new Tally();
  const problems: string[] = [];
  const stop = new AbortController();
  const onUserAbort = () => stop.abort('stopped by the caller');
  options.signal?.addEventListener('abort', onUserAbort, { once: true });
  if (options.signal?.aborted) onUserAbort();

  let gateway: SpawnedGateway | undefined;
  const stopping = { gateway: false };
  if (!o.target) {
    log(`starting the gateway (node bin/dao-gateway.mjs, difficulty ${o.difficulty} pinned, ledger synchronous=${o.ledgerSynchronous})`);
    gateway = await spawnGateway({
      difficulty: o.difficulty,
      connectionsPerAddress: o.perAddress,
      ledgerSynchronous: o.ledgerSynchronous,
      inspect: o.cpuProfileSeconds > 0,
      onProblem(kind, line) {
        tally.error(kind);
        if (problems.length < MAX_PROBLEM_LINES) problems.push(line);
      },
    });
    void gateway.exited.then((code) => {
      if (stopping.gateway) return;
      tally.error(`the gateway exited during the run (${code})`);
      stop.abort(`the gateway exited (${code})`);
    });
  }

  try {
    return await new Run(o, gateway, tally, problems, stop, log, stopping, options).run();
  } finally {
    options.signal?.removeEventListener('abort', onUserAbort);
    stopping.gateway = true;
    await gateway?.stop();
  }
}

/** The phases of one run, in order, sharing what they measure. */
class Run {
  private readonly signal: AbortSignal;
  private readonly sampler: Sampler;
  private readonly pid: number | undefined;
  private readonly miners: LoadMiner[] = [];
  private sourceCount = 0;
  private reporter: NodeJS.Timeout | undefined;
  private pacer: Pacer | undefined;

  constructor(
    private readonly o: ResolvedOptions,
    private readonly gateway: SpawnedGateway | undefined,
    private readonly tally: Tally,
    private readonly problems: string[],
    private readonly stop: AbortController,
    private readonly log: (line: string) => void,
    private readonly stopping: { gateway: boolean },
    private readonly hooks: Pick<LoadOptions, 'onAnswer' | 'beforeLoad'>,
  ) {
    this.signal = stop.signal;
    this.pid = gateway?.pid ?? o.target?.pid;
    this.sampler = new Sampler(this.pid);
  }

  async run(): Promise<LoadSummary> {
    try {
      return await this.phases();
    } finally {
      // Also when a phase threw: nothing of the run may outlive it in a test's process.
      clearInterval(this.reporter);
      this.pacer?.stop();
      for (const miner of this.miners) miner.close();
    }
  }

  private async phases(): Promise<LoadSummary> {
    const { o, tally, signal, log } = this;
    const gatewayFiles = this.pid === undefined ? undefined : openFileLimit(this.pid);
    const total = o.wsMiners + o.tcpMiners;
    if (gatewayFiles && total + FD_MARGIN > gatewayFiles.soft) {
      throw new LoadOptionsError(`${total} connections need about ${total + FD_MARGIN} open files in the gateway (pid ${this.pid}), but its limit is ${gatewayFiles.soft}`);
    }
    this.createMiners();
    log(`open files: this process ${o.openFiles?.soft ?? '?'} (hard ${o.openFiles?.hard ?? '?'}), the gateway ${gatewayFiles?.soft ?? '?'}; ${count(total)} connections from ${this.sourceCount} source addresses`);

    const idle = this.sampler.read();
    let lastProgress = idle;
    const connect = await connectMiners(this.miners, o.connectParallel, tally, signal, (connected, failed, seconds) => {
      const now = this.sampler.read();
      const gwCpu = this.sampler.usage(lastProgress, now).gatewayCpuPercent;
      lastProgress = now;
      log(`connecting: ${count(connected)}/${count(total)} logged in${failed ? `, ${failed} failed` : ''} (${seconds.toFixed(0)} s${gwCpu === undefined ? '' : `, gateway CPU ${gwCpu.toFixed(0)}%`})`);
    });
    log(`${count(connect.connected)} miners logged in in ${connect.seconds.toFixed(1)} s${connect.failed ? ` (${connect.failed} failed)` : ''}`);
    const connected = this.sampler.read();
    if (connect.connected === 0 && !signal.aborted) this.stop.abort('no miner could log in');

    // At the difficulty the miners got: a running gateway sets its own.
    const difficulty = this.gateway ? o.difficulty : (this.miners.find((m) => m.open)?.difficulty ?? o.difficulty);
    const shareMakingPerSecond = await measureShareMaking(difficulty);
    log(`share making alone: ${count(Math.round(shareMakingPerSecond))} shares/s on this thread at difficulty ${difficulty}`);
    const prepareBegan = performance.now();
    await Promise.all(this.miners.map((m) => m.prepare().catch((err: unknown) => tally.error(`making a share failed: ${(err as Error).message}`))));
    log(`first shares made for every miner in ${((performance.now() - prepareBegan) / 1000).toFixed(1)} s`);
    if (this.hooks.beforeLoad && !signal.aborted) {
      log('waiting for the other load processes to log in their miners');
      await this.hooks.beforeLoad();
    }

    const window = await this.load(connected);
    const exit = await this.finish();
    const usage = this.sampler.usage(window.from, window.to);
    const rss = (r: Reading) => r.gateway?.rssBytes;
    const perConnection = (r: Reading) => (rss(idle) !== undefined && rss(r) !== undefined && connect.connected > 0 ? (rss(r)! - rss(idle)!) / connect.connected : undefined);
    return {
      ok: !signal.aborted && tally.total.errors === 0 && tally.total.rejected === 0,
      aborted: signal.aborted ? String(signal.reason) : undefined,
      miners: { ws: o.wsMiners, tcp: o.tcpMiners, connected: connect.connected, sourceAddresses: this.sourceCount, perAddress: o.perAddress },
      connectSeconds: connect.seconds,
      requestedRate: o.rate,
      warmupSeconds: o.warmupSeconds,
      window: { seconds: window.seconds, ...tally.window },
      sentPerSecond: tally.window.sent / window.seconds,
      acceptedPerSecond: tally.window.accepted / window.seconds,
      latencyMs: tally.windowLatency.summary(),
      rejected: sorted(tally.rejectedByReason),
      expectedRejected: sorted(tally.expectedRejectedByReason),
      errors: sorted(tally.errorsByKind),
      interruptions: sorted(tally.interruptionsByKind),
      gatewayProblems: this.problems,
      gateway: {
        spawned: this.gateway !== undefined,
        pid: this.pid,
        ledgerSynchronous: this.gateway ? o.ledgerSynchronous : undefined,
        difficulty,
        cpuPercent: usage.gatewayCpuPercent,
        cpuUsPerShare: perShare(usage.gatewayCpuPercent, window.seconds, tally.window.accepted + tally.window.rejected),
        rssIdleBytes: rss(idle),
        rssConnectedBytes: rss(connected),
        rssLoadBytes: rss(window.to),
        rssPeakBytes: window.rssPeakBytes,
        rssPerConnectionBytes: perConnection(window.to),
        rssPerConnectionConnectedBytes: perConnection(connected),
        openFileLimit: gatewayFiles?.soft,
        exit,
      },
      generator: {
        cpuPercent: usage.generatorCpuPercent,
        cpuUsPerShare: perShare(usage.generatorCpuPercent, window.seconds, tally.window.sent),
        loopBusyPercent: 100 * window.loopUtilization,
        shareMakingPerSecond,
        maxLagMs: tally.maxLagMs,
        rssBytes: window.to.generator?.rssBytes,
        openFileLimit: o.openFiles?.soft,
      },
      machine: { cores: this.sampler.cores, cpuPercent: usage.machineCpuPercent, otherCpuPercent: usage.otherCpuPercent },
      profile: window.profile,
    };
  }

  /**
   * WebSocket miners first, then TCP ones, spread round-robin over the source addresses and over
   * the endpoints (the balancers of a cluster).
   */
  private createMiners(): void {
    const { o, gateway } = this;
    const ws: Endpoint[] = gateway ? [{ transport: 'ws', host: gateway.host, port: gateway.httpPort }] : (o.target?.ws ?? []);
    const tcp: Endpoint[] = gateway ? [{ transport: 'tcp', host: gateway.host, port: gateway.stratumPort }] : (o.target?.tcp ?? []);
    const total = o.wsMiners + o.tcpMiners;
    const addressCount = Math.ceil(total / o.perAddress);
    const wsSources = ws[0] ? sourceAddresses(ws[0].host, addressCount, o.sourceOffset) : [];
    const tcpSources = tcp[0] ? sourceAddresses(tcp[0].host, addressCount, o.sourceOffset) : [];
    this.sourceCount = Math.max(wsSources.length, tcpSources.length);
    for (let i = 0; i < total; i++) {
      const isWs = i < o.wsMiners;
      const sources = isWs ? wsSources : tcpSources;
      const endpoints = isWs ? ws : tcp;
      const settings = {
        endpoint: endpoints[i % endpoints.length]!,
        localAddress: sources[i % sources.length],
        stepTimeoutMs: STEP_TIMEOUT_MS,
        pinnedDifficulty: gateway ? o.difficulty : undefined,
        reconnect: o.reconnect,
        onAnswer: this.hooks.onAnswer,
      };
      this.miners.push(new LoadMiner(o.sourceOffset * o.perAddress + i, settings, this.tally));
    }
  }

  /** Warm-up, then the measurement window (and the profile over it), then the answers still owed. */
  private async load(connected: Reading) {
    const { o, tally, signal } = this;
    tally.live = true;
    this.pacer = new Pacer(
      this.miners.length,
      o.rate,
      (i) => {
        const miner = this.miners[i]!;
        // A miner logging in again (reconnect) keeps its turn; one that is gone leaves the schedule.
        if (!miner.open) return miner.comingBack;
        miner.submit();
        return true;
      },
      (ms) => tally.lag(ms),
    );
    const phase: { now: SecondLine['phase'] } = { now: 'warm-up' };
    const peak = this.startReporter(connected, phase);
    this.pacer.start();
    await sleep(o.warmupSeconds * 1000, signal);

    phase.now = 'window';
    const profileFile = o.cpuProfileFile ?? join(tmpdir(), `dao-load-gateway-${Date.now()}.cpuprofile`);
    const profiling = this.gateway?.inspectorUrl && !signal.aborted ? await profileWindow(this.gateway.inspectorUrl, Math.min(o.cpuProfileSeconds, o.seconds), profileFile) : undefined;
    const loopFrom = performance.eventLoopUtilization();
    const from = this.sampler.read();
    const fromMs = performance.now();
    tally.counting = true;
    await sleep(o.seconds * 1000, signal);
    tally.counting = false;
    const to = this.sampler.read();
    const seconds = (performance.now() - fromMs) / 1000;
    const loopUtilization = performance.eventLoopUtilization(loopFrom).utilization;
    let profile: ProfileSummary | undefined;
    if (profiling) {
      try {
        await profiling.finish();
        profile = summarizeProfile(profileFile);
      } catch (err) {
        tally.error(`the CPU profile failed: ${(err as Error).message}`);
      }
    }

    phase.now = 'drain';
    this.pacer.stop();
    const drainBegan = Date.now();
    while (this.miners.some((m) => m.pending > 0) && Date.now() - drainBegan < DRAIN_MS && !signal.aborted) await sleep(20, signal);
    const owed = this.miners.reduce((n, m) => n + m.pending, 0);
    if (owed > 0) tally.error(`shares never answered (${DRAIN_MS / 1000} s after the load stopped)`, owed);
    clearInterval(this.reporter);
    const rssPeakBytes = Math.max(peak.rssBytes ?? 0, to.gateway?.rssBytes ?? 0) || undefined;
    return { from, to, seconds, loopUtilization, profile, rssPeakBytes };
  }

  /** The once-a-second line; keeps the gateway's peak RSS. */
  private startReporter(start: Reading, phase: { now: SecondLine['phase'] }): { rssBytes: number | undefined } {
    const peak = { rssBytes: start.gateway?.rssBytes };
    const began = performance.now();
    let last = start;
    this.reporter = setInterval(() => {
      const now = this.sampler.read();
      const usage = this.sampler.usage(last, now);
      last = now;
      const { counts, latency, lagMs } = this.tally.takeSecond();
      const connections = this.miners.reduce((n, m) => n + (m.open ? 1 : 0), 0);
      // Nothing left to load: end now rather than wait out the window.
      if (connections === 0 && this.tally.live) this.stop.abort('every connection was closed');
      const rssBytes = now.gateway?.rssBytes;
      if (rssBytes !== undefined && (peak.rssBytes === undefined || rssBytes > peak.rssBytes)) peak.rssBytes = rssBytes;
      const { gatewayCpuPercent, generatorCpuPercent, machineCpuPercent } = usage;
      this.log(secondLine({ t: (performance.now() - began) / 1000, phase: phase.now, connections, counts, latencyMs: latency, lagMs, gatewayRssBytes: rssBytes, gatewayCpuPercent, generatorCpuPercent, machineCpuPercent }));
    }, 1000);
    return peak;
  }

  /** Closes the miners and stops the gateway we started; returns its exit status. */
  private async finish(): Promise<number | string | undefined> {
    this.tally.live = false;
    for (const miner of this.miners) miner.close();
    if (!this.gateway || this.signal.aborted) return undefined;
    this.stopping.gateway = true;
    const exit = await this.gateway.stop();
    if (exit !== 0) this.tally.error(`the gateway exited with ${exit} when stopped`);
    return exit;
  }
}
