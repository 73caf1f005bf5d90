import { soleInstance } from '../instance-registry.js';
import type { SqliteLedger } from '../ledger/sqlite-ledger.js';
import { SqliteRelayStorage } from '../relayer/sqlite-relay-storage.js';
import { alwaysLeader } from '../settlement/leader.js';
import { SqliteSettlementStore } from '../settlement/sqlite-settlement-store.js';
import type { Backend } from './backend.js';

/**
 * One gateway's SQLite file: the settlement and the relayer keep their tables in it (created with
 * the ledger's migrations), nobody else can hold this instance id, and this gateway always leads.
 */
export class SqliteBackend implements Backend {
  constructor(
    readonly ledger: SqliteLedger,
    readonly label: string,
    private readonly instanceId: number,
  ) {}

  async registerInstance() {
    return soleInstance(this.instanceId);
  }

  async settlementStore() {
    return new SqliteSettlementStore(this.ledger.db);
  }

  async relayStorage() {
    return new SqliteRelayStorage(this.ledger.db);
  }

  leadership() {
    return alwaysLeader();
  }

  close(): Promise<void> {
    return this.ledger.close();
  }
}
