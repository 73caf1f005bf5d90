import type { SettlementObserver } from './settlement/settlement.js';
import type { LimitName } from './stratum/session-context.js';
import { collectDefaultMetrics, Counter, exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics, in a registry of its own (several gateways in one test process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dao_gateway_' });
  const metrics = {
    registry,
    sharesAccepted: new Counter({ name: 'dao_gateway_shares_accepted_total', help: 'Shares accepted and recorded', registers: [registry] }),
    workAccepted: new Counter({ name: 'dao_gateway_work_accepted_total', help: 'Expected hashes credited (difficulty * 2^32 per share)', registers: [registry] }),
    sharesRejected: new Counter({ name: 'dao_gateway_shares_rejected_total', help: 'Shares refused, by reason', labelNames: ['reason'], registers: [registry] }),
    bans: new Counter({ name: 'dao_gateway_bans_total', help: 'Bans: of one connection (scope="connection", by what it did) or of an address (scope="address")', labelNames: ['scope', 'reason'], registers: [registry] }),
    limitHits: new Counter({ name: 'dao_limit_hits_total', help: 'Requests refused by a per-session limit (identities, authorize_rate, suggest_rate, row_budget)', labelNames: ['limit'], registers: [registry] }),
    blocksFound: new Counter({ name: 'dao_gateway_blocks_found_total', help: 'Shares that met the network target', labelNames: ['accepted'], registers: [registry] }),
    upstreamShares: new Counter({ name: 'dao_gateway_upstream_shares_total', help: 'Shares forwarded to the upstream pool', labelNames: ['accepted'], registers: [registry] }),
    connections: new Gauge({ name: 'dao_gateway_connections', help: 'Open Stratum connections', registers: [registry] }),
    miners: new Gauge({ name: 'dao_gateway_miners', help: 'Distinct members mining now', registers: [registry] }),
    hashrate: new Gauge({ name: 'dao_gateway_hashes_per_second', help: 'Pool hash rate from accepted work, last 10 minutes', registers: [registry] }),
    extranonceRefusals: new Counter({ name: 'dao_gateway_extranonce_refusals_total', help: 'Subscribes refused with "pool full": every extranonce1 of this instance in use', registers: [registry] }),
    extranonceCapacity: new Gauge({ name: 'dao_gateway_extranonce_capacity', help: 'Sessions this instance can serve at once (extranonce1 prefixes of its partition)', registers: [registry] }),
    extranonceInUse: new Gauge({ name: 'dao_gateway_extranonce_in_use', help: 'Extranonce1 prefixes taken: live sessions plus held for resume', registers: [registry] }),
    extranonceHeld: new Gauge({ name: 'dao_gateway_extranonce_held', help: 'Extranonce1 prefixes of dropped sessions held for their resume', registers: [registry] }),
    httpConnectionsRefused: new Counter({ name: 'dao_gateway_http_connections_refused_total', help: 'HTTP-port connections closed on arrival: over the per-address cap (--http-connections-per-ip)', labelNames: ['reason'], registers: [registry] }),
    httpTimeouts: new Counter({ name: 'dao_gateway_http_timeouts_total', help: 'HTTP connections closed by a timeout: headers, request or idle', labelNames: ['kind'], registers: [registry] }),
    badRequests: new Counter({ name: 'dao_gateway_http_bad_requests_total', help: 'HTTP requests answered 400 for a malformed URL or percent-encoding', registers: [registry] }),
    proxyHeadersRejected: new Counter({ name: 'dao_gateway_proxy_headers_rejected_total', help: 'Stratum TCP connections from a trusted proxy closed for a malformed or missing PROXY header', labelNames: ['reason'], registers: [registry] }),
    jobs: new Gauge({ name: 'dao_gateway_jobs', help: 'Jobs a share may still name: issued plus derived for retargets (shared per job, ntime and difficulty)', registers: [registry] }),
    sourceConnected: new Gauge({ name: 'dao_gateway_work_source_connected', help: '1 when the work source has live work', registers: [registry] }),
    healthProblems: new Gauge({ name: 'dao_gateway_health_problems', help: 'Problems /healthz reports now (0: ok; more: degraded)', registers: [registry] }),
    connectionsByTransport: new Gauge({ name: 'dao_gateway_connections_by_transport', help: 'Open Stratum connections by transport (tcp, ws)', labelNames: ['transport'], registers: [registry] }),
    // Browser miners sit near 2^-10, ASICs up to 2^40: a bucket per factor of 4 covers both in 26.
    difficultySent: new Histogram({ name: 'dao_gateway_vardiff_difficulty', help: 'Difficulty sent to a miner: the first after authorize, each retarget and accepted suggestion', buckets: exponentialBuckets(2 ** -10, 4, 26), registers: [registry] }),
    ledgerCommitSeconds: new Histogram({ name: 'dao_gateway_ledger_commit_seconds', help: 'Wall time of one ledger group-commit transaction (SQLite writer or PostgreSQL round trip), fsync included', buckets: exponentialBuckets(0.0005, 2, 14), registers: [registry] }),
    shareAckSeconds: new Histogram({ name: 'dao_gateway_share_ack_seconds', help: 'From a verified share to its durable ledger record, after which the miner is answered at once (ms resolution)', buckets: exponentialBuckets(0.001, 2, 13), registers: [registry] }),
    ledgerCommitFailures: new Counter({ name: 'dao_gateway_ledger_commit_failures_total', help: 'Ledger transactions that failed as a whole (every record of the batch refused)', registers: [registry] }),
    ledgerCommitBatch: new Histogram({ name: 'dao_gateway_ledger_commit_batch_size', help: 'Records in one ledger group-commit transaction', buckets: exponentialBuckets(1, 2, 12), registers: [registry] }),
    epochsClosed: new Counter({ name: 'dao_gateway_epochs_closed_total', help: 'Epochs this gateway closed (as the settlement leader)', registers: [registry] }),
    epochsPublished: new Counter({ name: 'dao_gateway_epochs_published_total', help: 'Epoch roots this gateway recorded as published on-chain', registers: [registry] }),
    epochCloseFailures: new Counter({ name: 'dao_gateway_epoch_close_failures_total', help: 'Epoch closes that failed (the shares stay pending for the next try)', registers: [registry] }),
    lastClosedEpoch: new Gauge({ name: 'dao_gateway_last_closed_epoch', help: 'Number of the last epoch this gateway closed', registers: [registry] }),
    lastPublishedEpoch: new Gauge({ name: 'dao_gateway_last_published_epoch', help: 'Number of the last epoch root this gateway recorded as published', registers: [registry] }),
    epochCloseSeconds: new Histogram({ name: 'dao_gateway_epoch_close_seconds', help: 'Duration of an epoch close: snapshot, tree built in the worker, epoch row stored', buckets: exponentialBuckets(0.01, 2, 14), registers: [registry] }),
    upstreamSubmitSeconds: new Histogram({ name: 'dao_gateway_upstream_submit_seconds', help: 'Forwarded share or block: submit to the work source until its answer', buckets: exponentialBuckets(0.005, 2, 12), registers: [registry] }),
  };
  // Known label sets start at 0, so a rate() over them works from the first scrape and dashboards see every series.
  for (const limit of LIMIT_NAMES) metrics.limitHits.inc({ limit }, 0);
  return metrics;
}

const LIMIT_NAMES: readonly LimitName[] = ['identities', 'authorize_rate', 'suggest_rate', 'row_budget'];

export type Metrics = ReturnType<typeof createMetrics>;

/** The settlement's closes and publishes, as counters, gauges and the close-duration histogram. */
export function settlementObserver(metrics: Metrics): SettlementObserver {
  // Epochs found published on-chain after a restart may come in any order: the gauge keeps the highest.
  let lastPublished = 0;
  return {
    closed(epoch, durationMs) {
      metrics.epochsClosed.inc();
      metrics.lastClosedEpoch.set(epoch);
      metrics.epochCloseSeconds.observe(durationMs / 1000);
    },
    closeFailed: () => metrics.epochCloseFailures.inc(),
    published(epoch) {
      metrics.epochsPublished.inc();
      lastPublished = Math.max(lastPublished, epoch);
      metrics.lastPublishedEpoch.set(lastPublished);
    },
  };
}
