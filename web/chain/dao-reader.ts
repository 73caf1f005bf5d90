// Reads the DAO straight from the chain, through the RPC URL the gateway names: epoch roots,
// claims, balances, proposals and votes. Nothing here signs or sends; the page can read before the
// member has consented to anything.
import { Contract, JsonRpcProvider, ZeroHash } from 'ethers';
import { REINVESTMENT_BPS_PARAMETER } from '../../protocol/dao/index.js';
import { DISTRIBUTOR_ABI, GOVERNOR_ABI, TOKEN_ABI } from './abi.js';
import type { ChainConfig } from './chain-config.js';

export interface EpochRoot {
  epoch: number;
  /** ZeroHash when the epoch was never published. */
  root: string;
  totalWork: bigint;
  reward: bigint;
  /** Unix seconds; 0 when unpublished. */
  publishedAt: number;
}

/** WorkGovernor.State, by its uint8. */
export const PROPOSAL_STATES = ['Active', 'Defeated', 'Succeeded', 'Executed'] as const;
export type ProposalState = (typeof PROPOSAL_STATES)[number];

export interface Proposal {
  id: bigint;
  proposer: string;
  kind: number;
  epoch: number;
  /** Unix seconds, inclusive: votes are taken up to and including this second. */
  voteEnd: number;
  parameter: string;
  value: bigint;
  quorumWork: bigint;
  forWork: bigint;
  againstWork: bigint;
  abstainWork: bigint;
  state: ProposalState;
  description: string | undefined;
}

interface ProposalStruct {
  proposer: string;
  kind: bigint;
  epoch: bigint;
  voteEnd: bigint;
  executed: boolean;
  parameter: string;
  value: bigint;
  quorumWork: bigint;
  forWork: bigint;
  againstWork: bigint;
  abstainWork: bigint;
}

export class DaoReader {
  readonly provider: JsonRpcProvider;
  private readonly distributor: Contract;
  private readonly governor: Contract;
  private readonly token: Contract;
  /** Descriptions live only in ProposalCreated events: read once per proposal. */
  private readonly descriptions = new Map<bigint, string>();
  private scannedToBlock: number;

  constructor(readonly config: ChainConfig) {
    // The chain id comes from the gateway and staticNetwork skips the eth_chainId round trip;
    // chainId() below checks it once against the node.
    this.provider = new JsonRpcProvider(config.rpcUrl, config.chainId, { staticNetwork: true });
    this.distributor = new Contract(config.distributor, DISTRIBUTOR_ABI, this.provider);
    this.governor = new Contract(config.governor, GOVERNOR_ABI, this.provider);
    this.token = new Contract(config.token.address, TOKEN_ABI, this.provider);
    this.scannedToBlock = config.deployBlock - 1;
  }

  /** Throws when the node serves another chain than the gateway said: every later read would be meaningless. */
  async checkChain(): Promise<void> {
    const served = Number(await this.provider.send('eth_chainId', []));
    if (served !== this.config.chainId) throw new Error(`the RPC ${this.config.rpcUrl} serves chain ${served}, the gateway said ${this.config.chainId}`);
  }

  async latestEpoch(): Promise<number> {
    return Number(await this.call<bigint>(this.distributor, 'latestEpoch'));
  }

  async epochRoot(epoch: number): Promise<EpochRoot> {
    const e = await this.call<{ root: string; totalWork: bigint; reward: bigint; publishedAt: bigint }>(this.distributor, 'epochs', epoch);
    return { epoch, root: e.root, totalWork: e.totalWork, reward: e.reward, publishedAt: Number(e.publishedAt) };
  }

  claimed(account: string): Promise<bigint> {
    return this.call<bigint>(this.distributor, 'claimed', account);
  }

  balanceOf(account: string): Promise<bigint> {
    return this.call<bigint>(this.token, 'balanceOf', account);
  }

  hasVoted(proposalId: bigint, voter: string): Promise<boolean> {
    return this.call<boolean>(this.governor, 'hasVoted', proposalId, voter);
  }

  /** The proposer's EIP-712 nonce: part of the next ProposalRequest they sign. */
  nonce(proposer: string): Promise<bigint> {
    return this.call<bigint>(this.governor, 'nonces', proposer);
  }

  /** The reinvested share of each epoch's reward now, in basis points. */
  async reinvestmentBps(): Promise<number> {
    return Number(await this.call<bigint>(this.governor, 'parameters', REINVESTMENT_BPS_PARAMETER));
  }

  /** The chain's own clock (voting periods end by it, and a test chain may run ahead of the wall). */
  async chainTime(): Promise<number> {
    const block = await this.provider.getBlock('latest');
    return block ? block.timestamp : Math.floor(Date.now() / 1000);
  }

  /** Every proposal, newest first, with tallies, state and description. */
  async proposals(): Promise<Proposal[]> {
    const count = await this.call<bigint>(this.governor, 'proposalCount');
    const ids: bigint[] = [];
    for (let id = count; id >= 1n; id--) ids.push(id);
    if (ids.some((id) => !this.descriptions.has(id))) await this.scanDescriptions();
    return Promise.all(
      ids.map(async (id) => {
        const [p, state] = await Promise.all([this.call<ProposalStruct>(this.governor, 'getProposal', id), this.call<bigint>(this.governor, 'state', id)]);
        return {
          id,
          proposer: p.proposer,
          kind: Number(p.kind),
          epoch: Number(p.epoch),
          voteEnd: Number(p.voteEnd),
          parameter: p.parameter,
          value: p.value,
          quorumWork: p.quorumWork,
          forWork: p.forWork,
          againstWork: p.againstWork,
          abstainWork: p.abstainWork,
          state: PROPOSAL_STATES[Number(state)] ?? 'Active',
          description: this.descriptions.get(id),
        };
      }),
    );
  }

  destroy(): void {
    this.provider.destroy();
  }

  /** ProposalCreated events since the last scan (from the deployment block the first time). */
  private async scanDescriptions(): Promise<void> {
    const head = await this.provider.getBlockNumber();
    if (head <= this.scannedToBlock) return;
    const events = await this.governor.queryFilter(this.governor.getEvent('ProposalCreated'), this.scannedToBlock + 1, head);
    for (const event of events) {
      if (!('args' in event)) continue;
      this.descriptions.set(event.args.getValue('proposalId') as bigint, event.args.getValue('description') as string);
    }
    this.scannedToBlock = head;
  }

  private async call<T>(contract: Contract, method: string, ...args: unknown[]): Promise<T> {
    return (await contract.getFunction(method).staticCall(...args)) as T;
  }
}

export function isPublished(root: EpochRoot): boolean {
  return root.root !== ZeroHash;
}
