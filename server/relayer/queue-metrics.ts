import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { RelayStorage } from './request-store.js';

const KINDS = ['vote', 'claim', 'proposal'] as const;
const STATUSES = ['queued', 'sent'] as const;

/**
 * dao_gateway_relay_queue_depth{kind,status}: requests waiting in the relayer's table, counted on
 * each scrape (one grouped COUNT; the table holds only requests, never shares). Every kind and
 * status is set, zeros included, so a drained queue reads 0 rather than its last value.
 */
export function relayQueueGauge(store: RelayStorage, registry: Registry, log: Logger): Gauge<'kind' | 'status'> {
  const gauge: Gauge<'kind' | 'status'> = new Gauge({
    name: 'dao_gateway_relay_queue_depth',
    help: 'Relay requests waiting, by kind (vote, claim, proposal) and status (queued, sent)',
    labelNames: ['kind', 'status'],
    registers: [registry],
    async collect() {
      try {
        const rows = await store.depth();
        for (const kind of KINDS) for (const status of STATUSES) gauge.set({ kind, status }, rows.find((r) => r.kind === kind && r.status === status)?.count ?? 0);
      } catch (err) {
        // A scrape must not fail for a database hiccup: the gauge keeps its last values.
        log.warn({ err }, 'relay queue depth: counting failed');
      }
    },
  });
  return gauge;
}
