import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { difficultyToWork } from '../protocol/target.js';
import { redact, type GatewayConfig } from './config.js';
import type { GatewayView } from './gateway-view.js';
import { createRequestHandler } from './http/api.js';
import { refuseSharesWhileLost, registerInstance, type InstanceRegistration } from './instance-registry.js';
import type { Ledger } from './ledger/ledger.js';
import { describeLedger, openLedger } from './ledger/open-ledger.js';
import { PgLedger } from './ledger/pg/pg-ledger.js';
import { SqliteLedger } from './ledger/sqlite-ledger.js';
import { openDaoChain, type DaoChain } from './chain/open-chain.js';
import { startRelayer, type Relayer } from './relayer/relayer.js';
import { startSettlement, type Settlement, type SettlementHooks } from './settlement/settlement.js';
import { createMetrics } from './metrics.js';
import { PoolStats } from './pool-stats.js';
import { ExtranonceAllocator } from './stratum/extranonce.js';
import { StratumHub } from './stratum/hub.js';
import { IpGuard } from './stratum/ip-guard.js';
import type { SessionContext } from './stratum/session-context.js';
import { createTcpTransport } from './stratum/tcp-transport.js';
import { attachWsTransport } from './stratum/ws-transport.js';
import { JobManager, type Job } from './work/job-manager.js';
import { openWorkSource } from './work/open-source.js';
import type { WorkSource, WorkTemplate } from './work/work-source.js';

/** How long a dropped session's extranonce1 waits for the miner to come back. */
const RESUME_WINDOW_MS = 5 * 60_000;

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
  ledger?: Ledger;
  /** How extranonce1 prefixes are handed out for a slot size (tests pin the known-answer ones). */
  extranonceAllocator?: (slotSize: number) => ExtranonceAllocator;
  /** Fault injection for the settlement crash tests (e.g. die right after a root transaction is sent). */
  settlementHooks?: SettlementHooks;
}

/** Starts the pool gateway: work source, job manager, both Stratum transports, HTTP API. */
export async function startGateway(config: GatewayConfig, overrides: GatewayOverrides = {}): Promise<Gateway> {
  const log = overrides.logger ?? pino({ level: config.logLevel, base: undefined });
  const ledger = overrides.ledger ?? (await openLedger(config, log));
  const closeLedger = () => (overrides.ledger ? Promise.resolve() : ledger.close());
  // Gateways sharing a PostgreSQL ledger must have distinct instance ids (their extranonce1
  // partitions): claim ours before any miner can connect.
  let registration: InstanceRegistration | undefined;
  if (ledger instanceof PgLedger) {
    try {
      registration = await registerInstance(ledger.pool, { instanceId: config.instanceId, where: ledger.label, log });
    } catch (err) {
      await closeLedger();
      throw err;
    }
  }
  const source = overrides.source ?? openWorkSource(config.source, log);
  const jobs = new JobManager({ staleGraceMs: config.staleGraceMs, refreshIntervalMs: config.jobRefreshMs });
  const stats = new PoolStats();
  const metrics = createMetrics();
  const guard = new IpGuard({
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    maxInvalidPerWindow: config.maxInvalidPerMinute,
    windowMs: 60_000,
    banMs: config.banSeconds * 1000,
  });
  let allocator: ExtranonceAllocator | undefined;
  let slotSize = 0;
  let ledgerError: string | undefined;
  let versionMask = config.versionRollingMask;
  /** Extranonce1s of dropped sessions, by subscription id, kept for a reconnect. */
  const resumable = new Map<string, { prefix: Uint8Array; timer: NodeJS.Timeout }>();

  const ctx: SessionContext = {
    jobs,
    ledger: registration ? refuseSharesWhileLost(ledger, registration) : ledger,
    log,
    vardiff: {
      targetIntervalMs: config.targetShareIntervalMs,
      minDifficulty: config.minDifficulty,
      maxDifficulty: config.maxDifficulty,
      hysteresis: 1.5,
    },
    startDifficulty: config.startDifficulty,
    // Miners may roll only bits the upstream lets this gateway roll.
    get versionRollingMask() {
      const upstreamMask = (source as Partial<{ versionMask: number }>).versionMask;
      return upstreamMask === undefined ? config.versionRollingMask : (config.versionRollingMask & upstreamMask) >>> 0;
    },
    ntimeRollSeconds: config.ntimeRollSeconds,
    now: Date.now,
    allocateExtranonce(resumeId) {
      if (!allocator) throw new Error('no work yet');
      const held = resumeId === undefined ? undefined : resumable.get(resumeId);
      if (held) {
        resumable.delete(resumeId!);
        clearTimeout(held.timer);
      }
      const extranonce1 = held && held.prefix.length === allocator.prefixSize ? held.prefix : allocator.allocate();
      return { extranonce1, extranonce2Size: slotSize - allocator.prefixSize, subscriptionId: randomBytes(8).toString('hex') };
    },
    onAuthorized(session, identity) {
      log.debug({ session: session.connection.id, member: identity.member, worker: identity.worker }, 'worker authorized');
    },
    onShareAccepted(_session, share) {
      ledgerError = undefined;
      const work = difficultyToWork(share.difficulty);
      stats.accept(work);
      metrics.sharesAccepted.inc();
      metrics.workAccepted.inc(work);
    },
    onShareRejected(session, reason, minerFault) {
      stats.reject(reason);
      metrics.sharesRejected.inc({ reason: reasonLabel(reason) });
      if (!minerFault) ledgerError = reason;
      else hub.strike(session.connection.remoteAddress);
    },
    forward: (job, candidate) => forward(job, candidate),
    onSessionClosed(session) {
      const prefix = session.extranonce;
      if (!prefix || !allocator || prefix.length !== allocator.prefixSize) return;
      // Held for a while for the miner to resume, then handed out again.
      const owner = allocator;
      const timer = setTimeout(() => {
        resumable.delete(session.subscriptionId);
        owner.release(prefix);
      }, RESUME_WINDOW_MS);
      timer.unref();
      resumable.set(session.subscriptionId, { prefix, timer });
    },
  };
  const hub = new StratumHub(ctx, guard, { messagesPerSecond: config.messagesPerSecond, burst: config.messageBurst }, log);

  function forward(job: Job, c: Parameters<SessionContext['forward']>[1]): void {
    const template = job.template;
    const isBlock = c.isBlock;
    if (!isBlock && !(template.forwardTarget !== undefined && c.hashValue <= template.forwardTarget)) return;
    const version = new DataView(c.header.buffer, c.header.byteOffset, 80).getUint32(0, true);
    if (isBlock) log.info({ hash: c.hash, height: template.height, member: c.member }, 'share meets the network target: submitting block');
    source
      .submit({ template, extranonce: c.extranonce, ntime: c.ntime, nonce: c.nonce, version, header: c.header, hash: c.hash })
      .then(async (outcome) => {
        const reason = outcome.reason ?? null;
        if (isBlock) {
          metrics.blocksFound.inc({ accepted: String(outcome.accepted) });
          await ledger.recordBlock({ hash: c.hash, height: template.height ?? null, member: c.member, jobId: job.id, foundAtMs: Date.now(), accepted: outcome.accepted, reason });
        }
        if (source.kind === 'stratum') {
          metrics.upstreamShares.inc({ accepted: String(outcome.accepted) });
          await ledger.recordUpstreamResult({ shareKey: c.hash, hash: c.hash, accepted: outcome.accepted, reason, atMs: Date.now() });
        }
        if (!outcome.accepted) log.warn({ hash: c.hash, reason }, 'forwarded share not accepted');
      })
      .catch((err: unknown) => log.error({ err, hash: c.hash }, 'forwarding a share failed'));
  }

  function onTemplate(template: WorkTemplate): void {
    if (template.extranonceSize !== slotSize) {
      // A new slot size (first template, or the upstream changed its extranonce): new prefixes.
      slotSize = template.extranonceSize;
      allocator = overrides.extranonceAllocator?.(slotSize) ?? ExtranonceAllocator.forSlot(slotSize, config.instanceId);
      for (const { timer } of resumable.values()) clearTimeout(timer);
      resumable.clear();
      for (const session of hub.sessions.values()) {
        if (!session.extranonce) continue;
        let prefix: Uint8Array;
        try {
          prefix = allocator.allocate();
        } catch (err) {
          // This instance's partition is full: the miner reconnects later rather than share another's.
          log.warn({ err, session: session.connection.id }, 'no extranonce1 left for a session; asking it to reconnect');
          session.reconnect(1);
          continue;
        }
        if (!session.changeExtranonce(prefix, slotSize - allocator.prefixSize)) session.reconnect(1);
      }
    }
    const mask = ctx.versionRollingMask;
    if (mask !== versionMask) {
      versionMask = mask;
      for (const session of hub.sessions.values()) session.updateVersionMask();
    }
    jobs.accept(template);
  }

  jobs.onJob((job) => hub.broadcast(job));
  source.onTemplate((template) => {
    try {
      onTemplate(template);
    } catch (err) {
      log.error({ err }, 'work source sent an unusable template');
    }
  });
  try {
    await source.start();
  } catch (err) {
    hub.close();
    jobs.stop();
    await source.stop().catch(() => {});
    await registration?.stop();
    await closeLedger();
    throw err;
  }

  let chain: DaoChain | undefined;
  let settlement: Settlement | undefined;
  let relayer: Relayer | undefined;
  const stopChain = async () => {
    await relayer?.stop();
    await settlement?.stop();
    chain?.close();
  };
  if (config.chainRpcUrl) {
    try {
      // Settlement and the relayer keep their tables in the ledger's database: the SQLite file, or
      // the shared PostgreSQL database (where the gateways elect one settlement leader).
      const storage = {
        db: ledger instanceof SqliteLedger ? ledger.db : undefined,
        pg: ledger instanceof PgLedger ? ledger.pool : undefined,
      };
      if (!storage.db && !storage.pg) throw new Error('settlement needs the SQLite or the PostgreSQL ledger, not a custom one');
      chain = await openDaoChain(config, log);
      settlement = await startSettlement({ chain, ...storage, log, config, hooks: overrides.settlementHooks });
      relayer = await startRelayer({ chain, ...storage, log, config, settlement });
    } catch (err) {
      await stopChain();
      hub.close();
      jobs.stop();
      await source.stop().catch(() => {});
      await registration?.stop();
      await closeLedger();
      throw err;
    }
  }

  const webRoot = config.webRoot && existsSync(resolve(config.webRoot)) ? resolve(config.webRoot) : undefined;
  const view: GatewayView = {
    chain,
    settlement,
    relayer,
    config,
    source,
    jobs,
    hub,
    ledger,
    stats,
    metrics,
    log,
    webRoot,
    get ledgerError() {
      return ledgerError;
    },
    get instanceProblem() {
      return registration?.problem;
    },
    refreshGauges() {
      metrics.connections.set(hub.sessions.size);
      metrics.miners.set(new Set([...hub.sessions.values()].flatMap((s) => s.identities.map((i) => i.member))).size);
      metrics.hashrate.set(stats.hashesPerSecond());
      metrics.sourceConnected.set(source.connected ? 1 : 0);
    },
  };

  const http = createServer(createRequestHandler(view));
  attachWsTransport(http, hub, { path: '/stratum', maxMessageBytes: config.maxMessageBytes, idleTimeoutMs: config.idleTimeoutMs, pingIntervalMs: config.wsPingIntervalMs });
  const tcp = createTcpTransport(hub, { maxMessageBytes: config.maxMessageBytes, idleTimeoutMs: config.idleTimeoutMs });
  try {
    await listen(http, config.httpPort, config.host);
    await listen(tcp, config.stratumPort, config.host);
  } catch (err) {
    // A port taken: close everything opened so far, so a failed start leaves nothing running.
    hub.close();
    jobs.stop();
    await Promise.all([closeServer(http), closeServer(tcp)]);
    await stopChain();
    await source.stop();
    await registration?.stop();
    await closeLedger();
    throw err;
  }
  const httpPort = (http.address() as AddressInfo).port;
  const stratumPort = (tcp.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const httpUrl = `http://${host}:${httpPort}/`;
  const stratumUrl = `stratum+tcp://${host}:${stratumPort}`;
  log.info(
    { http: httpUrl, websocket: `ws://${host}:${httpPort}/stratum`, stratum: stratumUrl, workSource: source.label, ledger: overrides.ledger ? 'custom' : describeLedger(config), instanceId: config.instanceId, webApp: webRoot ?? 'not built' },
    `dao-gateway listening on ${httpUrl} (API, web app, WebSocket Stratum at /stratum) and ${stratumUrl}; work source: ${redact(source.label)}`,
  );

  let closing: Promise<void> | undefined;
  return {
    httpPort,
    stratumPort,
    httpUrl,
    stratumUrl,
    view,
    close() {
      closing ??= (async () => {
        hub.close();
        jobs.stop();
        for (const { timer } of resumable.values()) clearTimeout(timer);
        for (const session of hub.sessions.values()) session.connection.close('gateway shutting down');
        http.closeAllConnections?.();
        await Promise.all([closeServer(http), closeServer(tcp)]);
        await stopChain();
        await source.stop();
        await registration?.stop();
        await ledger.close();
      })();
      return closing;
    },
  };
}

function listen(server: HttpServer | NetServer, port: number, host: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
}

function closeServer(server: HttpServer | NetServer): Promise<void> {
  return new Promise((resolvePromise) => server.close(() => resolvePromise()));
}

/** Rejection reasons as metric labels: the fixed part only (no numbers), so the label set stays small. */
function reasonLabel(reason: string): string {
  return reason.replace(/\(.*\)/, '').replace(/[0-9.]+/g, 'N').trim().slice(0, 48);
}
