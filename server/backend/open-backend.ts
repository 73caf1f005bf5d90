import { join } from 'node:path';
import { redact, type GatewayConfig } from '../config.js';
import { openPgLedger } from '../ledger/pg/pg-ledger.js';
import { openSqliteLedger } from '../ledger/sqlite-ledger.js';
import type { Backend } from './backend.js';
import { PgBackend } from './pg-backend.js';
import { SqliteBackend } from './sqlite-backend.js';

type LedgerConfig = Pick<GatewayConfig, 'ledger' | 'dataDir' | 'ledgerSynchronous' | 'instanceId'>;

/**
 * Opens the ledger the config names, `sqlite` (one gateway's file) or a shared PostgreSQL
 * database, and with it everything else that depends on that choice (backend.ts).
 */
export async function openBackend(config: LedgerConfig, logger: { warn(obj: object, msg: string): void }): Promise<Backend> {
  if (/^postgres(ql)?:\/\//i.test(config.ledger)) {
    return new PgBackend(await openPgLedger(config.ledger, { instanceId: config.instanceId, logger }), config.instanceId);
  }
  if (config.ledger !== 'sqlite') throw new Error(`ledger must be sqlite or a postgres:// URL, got ${JSON.stringify(redact(config.ledger))}`);
  const file = join(config.dataDir, 'ledger.sqlite');
  const ledger = openSqliteLedger(file, { synchronous: config.ledgerSynchronous, logger });
  try {
    // A writer thread that cannot open the file would refuse every share: better not to start.
    await ledger.ready();
  } catch (error) {
    await ledger.close();
    throw error;
  }
  return new SqliteBackend(ledger, file, config.instanceId);
}
