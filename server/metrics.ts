import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** The gateway's Prometheus metrics, in a registry of its own (several gateways in one test process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dao_gateway_' });
  return {
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
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
