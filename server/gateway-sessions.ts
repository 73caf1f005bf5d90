import type { Logger } from 'pino';
import { difficultyToWork } from '../protocol/target.js';
import type { GatewayConfig } from './config.js';
import type { Ledger } from './ledger/ledger.js';
import type { Metrics } from './metrics.js';
import type { PoolStats } from './pool-stats.js';
import type { ExtranonceResume } from './stratum/extranonce-resume.js';
import { extranonceAllocation } from './stratum/extranonce-refusals.js';
import { RowBudget } from './stratum/row-budget.js';
import type { StratumHub } from './stratum/hub.js';
import type { SessionContext } from './stratum/session-context.js';
import type { JobManager } from './work/job-manager.js';
import type { WorkSource } from './work/work-source.js';

export interface GatewaySessionParts {
  config: GatewayConfig;
  source: WorkSource;
  jobs: JobManager;
  /** What sessions write shares to. */
  ledger: Ledger;
  extranonces: ExtranonceResume;
  stats: PoolStats;
  metrics: Metrics;
  log: Logger;
  /** The hub the sessions live in (it is built from this context, so it is looked up late). */
  hub(): StratumHub;
  forward: SessionContext['forward'];
}

/** The session context with the last ledger failure, which /healthz reports while it lasts. */
export interface GatewaySessionContext extends SessionContext {
  readonly ledgerError: string | undefined;
}

/** What this gateway's Stratum sessions see: its parts, its config's policy, and its counters. */
export function gatewaySessionContext(parts: GatewaySessionParts): GatewaySessionContext {
  const { config, source, extranonces, stats, metrics, log } = parts;
  let ledgerError: string | undefined;
  const limitLog = new OncePerInterval(LIMIT_LOG_INTERVAL_MS);
  const rowBudget = new RowBudget(config.rowsPerSecondPerIp);
  return {
    jobs: parts.jobs,
    ledger: parts.ledger,
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
    limits: { maxIdentitiesPerSession: config.maxIdentitiesPerSession, authorizationsPerMinute: config.authorizationsPerMinute, suggestIntervalSeconds: config.suggestIntervalSeconds },
    now: Date.now,
    onLimitHit(session, limit) {
      metrics.limitHits.inc({ limit });
      const ip = session.connection.remoteAddress;
      // A flood would otherwise write a log line per message: one line per address and limit per interval.
      if (limitLog.first(`${limit} ${ip}`, Date.now())) log.warn({ ip, session: session.connection.id, limit }, 'limit hit (logged once per address per minute)');
    },
    get ledgerError() {
      return ledgerError;
    },
    allocateExtranonce: extranonceAllocation({ extranonces, log, onRefusal: () => metrics.extranonceRefusals.inc() }),
    onAuthorized(session, identity) {
      log.debug({ session: session.connection.id, member: identity.member, worker: identity.worker }, 'worker authorized');
      parts.hub().countIdentity(identity.member, session.connection.id);
    },
    rowBudget: (session, nowMs) => rowBudget.onShare(session.connection.remoteAddress, nowMs),
    onShareAccepted(_session, share) {
      ledgerError = undefined;
      const work = difficultyToWork(share.difficulty);
      stats.accept(work);
      metrics.sharesAccepted.inc();
      metrics.workAccepted.inc(work);
      metrics.shareAckSeconds.observe((Date.now() - share.nowMs) / 1000);
    },
    onShareRejected(session, reason, fault) {
      stats.reject(reason);
      metrics.sharesRejected.inc({ reason: reasonLabel(reason) });
      if (fault === 'pool') ledgerError = reason;
      else parts.hub().strike(session.connection, fault);
    },
    forward: parts.forward,
    onDifficultySent: (difficulty) => metrics.difficultySent.observe(difficulty),
    onSessionClosed: (session) => extranonces.hold(session.subscriptionId, session.extranonce, session.connection.remoteAddress),
  };
}

const LIMIT_LOG_INTERVAL_MS = 60_000;

/** Says yes to the first of each key per interval; forgets everything each interval so it stays small. */
class OncePerInterval {
  private readonly seen = new Set<string>();
  private windowStartMs = -Infinity;
  constructor(private readonly intervalMs: number) {}
  first(key: string, nowMs: number): boolean {
    if (nowMs - this.windowStartMs >= this.intervalMs) {
      this.windowStartMs = nowMs;
      this.seen.clear();
    }
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
}

/** Rejection reasons as metric labels: the fixed part only (no numbers), so the label set stays small. */
function reasonLabel(reason: string): string {
  return reason.replace(/\(.*\)/, '').replace(/[0-9.]+/g, 'N').trim().slice(0, 48);
}
