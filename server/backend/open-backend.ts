import { join } from 'node:path';
import { redact, type GatewayConfig } from '../config.js';
import { openPgLedger, type PgLedger } from './pg/pg-ledger.js';
import { openSqliteLedger, type SqliteLedger } from './sqlite-ledger.js';

/** Opens the ledger the config names: `sqlite` (one gateway's file) or a shared PostgreSQL database. */

export type GatewayLedger = SqliteLedger | PgLedger;

type LedgerConfig = Pick<GatewayConfig, 'ledger' | 'dataDir' | 'ledgerSynchronous' | 'instanceId'>;

export function isPostgresLedger(config: Pick<GatewayConfig, 'ledger'>): boolean {
  return /^postgres(ql)?:\/\//i.test(config.ledger);
}

/** Where the ledger lives, for logs: the file, or the URL without its password. */
export function describeLedger(config: LedgerConfig): string {
  return isPostgresLedger(config) ? redact(config.ledger) : sqliteFile(config);
}

export async function openLedger(config: LedgerConfig, logger: { warn(obj: object, msg: string): void }): Promise<GatewayLedger> {
  if (isPostgresLedger(config)) return openPgLedger(config.ledger, { instanceId: config.instanceId, logger });
  if (config.ledger !== 'sqlite') throw new Error(`ledger must be sqlite or a postgres:// URL, got ${JSON.stringify(redact(config.ledger))}`);
  const ledger = openSqliteLedger(sqliteFile(config), { synchronous: config.ledgerSynchronous, logger });
  try {
    // A writer thread that cannot open the file would refuse every share: better not to start.
    await ledger.ready();
  } catch (error) {
    await ledger.close();
    throw error;
  }
  return ledger;
}

function sqliteFile(config: Pick<GatewayConfig, 'dataDir'>): string {
  return join(config.dataDir, 'ledger.sqlite');
}
