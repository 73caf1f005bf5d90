import type { Logger } from 'pino';
import type { DaoChain } from './chain/open-chain.js';
import type { GatewayConfig } from './config.js';
import type { Ledger } from './ledger/ledger.js';
import type { Metrics } from './metrics.js';
import type { PoolStats } from './pool-stats.js';
import type { Relayer } from './relayer/relayer.js';
import type { Settlement } from './settlement/settlement.js';
import type { StratumHub } from './stratum/hub.js';
import type { JobManager } from './work/job-manager.js';
import type { WorkSource } from './work/work-source.js';

/** What the HTTP API reads of a running gateway. */
export interface GatewayView {
  readonly config: GatewayConfig;
  readonly source: WorkSource;
  readonly jobs: JobManager;
  readonly hub: StratumHub;
  readonly ledger: Ledger;
  readonly stats: PoolStats;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** The built web app's folder, when there is one to serve. */
  readonly webRoot: string | undefined;
  /** The last ledger failure while it lasts: the gateway refuses shares rather than lose them. */
  readonly ledgerError: string | undefined;
  /** Set while another gateway holds this one's instance id on a shared ledger (shares are refused). */
  readonly instanceProblem: string | undefined;
  /** The settlement chain, the epoch settlement and the relayer; absent without --chain-rpc. */
  readonly chain?: DaoChain;
  readonly settlement?: Settlement;
  readonly relayer?: Relayer;
  refreshGauges(): void;
}
