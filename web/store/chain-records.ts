// The member's on-chain record in IndexedDB (schema version 2): the proof of their leaf in each
// published epoch with the verdict of checking it against the chain, and every vote they signed
// with what the relayer and the chain made of it. Rows are checked here before they are stored, as
// records.ts does for shares: only known fields are copied, amounts must be decimal strings.
import type { IDBPDatabase } from 'idb';
import type { MemberDB, ProofRow, RelayStatus, VoteRow } from './schema.js';

/** A proof as verify.ts produced it (bigints are written as decimal strings). */
export interface NewProof {
  epoch: number;
  account: string;
  cumulativeWork: bigint;
  cumulativeReward: bigint;
  epochWork: bigint;
  epochReward: bigint;
  proof: string[];
  root: string;
  verified: boolean;
  reason?: string;
  checkedAtMs: number;
}

export interface NewVote {
  proposalId: bigint;
  voter: string;
  support: 0 | 1 | 2;
  signature: string;
  signedAtMs: number;
  relayId?: string;
  relayStatus: RelayStatus;
}

/** What a poll learns about a vote: the relayer's status and the chain's hasVoted. */
export interface VoteProgress {
  relayStatus?: RelayStatus;
  relayError?: string;
  txHash?: string;
  onChain?: boolean;
}

export interface ChainRecords {
  /** Stores (or replaces) the proof of `account` in `epoch`. */
  saveProof(proof: NewProof): Promise<ProofRow>;
  /** The member's proof of the highest epoch stored. */
  latestProof(account: string): Promise<ProofRow | undefined>;
  /** Records a signed vote; refuses a second vote on the same proposal unless the first failed. */
  saveVote(vote: NewVote, nowMs?: number): Promise<VoteRow>;
  /** Applies what a poll learned; returns the row (unchanged when nothing changed) or undefined if there is none. */
  updateVote(proposalId: bigint, voter: string, progress: VoteProgress, nowMs?: number): Promise<VoteRow | undefined>;
  votesOf(voter: string): Promise<VoteRow[]>;
}

const RELAY_STATUSES: readonly RelayStatus[] = ['queued', 'sent', 'confirmed', 'failed'];
const HASH = /^0x[0-9a-fA-F]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export function proofId(epoch: number, account: string): string {
  return `${epoch}:${account}`;
}

export function voteId(proposalId: bigint | string, voter: string): string {
  return `${proposalId}:${voter}`;
}

function amount(name: string, value: unknown): string {
  if (typeof value !== 'bigint' || value < 0n) throw new Error(`proof ${name} must be a non-negative bigint`);
  return value.toString();
}

function address(what: string, value: unknown): string {
  if (typeof value !== 'string' || !ADDRESS.test(value)) throw new Error(`${what} must be an address (0x + 40 hex digits), got ${JSON.stringify(value)}`);
  return value;
}

function time(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${what} must be a time in ms, got ${String(value)}`);
  return value;
}

export function proofRow(proof: NewProof): ProofRow {
  if (!Number.isSafeInteger(proof.epoch) || proof.epoch < 1) throw new Error(`proof epoch must be an integer >= 1, got ${proof.epoch}`);
  if (!Array.isArray(proof.proof) || !proof.proof.every((p) => typeof p === 'string' && HASH.test(p))) throw new Error('proof must be a list of 32-byte hex hashes');
  if (typeof proof.root !== 'string' || !HASH.test(proof.root)) throw new Error(`proof root must be a 32-byte hex hash, got ${JSON.stringify(proof.root)}`);
  const account = address('proof account', proof.account);
  const row: ProofRow = {
    id: proofId(proof.epoch, account),
    epoch: proof.epoch,
    account,
    cumulativeWork: amount('cumulativeWork', proof.cumulativeWork),
    cumulativeReward: amount('cumulativeReward', proof.cumulativeReward),
    epochWork: amount('epochWork', proof.epochWork),
    epochReward: amount('epochReward', proof.epochReward),
    proof: [...proof.proof],
    root: proof.root,
    verified: proof.verified === true,
    checkedAtMs: time('proof checkedAtMs', proof.checkedAtMs),
  };
  if (proof.reason !== undefined) row.reason = String(proof.reason);
  return row;
}

export function voteRow(vote: NewVote, nowMs: number): VoteRow {
  if (typeof vote.proposalId !== 'bigint' || vote.proposalId < 1n) throw new Error('vote proposalId must be a bigint >= 1');
  if (vote.support !== 0 && vote.support !== 1 && vote.support !== 2) throw new Error(`vote support must be 0, 1 or 2, got ${JSON.stringify(vote.support)}`);
  if (typeof vote.signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(vote.signature)) throw new Error('vote signature must be 65 bytes of hex');
  if (!RELAY_STATUSES.includes(vote.relayStatus)) throw new Error(`vote relayStatus must be one of ${RELAY_STATUSES.join(', ')}`);
  const voter = address('vote voter', vote.voter);
  const row: VoteRow = {
    id: voteId(vote.proposalId, voter),
    proposalId: vote.proposalId.toString(),
    voter,
    support: vote.support,
    signature: vote.signature,
    signedAtMs: time('vote signedAtMs', vote.signedAtMs),
    relayStatus: vote.relayStatus,
    onChain: false,
    updatedAtMs: time('vote time', nowMs),
  };
  if (vote.relayId !== undefined) row.relayId = String(vote.relayId);
  return row;
}

/** The row after `progress`; the same object when nothing changed, so callers can skip the write. */
export function progressedVote(row: VoteRow, progress: VoteProgress, nowMs: number): VoteRow {
  if (progress.relayStatus !== undefined && !RELAY_STATUSES.includes(progress.relayStatus)) {
    throw new Error(`vote relayStatus must be one of ${RELAY_STATUSES.join(', ')}`);
  }
  const next: VoteRow = { ...row };
  if (progress.relayStatus !== undefined) next.relayStatus = progress.relayStatus;
  if (progress.relayError !== undefined) next.relayError = progress.relayError;
  if (progress.txHash !== undefined) next.txHash = progress.txHash;
  // The chain has the last word: once hasVoted is true the vote counts, whatever the relay says.
  if (progress.onChain !== undefined) next.onChain = row.onChain || progress.onChain;
  const changed = (['relayStatus', 'relayError', 'txHash', 'onChain'] as const).some((k) => next[k] !== row[k]);
  if (!changed) return row;
  next.updatedAtMs = time('vote time', nowMs);
  return next;
}

export function chainRecords(db: IDBPDatabase<MemberDB>): ChainRecords {
  return {
    async saveProof(proof) {
      const row = proofRow(proof);
      await db.put('proofs', row);
      return row;
    },
    async latestProof(account) {
      const range = IDBKeyRange.bound([account, 0], [account, Number.MAX_SAFE_INTEGER]);
      const cursor = await db.transaction('proofs').store.index('by-account').openCursor(range, 'prev');
      return cursor?.value;
    },
    async saveVote(vote, nowMs = Date.now()) {
      const row = voteRow(vote, nowMs);
      const tx = db.transaction('votes', 'readwrite');
      const existing = await tx.store.get(row.id);
      if (existing && existing.relayStatus !== 'failed') {
        tx.abort();
        await tx.done.catch(() => undefined);
        throw new Error(`this address already voted on proposal ${row.proposalId} (${existing.relayStatus})`);
      }
      await tx.store.put(row);
      await tx.done;
      return row;
    },
    async updateVote(proposalId, voter, progress, nowMs = Date.now()) {
      const tx = db.transaction('votes', 'readwrite');
      const row = await tx.store.get(voteId(proposalId, voter));
      const next = row && progressedVote(row, progress, nowMs);
      if (next && next !== row) await tx.store.put(next);
      await tx.done;
      return next;
    },
    async votesOf(voter) {
      return db.getAllFromIndex('votes', 'by-voter', voter);
    },
  };
}
