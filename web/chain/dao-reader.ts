// Reads the DAO straight from the chain, through the RPC URL the gateway names: epoch roots,
// claims, balances, proposals and votes. Nothing here signs or sends; the page can read before the
// member has consented to anything.
import { BrowserProvider, Contract, JsonRpcProvider, ZeroHash, type JsonRpcApiProvider } from 'ethers';
import { ProposalReader, REINVESTMENT_BPS_PARAMETER, TreasuryReader, type ProposalView, type TreasuryLog, type TreasuryView } from '../../protocol/dao/index.js';
import { DISTRIBUTOR_ABI, GOVERNOR_ABI, ROOT_PUBLISHED_EVENT, TOKEN_ABI, TREASURY_ABI } from './abi.js';
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

export class DaoReader {
  readonly provider: JsonRpcApiProvider;
  private readonly distributor: Contract;
  private readonly governor: Contract;
  private readonly token: Contract;
  private readonly proposalReader: ProposalReader;
  private readonly treasuryReader: TreasuryReader;

  constructor(readonly config: ChainConfig) {
    // The chain id comes from the gateway and staticNetwork skips the eth_chainId round trip;
    // chainId() below checks it once against the node.
    this.provider = config.rpcUrl !== undefined ? new JsonRpcProvider(config.rpcUrl, config.chainId, { staticNetwork: true }) : walletProvider(config.chainId);
    this.distributor = new Contract(config.distributor, DISTRIBUTOR_ABI, this.provider);
    this.governor = new Contract(config.governor, GOVERNOR_ABI, this.provider);
    this.token = new Contract(config.token.address, TOKEN_ABI, this.provider);
    // The page's few lines over protocol/dao/proposals.ts (the gateway has its own, proposal-list.ts).
    this.proposalReader = new ProposalReader(
      {
        call: (method, ...args) => this.governor.getFunction(method).staticCall(...args),
        headBlock: () => this.provider.getBlockNumber(),
        proposalCreatedLogs: (from, to) => this.governor.queryFilter(this.governor.getEvent('ProposalCreated'), from, to),
      },
      config.deployBlock,
    );
    const treasury = new Contract(config.treasury, TREASURY_ABI, this.provider);
    const roots = new Contract(config.distributor, [ROOT_PUBLISHED_EVENT], this.provider);
    this.treasuryReader = new TreasuryReader(
      {
        address: config.treasury,
        balance: () => this.call<bigint>(treasury, 'balance'),
        headBlock: () => this.provider.getBlockNumber(),
        rootPublishedLogs: (from, to) => roots.queryFilter(roots.getEvent('RootPublished'), from, to) as Promise<TreasuryLog[]>,
        paidLogs: (from, to) => treasury.queryFilter(treasury.getEvent('Paid'), from, to) as Promise<TreasuryLog[]>,
      },
      config.deployBlock,
    );
  }

  /** Throws when the node serves another chain than the gateway said: every later read would be meaningless. */
  async checkChain(): Promise<void> {
    const served = Number(await this.provider.send('eth_chainId', []));
    if (served !== this.config.chainId) throw new Error(`the RPC ${this.config.rpcUrl ?? 'of the wallet'} serves chain ${served}, the gateway said ${this.config.chainId}`);
  }

  async latestEpoch(): Promise<number> {
    return Number(await this.call<bigint>(this.distributor, 'latestEpoch'));
  }

  /** The highest epoch whose root is final (past its challenge period, not vetoed): what claims and proposals name. */
  async latestFinalEpoch(): Promise<number> {
    return Number(await this.call<bigint>(this.distributor, 'latestFinalEpoch'));
  }

  /**
   * The challenge window of `epoch`'s published root. The veto's reason comes from the guardian's
   * RootVetoed event on the chain, not from the gateway, whose root is the one in question.
   */
  async rootWindow(epoch: number): Promise<RootWindow> {
    const [endsAt, vetoedAt] = await Promise.all([this.call<bigint>(this.distributor, 'challengeEndsAt', epoch), this.call<bigint>(this.distributor, 'vetoedAt', epoch)]);
    if (vetoedAt === 0n) return { epoch, finalFromSeconds: Number(endsAt) };
    const [event] = await this.distributor.queryFilter(this.distributor.filters.RootVetoed!(epoch), this.config.deployBlock);
    const reason = event && 'args' in event ? String(event.args.getValue('reason')) : 'the reason was not found in the chain log';
    return { epoch, finalFromSeconds: Number(endsAt), vetoReason: reason };
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

  /** Every proposal with its tally, state and description, oldest first. */
  proposals(): Promise<ProposalView[]> {
    return this.proposalReader.list();
  }

  /** The treasury's balance now, and its inflows and payments, oldest first. */
  treasury(): Promise<TreasuryView> {
    return this.treasuryReader.read();
  }

  destroy(): void {
    this.provider.destroy();
  }

  private async call<T>(contract: Contract, method: string, ...args: unknown[]): Promise<T> {
    return (await contract.getFunction(method).staticCall(...args)) as T;
  }
}

/** When a published root becomes final (claimable, pinned by proposals), or why it never will. */
export interface RootWindow {
  epoch: number;
  /** Chain time (Unix seconds) from which the root is final unless vetoed before. */
  finalFromSeconds: number;
  /** The guardian's reason, when the root was vetoed: it is never final, the next root supersedes it. */
  vetoReason?: string;
}

/** Whether the root of `window` is final at chain time `nowSeconds`. */
export function isFinalRoot(window: RootWindow, nowSeconds: number): boolean {
  return window.vetoReason === undefined && nowSeconds >= window.finalFromSeconds;
}

export function isPublished(root: EpochRoot): boolean {
  return root.root !== ZeroHash;
}

/** No public RPC URL from the gateway: the page reads through the member's wallet (window.ethereum). */
function walletProvider(chainId: number): BrowserProvider {
  const ethereum = (globalThis as { ethereum?: ConstructorParameters<typeof BrowserProvider>[0] }).ethereum;
  if (!ethereum) throw new Error('this gateway publishes no chain RPC URL: connect a wallet extension to read the chain');
  return new BrowserProvider(ethereum, chainId);
}
