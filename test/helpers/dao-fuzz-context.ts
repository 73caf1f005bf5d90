// What every fuzz action of the DAO contracts works with: the chain, a fresh deployment, the
// seeded random source, the model, and a trace of what was done (printed with the seed on failure).
import type { Contract, Wallet } from 'ethers';
import type { DaoContracts, DaoDeployment } from '../../server/chain/deploy.js';
import type { TestChain } from './chain.js';
import type { DistributorModel, GovernorModel } from './dao-model.js';
import type { Rng } from './fuzz-rng.js';

export interface FuzzContext {
  rng: Rng;
  chain: TestChain;
  d: DaoDeployment;
  /** Connected to the deployer, who is also the publisher. */
  c: DaoContracts;
  /** Read-only, through a provider that sends concurrent calls as one JSON-RPC batch: the per-step checks make many. */
  reads: DaoContracts;
  /** Accounts that get leaves. */
  members: Wallet[];
  /** Submits claims, ballots and proposals for others. */
  relayer: Wallet;
  /** Never has a leaf. */
  outsider: Wallet;
  dist: DistributorModel;
  gov: GovernorModel;
  trace: string[];
  /** Proposals an action touched, for the per-step checks. */
  touched: Set<bigint>;
  memberWallet(address: string): Wallet | undefined;
  /** `contract` with `wallet` as the sender. */
  as<T extends Contract>(contract: T, wallet: Wallet): T;
  /** The timestamp of the latest block: calls and the next transaction run at or just after it. */
  now(): Promise<bigint>;
}
