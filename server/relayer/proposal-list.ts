// The governor's proposals as the gateway UI and tests read them. The chain is the record; only
// descriptions (which live in ProposalCreated events, not in storage) are cached, since they never
// change once emitted.
import type { Contract, EventLog, JsonRpcProvider } from 'ethers';
import { latestBlock } from './chain-errors.js';

export type ProposalState = 'active' | 'defeated' | 'succeeded' | 'executed';
const STATES: readonly ProposalState[] = ['active', 'defeated', 'succeeded', 'executed'];

/** Blocks per eth_getLogs call: public RPCs refuse wide ranges. */
const LOG_CHUNK_BLOCKS = 10_000;

export interface ProposalSummary {
  id: bigint;
  proposer: string;
  kind: number;
  epoch: bigint;
  parameter: string;
  value: bigint;
  /** null when the ProposalCreated event was not found (e.g. a node that pruned its logs). */
  description: string | null;
  voteEnd: bigint;
  quorumWork: bigint;
  forWork: bigint;
  againstWork: bigint;
  abstainWork: bigint;
  state: ProposalState;
}

interface OnChainProposal {
  proposer: string;
  kind: bigint;
  epoch: bigint;
  voteEnd: bigint;
  parameter: string;
  value: bigint;
  quorumWork: bigint;
  forWork: bigint;
  againstWork: bigint;
  abstainWork: bigint;
}

export class ProposalCatalog {
  private readonly descriptions = new Map<bigint, string>();
  /** The last block whose ProposalCreated events are in `descriptions`. */
  private scannedTo: number;

  constructor(
    private readonly governor: Contract,
    private readonly provider: JsonRpcProvider,
    deployBlock: number,
  ) {
    this.scannedTo = deployBlock - 1;
  }

  /** Every proposal, oldest first. */
  async list(): Promise<ProposalSummary[]> {
    const count = Number((await this.governor.getFunction('proposalCount')()) as bigint);
    const ids = Array.from({ length: count }, (_, i) => BigInt(i + 1));
    if (ids.some((id) => !this.descriptions.has(id))) await this.scanDescriptions();
    return Promise.all(ids.map((id) => this.read(id)));
  }

  private async read(id: bigint): Promise<ProposalSummary> {
    const [p, state] = (await Promise.all([this.governor.getFunction('getProposal')(id), this.governor.getFunction('state')(id)])) as [OnChainProposal, bigint];
    return {
      id,
      proposer: p.proposer,
      kind: Number(p.kind),
      epoch: p.epoch,
      parameter: p.parameter,
      value: p.value,
      description: this.descriptions.get(id) ?? null,
      voteEnd: p.voteEnd,
      quorumWork: p.quorumWork,
      forWork: p.forWork,
      againstWork: p.againstWork,
      abstainWork: p.abstainWork,
      state: STATES[Number(state)] ?? 'active',
    };
  }

  private async scanDescriptions(): Promise<void> {
    const latest = (await latestBlock(this.provider)).number;
    const filter = this.governor.filters['ProposalCreated']!();
    for (let from = this.scannedTo + 1; from <= latest; from += LOG_CHUNK_BLOCKS) {
      const to = Math.min(latest, from + LOG_CHUNK_BLOCKS - 1);
      for (const event of await this.governor.queryFilter(filter, from, to)) {
        const args = (event as EventLog).args;
        if (args) this.descriptions.set(args[0] as bigint, args[8] as string);
      }
      // Advanced chunk by chunk, so a failure midway keeps what was read.
      this.scannedTo = to;
    }
  }
}
