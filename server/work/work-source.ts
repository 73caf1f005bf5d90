import type { Target } from '../../protocol/target.js';

/**
 * A block template as a work source hands it to the gateway: everything a Stratum job needs
 * except the extranonce, which the gateway fills in per session. The coinbase is
 * coinb1 || extranonce (extranonceSize bytes) || coinb2, its non-witness serialisation.
 */
export interface WorkTemplate {
  /** Previous block hash, internal byte order. */
  prevhash: Uint8Array;
  coinb1: Uint8Array;
  coinb2: Uint8Array;
  /** Bytes between coinb1 and coinb2 that the gateway may vary (split into session prefix + miner extranonce2). */
  extranonceSize: number;
  /** Stratum merkle branch, internal byte order. */
  merkleBranch: Uint8Array[];
  version: number;
  bits: number;
  ntime: number;
  /** Block height where known (the practice and getblocktemplate sources know it). */
  height?: number;
  /** True when the previous block changed: every earlier job is stale. */
  cleanJobs: boolean;
  /**
   * Shares whose hash is <= this target are passed to the source's `submit` (an upstream pool's
   * share target; for a node, the network target). Absent: only blocks are submitted.
   */
  forwardTarget?: Target;
  /** The source's own id for this template (an upstream job id), echoed back in `submit`. */
  sourceJobId?: string;
}

/** An accepted share the gateway hands back to its source (upstream pool or node). */
export interface ForwardedShare {
  template: WorkTemplate;
  /** The whole extranonce slot as the gateway filled it: session prefix || miner extranonce2. */
  extranonce: Uint8Array;
  ntime: number;
  nonce: number;
  /** The full block-header version used (after BIP310 rolling). */
  version: number;
  /** The 80-byte header that was hashed. */
  header: Uint8Array;
  /** Display-order hash, for logs. */
  hash: string;
}

export interface SubmitOutcome {
  accepted: boolean;
  /** Why not, as the upstream or node said it. */
  reason?: string;
}

export type WorkSourceKind = 'practice' | 'stratum' | 'gbt';

/**
 * Where jobs come from: the embedded practice source, an upstream Stratum V1 pool, or a node's
 * getblocktemplate. The gateway subscribes with onTemplate, starts it, and submits back every
 * accepted share that meets the template's forwardTarget or the network target.
 */
export interface WorkSource {
  readonly kind: WorkSourceKind;
  /** Shown everywhere the work source is named; the practice source says it mines no real coin. */
  readonly label: string;
  onTemplate(listener: (template: WorkTemplate) => void): void;
  /** Resolves once the first template has been emitted (or rejects with why it cannot start). */
  start(): Promise<void>;
  stop(): Promise<void>;
  submit(share: ForwardedShare): Promise<SubmitOutcome>;
  /** Whether the source currently has live work (an upstream that is away answers false). */
  readonly connected: boolean;
}
