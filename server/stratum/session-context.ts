import type { Logger } from 'pino';
import type { Difficulty } from '../../protocol/target.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Job, JobManager } from '../work/job-manager.js';
import type { Offence } from './strike-counter.js';
import type { MinerIdentity } from './username.js';
import type { VardiffConfig } from './vardiff.js';

export interface AcceptedShare {
  identity: MinerIdentity;
  /** The difficulty the share is credited at. */
  difficulty: Difficulty;
  hash: string;
  /** The difficulty the hash actually achieved. */
  shareDifficulty: Difficulty;
  nowMs: number;
}

/** An accepted share that may be worth more than its credit: an upstream share or a block. */
export interface ForwardCandidate {
  extranonce: Uint8Array;
  ntime: number;
  nonce: number;
  header: Uint8Array;
  hash: string;
  hashValue: bigint;
  /** It meets the network target of its job: a block. */
  isBlock: boolean;
  member: string;
}

/** Whose fault a refused share is: the pool's own (its ledger failed), or the miner's, by kind. */
export type ShareFault = 'pool' | Extract<Offence, 'unauthorized' | 'invalid share' | 'honest reject'>;

/**
 * What the gateway's callbacks read of a session. Declared here rather than taken from
 * StratumSession (which implements it): the session takes a SessionContext, and importing it
 * back would make the two modules a cycle.
 */
export interface SessionView {
  readonly connection: { readonly id: string; readonly remoteAddress: string };
  /** Its extranonce1, once subscribed. */
  readonly extranonce: Uint8Array | undefined;
  /** Given at subscribe; a reconnecting miner presents it to get its extranonce1 back. */
  readonly subscriptionId: string;
}

/** A per-session abuse limit (server/config/limits.ts) that refused a request. */
export type LimitName = 'identities' | 'authorize_rate' | 'suggest_rate' | 'row_budget';

/** What sessions need from the gateway: shared state, policy and where events go. */
export interface SessionContext {
  readonly jobs: JobManager;
  readonly ledger: Ledger;
  readonly log: Logger;
  readonly vardiff: VardiffConfig;
  readonly startDifficulty: Difficulty;
  /** The BIP310 version bits this pool lets miners roll (BIP320's 0x1fffe000). */
  readonly versionRollingMask: number;
  /** How far past the job's ntime a share's ntime may be. */
  readonly ntimeRollSeconds: number;
  readonly limits: { readonly maxIdentitiesPerSession: number; readonly authorizationsPerMinute: number; readonly suggestIntervalSeconds: number };
  now(): number;
  /** A limit refused a request of `session` (counted always, logged once per address per interval). */
  onLimitHit(session: SessionView, limit: LimitName): void;
  /**
   * Counts an accepted share against its address's row budget; the raise (row-budget.ts) its
   * sessions are to apply once each, or undefined while the address is within the budget.
   */
  rowBudget?(session: SessionView, nowMs: number): { serial: number; factor: number } | undefined;
  /**
   * A new extranonce1, or the one a dropped session held when `resumeId` (the subscription id it
   * was given) names it: a miner that reconnects keeps its work, and its queued shares stay valid.
   * Throws a StratumError the miner is shown ("pool full: ...", "no work yet: ...") when there is none.
   */
  allocateExtranonce(resumeId?: string): { extranonce1: Uint8Array; extranonce2Size: number; subscriptionId: string };
  onAuthorized(session: SessionView, identity: MinerIdentity): void;
  onShareAccepted(session: SessionView, share: AcceptedShare): void;
  /** A `pool` fault (the ledger failed) must not count against anyone. */
  onShareRejected(session: SessionView, reason: string, fault: ShareFault): void;
  forward(job: Job, candidate: ForwardCandidate): void;
  /** A difficulty went to the miner: the first after authorize, then each retarget or suggestion (metrics). */
  onDifficultySent?(difficulty: Difficulty): void;
  /** The session's connection ended: release what it held (its extranonce1). */
  onSessionClosed?(session: SessionView): void;
}
