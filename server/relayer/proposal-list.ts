// The governor's proposals and the treasury's history as the gateway's API lists them: protocol/dao/proposals.ts reads them,
// over the gateway's fresh reads and its node's head (latestBlock refuses a stale node).
import type { Contract, JsonRpcProvider } from 'ethers';
import { ProposalReader, type GovernorReads } from '../../protocol/dao/proposals.js';
import { TreasuryReader, type TreasuryLog } from '../../protocol/dao/treasury.js';
import { latestBlock } from './chain-errors.js';

export function governorReads(governor: Contract, provider: JsonRpcProvider): GovernorReads {
  return {
    call: (method, ...args) => governor.getFunction(method)(...args),
    headBlock: async () => (await latestBlock(provider)).number,
    proposalCreatedLogs: (from, to) => governor.queryFilter(governor.getEvent('ProposalCreated'), from, to),
  };
}

/** The gateway's reader; it keeps the descriptions it has read for the gateway's lifetime. */
export class ProposalCatalog extends ProposalReader {
  constructor(governor: Contract, provider: JsonRpcProvider, deployBlock: number) {
    super(governorReads(governor, provider), deployBlock);
  }
}

/** The gateway's treasury reader (GET /api/treasury); it keeps the history it has read. */
export class TreasuryCatalog extends TreasuryReader {
  constructor(treasury: Contract, distributor: Contract, provider: JsonRpcProvider, deployBlock: number) {
    super(
      {
        address: String(treasury.target),
        balance: () => treasury.getFunction('balance')() as Promise<bigint>,
        headBlock: async () => (await latestBlock(provider)).number,
        rootPublishedLogs: (from, to) => distributor.queryFilter(distributor.getEvent('RootPublished'), from, to) as Promise<TreasuryLog[]>,
        paidLogs: (from, to) => treasury.queryFilter(treasury.getEvent('Paid'), from, to) as Promise<TreasuryLog[]>,
      },
      deployBlock,
    );
  }
}
