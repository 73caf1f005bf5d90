import { soleInstance } from '../instance-registry.js';
import type { SqliteLedger } from '../ledger/sqlite-ledger.js';
import { SqliteRelayStorage } from '../relayer/sqlite-relay-storage.js';
import { alwaysLeader } from '../settlement/leader.js';
import { publishedLeavesOf } from '../settlement/published-leaves.js';
import { SqliteSettlementStore } from '../settlement/sqlite-settlement-store.js';
import type { Backend } from './backend.js';

/**
 * One gateway's SQLite file: the settlement and the relayer keep their tables in it (created with
 * the ledger's migrations), nobody else can hold this instance id, and this gateway always leads.
 */
export class SqliteBackend implements Backend {
  /** One store for the settlement and the relayer: they share its cache of epoch trees. */
  private store: SqliteSettlementStore | undefined;

  constructor(
    readonly ledger: SqliteLedger,
    readonly label: string,
    private readonly instanceId: number,
  ) {}

  async registerInstance() {
    return soleInstance(this.instanceId);
  }

  async settlementStore() {
    return (this.store ??= new SqliteSettlementStore(this.ledger.db));
  }

  async relayStorage() {
    return new SqliteRelayStorage(this.ledger.db, publishedLeavesOf(await this.settlementStore()));
  }

  leadership() {
    return alwaysLeader();
  }

  close(): Promise<void> {
    return this.ledger.close();
  }
}
