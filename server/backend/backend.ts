import type { Logger } from 'pino';
import type { InstanceRegistration } from '../instance-registry.js';
import type { Ledger } from '../ledger/ledger.js';
import type { RelayStorage } from '../relayer/request-store.js';
import type { Leadership } from '../settlement/leader.js';
import type { SettlementStorage } from '../settlement/settlement-store.js';

/**
 * Everything that depends on where the ledger lives: a SQLite file that one gateway owns
 * (sqlite-backend.ts), or a PostgreSQL database that several gateways share (pg-backend.ts).
 * The rest of the gateway asks this object, never which database it is.
 */
export interface Backend {
  /** Where the ledger lives, for logs: the file, or the URL without its password. */
  readonly label: string;
  readonly ledger: Ledger;
  /**
   * Claims this gateway's instance id (its extranonce1 partition) before any miner connects:
   * gateways sharing a ledger must have distinct ids. Stop the registration on shutdown.
   */
  registerInstance(log: Logger): Promise<InstanceRegistration>;
  /** The settlement's epochs, their tables brought up to date. */
  settlementStore(log: Logger): Promise<SettlementStorage>;
  /** The relayer's requests, their table brought up to date. */
  relayStorage(log: Logger): Promise<RelayStorage>;
  /**
   * Who closes epochs, publishes and relays, not yet started (the settlement starts and stops it).
   * `retryMs`: how often a follower tries to become the leader, where there is an election.
   */
  leadership(options: { log: Logger; retryMs?: number }): Leadership;
  /** Closes the ledger. */
  close(): Promise<void>;
}
