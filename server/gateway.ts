import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Backend } from './backend/backend.js';
import { openBackend } from './backend/open-backend.js';
import { openDaoChain } from './chain/open-chain.js';
import { cidrBlockList, inBlockList } from './cidr.js';
import { Closer } from './closer.js';
import { redact, type GatewayConfig } from './config.js';
import { gatewaySessionContext } from './gateway-sessions.js';
import type { GatewayView } from './gateway-view.js';
import { healthProblems } from './health.js';
import { refuseSharesWhileLost } from './instance-registry.js';
import { listenForMiners } from './listeners.js';
import { createLogger } from './logger.js';
import { createMetrics, settlementObserver, type Metrics } from './metrics.js';
import { PoolStats } from './pool-stats.js';
import { startRelayer } from './relayer/relayer.js';
import { startSettlement, type SettlementHooks } from './settlement/settlement.js';
import type { ExtranonceAllocator } from './stratum/extranonce.js';
import { ExtranonceResume } from './stratum/extranonce-resume.js';
import { StratumHub, type Ban } from './stratum/hub.js';
import { IpGuard } from './stratum/ip-guard.js';
import { followTemplates } from './stratum/template-rollout.js';
import { recordAuditJob } from './work/audit-jobs.js';
import { JobManager } from './work/job-manager.js';
import { openWorkSource } from './work/open-source.js';
import { shareForwarder } from './work/share-forwarder.js';
import type { WorkSource } from './work/work-source.js';

export interface Gateway {
  readonly httpPort: number;
  readonly stratumPort: number;
  /** http://host:port/ : the API, the web app, and WebSocket Stratum at /stratum. */
  readonly httpUrl: string;
  readonly stratumUrl: string;
  readonly view: GatewayView;
  close(): Promise<void>;
}

export interface GatewayOverrides {
  logger?: Logger;
  /** A work source built by the caller (tests); otherwise the config's. */
  source?: WorkSource;
  /** A ledger backend opened by the caller (tests): the caller's to close; the gateway never closes it. */
  backend?: Backend;
  /** How extranonce1 prefixes are handed out for a slot size (tests pin the known-answer ones). */
  extranonceAllocator?: (slotSize: number) => ExtranonceAllocator;
  /** Fault injection for the settlement crash tests (e.g. die right after a root transaction is sent). */
  settlementHooks?: SettlementHooks;
}

/**
 * Starts the pool gateway: ledger, work source, Stratum sessions, settlement, both Stratum
 * transports and the HTTP API, in that order. Each part's close goes on one stack as it starts:
 * a failed start and close() both close what was started, in reverse, once.
 */
export async function startGateway(config: GatewayConfig, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const log = overrides.logger ?? createLogger(config.logLevel);
  const closer = new Closer();
  try {
    return await compose(config, overrides, log, closer);
  } catch (err) {
    await closer.close().catch((closeErr: unknown) => log.warn({ err: closeErr }, 'closing what a failed start opened failed'));
    throw err;
  }
}

async function compose(config: GatewayConfig, overrides: GatewayOverrides, log: Logger, closer: Closer): Promise<Gateway> {
  const backend = overrides.backend ?? closer.add(await openBackend(config, log), (opened) => opened.close());
  const registration = closer.add(await backend.registerInstance(log), (registered) => registered.stop());
  const source = overrides.source ?? openWorkSource(config.source, log);
  const stats = new PoolStats();
  const metrics = createMetrics();
  backend.ledger.observeCommits?.((batch) => {
    metrics.ledgerCommitSeconds.observe(batch.ms / 1000);
    if (!batch.ok) metrics.ledgerCommitFailures.inc();
    metrics.ledgerCommitBatch.observe(batch.size);
  });
  const banExempt = cidrBlockList(config.banExempt);
  const extranonces = closer.add(
    new ExtranonceResume({
      instanceId: config.instanceId,
      allocatorFor: overrides.extranonceAllocator,
      resumeWindowMs: config.resumeWindowSeconds * 1000,
      holdsPerIp: config.resumeHoldsPerIp,
      minExtranonce2Size: config.minerExtranonce2Bytes,
      // Known farms and proxies are many miners behind one address: all of theirs may resume.
      uncapped: (ip) => inBlockList(banExempt, ip),
    }),
    (e) => e.close(),
  );
  const jobs = closer.add(new JobManager({ staleGraceMs: config.staleGraceMs, refreshIntervalMs: config.jobRefreshMs }), (j) => j.stop());
  const ctx = gatewaySessionContext({
    config,
    source,
    jobs,
    // Shares are refused while another gateway holds this one's instance id.
    ledger: refuseSharesWhileLost(backend.ledger, registration),
    extranonces,
    stats,
    metrics,
    log,
    hub: () => hub,
    forward: shareForwarder({ source, ledger: backend.ledger, metrics, log }),
  });
  const guard = new IpGuard({ maxConnectionsPerIp: config.maxConnectionsPerIp, connectionBansPerAddressBan: config.banAddressAfter, banMs: config.banSeconds * 1000, exempt: config.banExempt });
  const limits = { messagesPerSecond: config.messagesPerSecond, burst: config.messageBurst };
  const bans = { strikes: { maxStrikesPerWindow: config.maxInvalidPerMinute, windowMs: 60_000 }, onBan: (ban: Ban) => metrics.bans.inc(ban) };
  const hub = closer.add(new StratumHub(ctx, guard, limits, bans, log), (h) => h.close());
  // Before the broadcast, so the job's row is queued ahead of any share mined on it (audit bundles).
  jobs.onJob((job) => recordAuditJob(backend.ledger, job, log));
  jobs.onJob((job) => hub.broadcast(job));
  followTemplates(source, { extranonces, hub, jobs, versionRollingMask: () => ctx.versionRollingMask, log });
  closer.push(() => source.stop());
  await source.start();
  const settling = config.chainRpcUrl ? await startSettling(config, backend, log, closer, overrides.settlementHooks, metrics) : {};

  const webRoot = config.webRoot && existsSync(resolve(config.webRoot)) ? resolve(config.webRoot) : undefined;
  const view: GatewayView = {
    ...settling,
    config,
    source,
    jobs,
    hub,
    ledger: backend.ledger,
    stats,
    metrics,
    log,
    webRoot,
    get ledgerError() {
      return ctx.ledgerError;
    },
    get instanceProblem() {
      return registration.problem;
    },
    refreshGauges() {
      metrics.connections.set(hub.sessions.size);
      const byTransport = { tcp: 0, ws: 0 };
      for (const session of hub.sessions.values()) if (session.connection.transport) byTransport[session.connection.transport]++;
      for (const [transport, count] of Object.entries(byTransport)) metrics.connectionsByTransport.set({ transport }, count);
      metrics.miners.set(hub.memberWorkers.size);
      metrics.hashrate.set(stats.hashesPerSecond());
      metrics.sourceConnected.set(source.connected ? 1 : 0);
      const extranonce = extranonces.usage;
      metrics.extranonceCapacity.set(extranonce.capacity);
      metrics.extranonceInUse.set(extranonce.inUse);
      metrics.extranonceHeld.set(extranonce.held);
      metrics.jobs.set(jobs.size);
      metrics.healthProblems.set(healthProblems(view).length);
    },
  };

  const { httpPort, stratumPort } = await listenForMiners(view, config, closer);
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const httpUrl = `http://${host}:${httpPort}/`;
  const stratumUrl = `stratum+tcp://${host}:${stratumPort}`;
  log.info(
    { http: httpUrl, websocket: `ws://${host}:${httpPort}/stratum`, stratum: stratumUrl, workSource: source.label, ledger: backend.label, instanceId: config.instanceId, webApp: webRoot ?? 'not built' },
    `dao-gateway listening on ${httpUrl} (API, web app, WebSocket Stratum at /stratum) and ${stratumUrl}; work source: ${redact(source.label)}`,
  );
  return { httpPort, stratumPort, httpUrl, stratumUrl, view, close: () => closer.close() };
}

/** The settlement chain, the epoch settlement and the relayer, keeping their tables in the ledger's database. */
async function startSettling(config: GatewayConfig, backend: Backend, log: Logger, closer: Closer, hooks: SettlementHooks | undefined, metrics: Metrics) {
  const chain = closer.add(await openDaoChain(config, log), (c) => c.close());
  const store = await backend.settlementStore(log);
  const settlement = closer.add(await startSettlement({ chain, store, leadership: backend.leadership({ log }), log, config, hooks, observer: settlementObserver(metrics) }), (s) => s.stop());
  const relayStore = await backend.relayStorage(log);
  const relayer = closer.add(await startRelayer({ chain, store: relayStore, leadership: settlement.leadership, log, config, registry: metrics.registry }), (r) => r.stop());
  return { chain, settlement, relayer };
}
