import type { Logger } from 'pino';
import { registerInstance } from '../instance-registry.js';
import type { PgLedger } from '../ledger/pg/pg-ledger.js';
import { PgRelayStorage, preparePgRelayer } from '../relayer/pg-request-store.js';
import { PgLeaderElection } from '../settlement/leader.js';
import { preparePgSettlement } from '../settlement/pg-schema.js';
import { PgSettlementStore } from '../settlement/pg-settlement-store.js';
import { publishedLeavesOf } from '../settlement/published-leaves.js';
import type { Backend } from './backend.js';

/**
 * A PostgreSQL database shared by several gateways: each registers its instance id, the
 * settlement and the relayer migrate their own tables, and the gateways elect one leader.
 */
export class PgBackend implements Backend {
  /** One store for the settlement and the relayer: they share its cache of epoch trees. */
  private store: Promise<PgSettlementStore> | undefined;

  constructor(
    readonly ledger: PgLedger,
    private readonly instanceId: number,
  ) {}

  get label(): string {
    return this.ledger.label;
  }

  registerInstance(log: Logger) {
    return registerInstance(this.ledger.pool, { instanceId: this.instanceId, where: this.ledger.label, log });
  }

  settlementStore(log: Logger): Promise<PgSettlementStore> {
    this.store ??= preparePgSettlement(this.ledger.pool, log).then(() => new PgSettlementStore(this.ledger.pool));
    // A failed preparation is not kept: the next call tries again.
    this.store.catch(() => (this.store = undefined));
    return this.store;
  }

  async relayStorage(log: Logger) {
    const settlement = await this.settlementStore(log);
    await preparePgRelayer(this.ledger.pool, log);
    return new PgRelayStorage(this.ledger.pool, publishedLeavesOf(settlement));
  }

  leadership({ log, retryMs }: { log: Logger; retryMs?: number }) {
    return new PgLeaderElection({ pool: this.ledger.pool, log, retryMs, applicationName: `dao-settlement-leader-${this.instanceId}` });
  }

  close(): Promise<void> {
    return this.ledger.close();
  }
}
