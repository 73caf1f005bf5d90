// What the relayer's batch loop needs to know about one kind of request (votes, claims, proposals).
import type { Contract, ContractTransactionResponse, Interface, Result, TransactionReceipt } from 'ethers';
import type { DaoChain } from '../chain/open-chain.js';
import { HttpError } from '../http/respond.js';
import type { FreshReads } from './fresh-reads.js';
import type { RelayLimits } from './limits.js';
import type { Payload, RelayKind, RelayRecord, RelayStorage } from './request-store.js';

/** What the accept side of each kind reads and writes. */
export interface RelayContext {
  readonly chain: DaoChain;
  /** The queue and the published leaves, in whichever ledger the gateway uses. */
  readonly store: RelayStorage;
  /** Uncached reads and static calls; transactions go through chain.relayer. */
  readonly reads: FreshReads;
  /** Quotas, the dust threshold and the gas budget (checked after the signature, before chain reads). */
  readonly limits: RelayLimits;
}

/** Transaction fields the relayer sets itself. */
export interface SendOverrides {
  nonce: number;
}

export interface Lane {
  readonly kind: RelayKind;
  /** Most requests in one transaction: keeps a batch well inside the block gas limit. */
  readonly maxBatch: number;
  /** The contract whose custom errors a refusal is decoded with. */
  readonly iface: Interface;
  /**
   * Whether tookEffect says exactly that this request is done (claims: claimed up to its leaf;
   * votes: the voter has voted), so a queued one found done is confirmed rather than failed. Not
   * for proposals: a used nonce may have opened another proposal signed with it.
   */
  readonly doneIsExact: boolean;
  /** Runs the request alone as a static call, as the batch would run it; throws the chain's refusal. */
  check(record: RelayRecord): Promise<void>;
  /** Sends `records` in one transaction (the caller serializes it through the relayer's TxSender). */
  send(records: readonly RelayRecord[], overrides: SendOverrides): Promise<ContractTransactionResponse>;
  /** Whether the request took effect on-chain: reconciles one whose transaction vanished. */
  tookEffect(record: RelayRecord): Promise<boolean>;
  /** What a successful receipt adds to each request's payload (a created proposal's id). */
  results?(receipt: TransactionReceipt, records: readonly RelayRecord[]): Map<number, Payload>;
}

/** Queues a checked request; 409 when one with the same key is already queued, sent or confirmed. */
export async function enqueueOrConflict(ctx: RelayContext, kind: RelayKind, key: string, account: string, payload: Payload, what: string): Promise<number> {
  const result = await ctx.store.enqueue(kind, key, account, payload);
  if ('conflict' in result) {
    const c = result.conflict;
    throw new HttpError(409, `${what} is already ${c.status} (request ${c.id}${c.txHash ? `, transaction ${c.txHash}` : ''})`);
  }
  return result.id;
}

/** Payload bigints are decimal strings; this reads one back. */
export function big(payload: Payload, name: string): bigint {
  const value = payload[name];
  if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`relay payload has no "${name}"`);
  return BigInt(value);
}

export function text(payload: Payload, name: string): string {
  const value = payload[name];
  if (typeof value !== 'string') throw new Error(`relay payload has no "${name}"`);
  return value;
}

export function proofOf(payload: Payload): string[] {
  const proof = payload['proof'];
  if (!Array.isArray(proof)) throw new Error('relay payload has no proof');
  return proof as string[];
}

/**
 * The requests a mined batch skipped as already done (ClaimSkipped, VoteSkipped: another
 * transaction did them first), each with a `skipped` line saying why, for its confirmed record.
 * The batch functions emit exactly one of `doneEvent` / `skippedEvent` per entry, in order, so the
 * n-th of those logs is the n-th request's outcome (two requests for the same account stay apart).
 */
export function skippedIn(
  receipt: TransactionReceipt,
  contract: Contract,
  doneEvent: string,
  skippedEvent: string,
  records: readonly RelayRecord[],
  describe: (args: Result, reasonName: string) => string,
): Map<number, Payload> {
  const out = new Map<number, Payload>();
  const target = String(contract.target).toLowerCase();
  const outcomes = receipt.logs
    .filter((log) => log.address.toLowerCase() === target)
    .map((log) => contract.interface.parseLog(log))
    .filter((parsed) => parsed?.name === doneEvent || parsed?.name === skippedEvent);
  if (outcomes.length !== records.length) return out;
  outcomes.forEach((parsed, i) => {
    if (parsed?.name !== skippedEvent) return;
    const selector = String(parsed.args.getValue('reason'));
    out.set(records[i]!.id, { skipped: describe(parsed.args, contract.interface.getError(selector)?.name ?? selector) });
  });
  return out;
}
