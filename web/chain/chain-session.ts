// The page's view of the DAO, kept fresh: it polls the chain (through DaoReader), the gateway and
// the member store every few seconds while the page is visible, and gives the panels one plain
// snapshot, as ContributorSession (web/contributor/) does for the miner. It also runs the member's actions (claim, vote,
// propose). Nothing here hashes or opens a pool connection, so it may run before consent.
import { getAddress } from 'ethers';
import type { CurrentEpoch } from '../../protocol/api.js';
import { ChainClock, type ProposalKind, type ProposalView, type TreasuryView, type VoteSupport } from '../../protocol/dao/index.js';
import type { MemberStore } from '../store/member-store.js';
import type { ShareAuditResult } from './share-audit.js';
import type { ProofRow, RelayStatus, VoteRow } from '../store/schema.js';
import type { ChainConfig } from './chain-config.js';
import { DaoReader, type RootWindow } from './dao-reader.js';
import { fetchClaims, fetchEpochs, fetchPoolCredit, fetchVotes, type PoolCredit, type RelayRecord } from './gateway-api.js';
import { castVote, claimFromWallet, memberSigner, requestClaim, submitProposal } from './signer.js';
import { isFinal, verifyProof, type ProofCheck } from './verify.js';

export const CHAIN_POLL_MS = 3000;

/** The member's vote on one proposal, from this device's record, the relayer and the chain. */
export interface MemberVote {
  support?: VoteSupport;
  relayStatus?: RelayStatus;
  error?: string;
  txHash?: string;
  /** The relayer's batch skipped the ballot as already counted by another transaction: why. */
  skipped?: string;
  /** governor.hasVoted: the vote is counted. */
  onChain: boolean;
}

export type ChainAction = 'claim' | 'vote' | 'propose';

export interface ChainSnapshot {
  address?: string;
  identitySource?: 'local' | 'injected';
  /** Expected hashes of this device's accepted shares. */
  localWork?: number;
  credit?: PoolCredit;
  proof?: ProofCheck;
  /** The challenge window of the proof's epoch: claims and proposals wait until it is final. */
  rootWindow?: RootWindow;
  claimed?: bigint;
  balance?: bigint;
  /** Reward the verified leaf owes beyond what was claimed; undefined without a verified leaf. */
  claimable?: bigint;
  /** The member's newest claim request at the relayer. */
  claim?: RelayRecord;
  current?: CurrentEpoch;
  /** Oldest first. */
  proposals: ProposalView[];
  votes: Record<string, MemberVote>;
  /**
   * Chain time at the last poll (Unix s, fractional): the latest block's timestamp plus the wall
   * time since that block was first seen (ChainClock), and when that poll ran (ms, this clock).
   * Chain time now is chainTime + (Date.now() - polledAtMs) / 1000.
   */
  chainTime?: number;
  polledAtMs?: number;
  reinvestmentBps?: number;
  /** The treasury's balance and history, read from the chain. */
  treasury?: TreasuryView;
  /** The last read that failed, while it keeps failing. */
  error?: string;
  /** The last action that failed, and why. */
  actionError?: { action: ChainAction; message: string };
  /** The last action that went through (until the next one starts). */
  actionDone?: ChainAction;
  busy?: ChainAction;
}

export class ChainSession {
  readonly reader: DaoReader;
  private state: ChainSnapshot = { proposals: [], votes: {} };
  private timer: ReturnType<typeof setInterval> | undefined;
  private polling: Promise<void> | undefined;
  private chainChecked: Promise<void> | undefined;
  private localWorkCache: { address: string; accepted: number; work: number } | undefined;
  /** The last proof check that cannot change until the next epoch is published (verify.ts isFinal). */
  private finalProof: { key: string; check: ProofCheck } | undefined;
  private readonly listeners = new Set<() => void>();
  /** Keeps counting between blocks: a chain that mines only on transactions must not freeze countdowns. */
  private readonly clock = new ChainClock();
  private readonly onVisibility = (): void => {
    if (document.visibilityState === 'visible') void this.poll();
  };

  constructor(
    readonly config: ChainConfig,
    private readonly store: MemberStore,
  ) {
    this.reader = new DaoReader(config);
  }

  get snapshot(): ChainSnapshot {
    return this.state;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.timer !== undefined) return;
    document.addEventListener('visibilitychange', this.onVisibility);
    this.timer = setInterval(() => {
      if (document.visibilityState === 'visible') void this.poll();
    }, CHAIN_POLL_MS);
    void this.poll();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.reader.destroy();
  }

  /** One round of reads; a poll already running is joined rather than doubled. */
  poll(): Promise<void> {
    this.polling ??= this.read().finally(() => (this.polling = undefined));
    return this.polling;
  }

  async claim(): Promise<void> {
    await this.act('claim', async () => {
      // Signed for the latest final epoch: the relayer refuses it for any other.
      const epoch = BigInt(await this.reader.latestFinalEpoch());
      this.update({ claim: await requestClaim(await memberSigner(this.store), this.config, epoch) });
    });
  }

  /**
   * Whether every share this device saw accepted in `epoch` is in the epoch's audit bundle. The
   * checker is loaded on first use: most visits never ask.
   */
  async checkShares(epoch: number): Promise<ShareAuditResult> {
    const address = this.state.address;
    if (!address) throw new Error('there is no member address to check shares for');
    const { checkSharesInEpoch } = await import('./share-audit.js');
    return checkSharesInEpoch(this.store, address, epoch);
  }

  /** Sends the claim from the member's injected wallet, which pays the gas. */
  async claimFromWallet(): Promise<void> {
    await this.act('claim', async () => {
      const leaf = this.state.proof?.verified ? this.state.proof.leaf : undefined;
      if (!leaf) throw new Error('there is nothing to claim yet: no published epoch holds verified work of this address');
      await claimFromWallet(this.config, leaf);
    });
  }

  async vote(proposalId: bigint, support: VoteSupport): Promise<void> {
    await this.act('vote', async () => {
      const signed = await castVote(await memberSigner(this.store), this.config, proposalId, support);
      await this.store.saveVote({
        proposalId,
        voter: signed.voter,
        support,
        signature: signed.signature,
        signedAtMs: Date.now(),
        relayId: signed.relay.id,
        relayStatus: signed.relay.status,
      });
    });
  }

  async propose(kind: ProposalKind, description: string, parameter: string, value: bigint): Promise<void> {
    await this.act('propose', async () => {
      const proof = this.state.proof;
      if (!proof?.verified) throw new Error('proposing needs work committed in a published epoch, verified against the chain');
      await submitProposal(await memberSigner(this.store), this.config, this.reader, { kind, epoch: BigInt(proof.epoch), parameter, value, description });
    });
  }

  private async act(kind: ChainAction, action: () => Promise<void>): Promise<void> {
    if (this.state.busy) return;
    this.update({ busy: kind, actionError: undefined, actionDone: undefined });
    try {
      await action();
      this.update({ actionDone: kind });
    } catch (err) {
      this.update({ actionError: { action: kind, message: message(err) } });
    } finally {
      this.update({ busy: undefined });
      void this.poll();
    }
  }

  private async read(): Promise<void> {
    try {
      // Once: a node serving another chain would make every figure and signature meaningless.
      this.chainChecked ??= this.reader.checkChain().catch((err: unknown) => {
        this.chainChecked = undefined;
        throw err;
      });
      await this.chainChecked;
      const identity = await this.store.getIdentity();
      const [proposals, blockTime, reinvestmentBps, treasury, epochs] = await Promise.all([
        this.reader.proposals(),
        this.reader.chainTime(),
        this.reader.reinvestmentBps(),
        this.reader.treasury(),
        fetchEpochs().catch(() => undefined),
      ]);
      this.clock.observe(blockTime);
      const next: Partial<ChainSnapshot> = { proposals, chainTime: this.clock.nowSeconds(), reinvestmentBps, treasury, current: epochs?.current, polledAtMs: Date.now() };
      if (identity) Object.assign(next, await this.readMember(identity.address, proposals), { address: identity.address, identitySource: identity.source });
      this.update({ ...next, error: undefined });
    } catch (err) {
      this.update({ error: message(err) });
    }
  }

  private async readMember(address: string, proposals: ProposalView[]): Promise<Partial<ChainSnapshot>> {
    const [localWork, credit, proof, claimed, balance, claims] = await Promise.all([
      this.localWork(address),
      fetchPoolCredit(address).catch(() => undefined),
      this.checkProof(address),
      this.reader.claimed(address),
      this.reader.balanceOf(address),
      fetchClaims(address).catch(() => [] as RelayRecord[]),
    ]);
    if (proof.leaf && proof.onChainRoot) await this.keepProof(proof);
    // Claims and proposals wait for the root to be final; the page says until when, or why never.
    const rootWindow = proof.epoch > 0 && proof.onChainRoot ? await this.reader.rootWindow(proof.epoch) : undefined;
    const claimable = proof.verified && proof.leaf ? bigMax(proof.leaf.cumulativeReward - claimed, 0n) : undefined;
    return {
      localWork,
      credit,
      proof,
      rootWindow,
      claimed,
      balance,
      claimable,
      // Another identity (switched or imported) never inherits the previous one's claim message.
      claim: newest(claims) ?? (this.state.address === address ? this.state.claim : undefined),
      votes: await this.readVotes(address, proposals),
    };
  }

  /** The work of this device's accepted shares; summed again only when their count changed (a count is cheap, a sum reads every row). */
  private async localWork(address: string): Promise<number> {
    const { accepted } = await this.store.shareCounts(address);
    const cached = this.localWorkCache;
    if (cached?.accepted !== accepted || cached.address !== address) this.localWorkCache = { address, accepted, work: await this.store.acceptedWork(address) };
    return this.localWorkCache!.work;
  }

  /** The check of the member's leaf in the latest published epoch, fetched again only when it can have changed. */
  private async checkProof(account: string): Promise<ProofCheck> {
    const epoch = await this.reader.latestEpoch();
    const key = `${epoch}:${account}`;
    if (this.finalProof?.key === key) return this.finalProof.check;
    const check = await verifyProof(this.reader, account, epoch);
    this.finalProof = isFinal(check) ? { key, check } : undefined;
    return check;
  }

  /** Stores the proof when it is new or its verdict changed. */
  private async keepProof(check: ProofCheck): Promise<void> {
    const leaf = check.leaf!;
    const stored: ProofRow | undefined = await this.store.latestProof(getAddress(leaf.account));
    if (stored && stored.epoch === check.epoch && stored.verified === check.verified && stored.root === check.onChainRoot) return;
    await this.store.saveProof({
      epoch: check.epoch,
      account: getAddress(leaf.account),
      cumulativeWork: leaf.cumulativeWork,
      cumulativeReward: leaf.cumulativeReward,
      epochWork: leaf.epochWork,
      epochReward: leaf.epochReward,
      proof: leaf.proof,
      root: check.onChainRoot!,
      verified: check.verified,
      ...(check.reason !== undefined ? { reason: check.reason } : {}),
      checkedAtMs: check.checkedAtMs,
    });
  }

  /** Brings this device's vote records up to date with the relayer and the chain. */
  private async readVotes(voter: string, proposals: ProposalView[]): Promise<Record<string, MemberVote>> {
    const [relayed, onChain, rows] = await Promise.all([
      fetchVotes(voter).catch(() => [] as RelayRecord[]),
      Promise.all(proposals.map((p) => this.reader.hasVoted(p.id, voter))),
      this.store.votesOf(voter),
    ]);
    const byProposal = new Map<string, RelayRecord>();
    for (const record of relayed) if (record.proposalId !== undefined) byProposal.set(record.proposalId, record);
    const votes: Record<string, MemberVote> = {};
    proposals.forEach((p, i) => (votes[p.id.toString()] = { onChain: onChain[i] === true }));
    const updated: VoteRow[] = [];
    for (const row of rows) {
      const relay = byProposal.get(row.proposalId);
      const next = await this.store.updateVote(BigInt(row.proposalId), voter, {
        ...(relay ? { relayStatus: relay.status, ...(relay.txHash ? { txHash: relay.txHash } : {}), ...(relay.error ? { relayError: relay.error } : {}) } : {}),
        ...(votes[row.proposalId] ? { onChain: votes[row.proposalId]!.onChain } : {}),
      });
      updated.push(next ?? row);
    }
    for (const [proposalId, relay] of byProposal) {
      votes[proposalId] = { ...(votes[proposalId] ?? { onChain: false }), relayStatus: relay.status, ...(relay.error ? { error: relay.error } : {}), ...(relay.txHash ? { txHash: relay.txHash } : {}), ...(relay.skipped ? { skipped: relay.skipped } : {}) };
    }
    for (const row of updated) {
      const seen = votes[row.proposalId] ?? { onChain: row.onChain };
      votes[row.proposalId] = {
        ...seen,
        support: row.support,
        relayStatus: seen.relayStatus ?? row.relayStatus,
        onChain: seen.onChain || row.onChain,
        ...(row.relayError && !seen.error ? { error: row.relayError } : {}),
        ...(row.txHash && !seen.txHash ? { txHash: row.txHash } : {}),
      };
    }
    return votes;
  }

  private update(changes: Partial<ChainSnapshot>): void {
    this.state = { ...this.state, ...changes };
    for (const listener of this.listeners) listener();
  }
}

function message(err: unknown): string {
  const e = err as { shortMessage?: unknown; message?: unknown };
  // ethers errors carry a readable shortMessage beside a long technical one.
  if (typeof e?.shortMessage === 'string') return e.shortMessage;
  return err instanceof Error ? err.message : String(err);
}

/** The request with the highest id (the relayer numbers them in arrival order). */
function newest(records: RelayRecord[]): RelayRecord | undefined {
  return records.reduce<RelayRecord | undefined>((best, r) => (!best || Number(r.id) > Number(best.id) ? r : best), undefined);
}

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
