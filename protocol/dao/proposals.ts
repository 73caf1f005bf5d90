// The governor's proposals as everything reads them: the gateway's API, the page and the tests get
// the same ProposalView from ProposalReader. The reader does no I/O itself: it is handed a
// GovernorReads (a few lines over an ethers Contract, one on each side), so it stays pure and
// serves Node and the browser alike.
//
// One representation: every uint of the contract is a bigint here (decimal strings on the wire,
// see protocol/api.ts), kind is the ProposalKind uint8, state is a lower-case name, a description
// that was not found is null, and proposals come in id order (oldest first).
import { ChunkedLogScan, LOG_CHUNK_BLOCKS } from './log-scan.js';
import type { ProposalKind } from './typed-data.js';

export { LOG_CHUNK_BLOCKS };

/**
 * WorkGovernor.State, by its uint8. A passed proposal is `succeeded` until executed (`executed`), its
 * execution window closes (`expired`), or a later proposal on the same parameter is applied first
 * (`superseded`).
 */
export const PROPOSAL_STATES = ['active', 'defeated', 'succeeded', 'executed', 'expired', 'superseded'] as const;
export type ProposalState = (typeof PROPOSAL_STATES)[number];

export interface ProposalView {
  id: bigint;
  proposer: string;
  kind: ProposalKind;
  epoch: bigint;
  /** Unix seconds, inclusive: votes are taken up to and including this second. */
  voteEnd: bigint;
  /** Unix seconds, inclusive: the last second at which a passed proposal can be executed. */
  executableUntil: bigint;
  parameter: string;
  value: bigint;
  quorumWork: bigint;
  forWork: bigint;
  againstWork: bigint;
  abstainWork: bigint;
  state: ProposalState;
  /** null when the ProposalCreated event was not found (e.g. a node that pruned its logs). */
  description: string | null;
}

/**
 * A ProposalCreated log as ethers' queryFilter returns it (an EventLog, or a bare Log it could not
 * decode). Declared structurally: ethers' own types pull in @types/node, which protocol/ must not see.
 */
export interface ProposalCreatedLog {
  readonly blockNumber: number;
  readonly args?: { getValue(name: string): unknown };
}

/** WorkGovernor.getProposal's struct as ethers decodes it (the fields this view uses). */
export interface ProposalStruct extends Omit<ProposalView, 'id' | 'kind' | 'state' | 'description' | 'executableUntil'> {
  kind: bigint;
}

/** What the reader asks of the governor and its node. */
export interface GovernorReads {
  /** A view call on the governor, answered as ethers decodes it. */
  call(method: 'proposalCount' | 'getProposal' | 'state' | 'executionWindow', ...args: bigint[]): Promise<unknown>;
  /** The number of the chain's newest block. */
  headBlock(): Promise<number>;
  /** The governor's ProposalCreated logs in blocks [fromBlock, toBlock], as Contract.queryFilter returns them. */
  proposalCreatedLogs(fromBlock: number, toBlock: number): Promise<ReadonlyArray<ProposalCreatedLog>>;
}

export function proposalState(index: bigint | number): ProposalState {
  const state = PROPOSAL_STATES[Number(index)];
  // Another index means a governor with another ABI: better said than shown as a wrong state.
  if (state === undefined) throw new RangeError(`the governor answered state ${index}, which WorkGovernor does not have`);
  return state;
}

export function toProposalView(
  id: bigint,
  p: ProposalStruct,
  state: bigint | number,
  description: string | null | undefined,
  executionWindowSeconds: bigint,
): ProposalView {
  return {
    id,
    proposer: p.proposer,
    kind: Number(p.kind) as ProposalKind,
    epoch: p.epoch,
    voteEnd: p.voteEnd,
    executableUntil: p.voteEnd + executionWindowSeconds,
    parameter: p.parameter,
    value: p.value,
    quorumWork: p.quorumWork,
    forWork: p.forWork,
    againstWork: p.againstWork,
    abstainWork: p.abstainWork,
    state: proposalState(state),
    description: description ?? null,
  };
}

/**
 * Reads every proposal with its tally, state and description. Descriptions live only in
 * ProposalCreated events, never in storage, and never change once emitted: they are read once,
 * chunk by chunk from the deployment block, and kept.
 */
export class ProposalReader {
  private readonly descriptions = new Map<bigint, string>();
  /** WorkGovernor.executionWindow: immutable, read once. */
  private executionWindow: Promise<bigint> | undefined;
  /** The ProposalCreated events read so far are in `descriptions`. */
  private readonly scan: ChunkedLogScan;

  constructor(
    private readonly governor: GovernorReads,
    deployBlock: number,
    chunkBlocks = LOG_CHUNK_BLOCKS,
  ) {
    this.scan = new ChunkedLogScan(deployBlock, chunkBlocks);
  }

  /** Every proposal, oldest (id 1) first. */
  async list(): Promise<ProposalView[]> {
    const count = (await this.governor.call('proposalCount')) as bigint;
    const ids = Array.from({ length: Number(count) }, (_, i) => BigInt(i + 1));
    if (ids.some((id) => !this.descriptions.has(id))) await this.scanDescriptions();
    return Promise.all(ids.map((id) => this.read(id)));
  }

  private async read(id: bigint): Promise<ProposalView> {
    const [p, state, window] = await Promise.all([this.governor.call('getProposal', id), this.governor.call('state', id), this.executionWindowSeconds()]);
    return toProposalView(id, p as ProposalStruct, state as bigint, this.descriptions.get(id), window);
  }

  private executionWindowSeconds(): Promise<bigint> {
    const read = (this.executionWindow ??= this.governor.call('executionWindow') as Promise<bigint>);
    // A failed read is not kept: the next list tries again.
    read.catch(() => {
      if (this.executionWindow === read) this.executionWindow = undefined;
    });
    return read;
  }

  private async scanDescriptions(): Promise<void> {
    await this.scan.scanTo(await this.governor.headBlock(), async (from, to) => {
      for (const log of await this.governor.proposalCreatedLogs(from, to)) {
        if (!log.args) continue; // a log the governor's ABI could not decode
        this.descriptions.set(log.args.getValue('proposalId') as bigint, log.args.getValue('description') as string);
      }
    });
  }
}

/**
 * The state a proposal is in at chain time `nowSeconds` (see ChainClock). The contract's state() is
 * as of the latest block, and a chain that mines only on transactions (a local anvil, a quiet L2)
 * can leave that block minutes old: a vote that has ended would still read `active`. What only time
 * changes is derived here; executions and supersessions come from the contract. Transactions are
 * judged by the contract alone, at the block they land in.
 */
export function stateAtTime(p: ProposalView, nowSeconds: number): ProposalState {
  // Whole seconds, as block timestamps are: the next block may still carry voteEnd itself.
  const now = Math.floor(nowSeconds);
  if (p.state === 'active' && now > Number(p.voteEnd)) {
    const turnout = p.forWork + p.againstWork + p.abstainWork;
    if (turnout < p.quorumWork || p.forWork <= p.againstWork) return 'defeated';
    return now > Number(p.executableUntil) ? 'expired' : 'succeeded';
  }
  if (p.state === 'succeeded' && now > Number(p.executableUntil)) return 'expired';
  return p.state;
}

/** `proposals` with each state as of chain time `nowSeconds` (stateAtTime). */
export function atChainTime(proposals: readonly ProposalView[], nowSeconds: number): ProposalView[] {
  return proposals.map((p) => {
    const state = stateAtTime(p, nowSeconds);
    return state === p.state ? p : { ...p, state };
  });
}

/**
 * The chain's clock between blocks: the latest block's timestamp plus the wall time since that
 * block was first seen, and never earlier than an estimate already given. Seeing the same block
 * again does not restart its count (a poll that finds no new block must not freeze a countdown).
 */
export class ChainClock {
  private blockTimestampSeconds = -Infinity;
  private seenAtMs = 0;
  private highWaterSeconds = -Infinity;

  constructor(private readonly wallMs: () => number = Date.now) {}

  /** Records the latest block's timestamp as seen now. */
  observe(blockTimestampSeconds: number): void {
    if (blockTimestampSeconds <= this.blockTimestampSeconds) return;
    this.blockTimestampSeconds = blockTimestampSeconds;
    this.seenAtMs = this.wallMs();
  }

  /** Whether a block was observed yet. */
  get started(): boolean {
    return this.blockTimestampSeconds !== -Infinity;
  }

  /** Estimated chain time in (fractional) Unix seconds; NaN before the first observe(). */
  nowSeconds(): number {
    if (!this.started) return Number.NaN;
    const estimate = this.blockTimestampSeconds + Math.max(0, this.wallMs() - this.seenAtMs) / 1000;
    this.highWaterSeconds = Math.max(this.highWaterSeconds, estimate);
    return this.highWaterSeconds;
  }
}
