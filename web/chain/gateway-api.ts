// The gateway's DAO endpoints as the page uses them: epochs, proofs, pool credit and the relayer.
// Amounts arrive as decimal strings and leave here as bigints. Everything the gateway says about
// the chain is a claim: verify.ts checks proofs against the chain itself.
import type { VoteSupport } from '../../protocol/dao/index.js';

export interface EpochWindow {
  epoch: number;
  startMs: number;
  endsAtMs: number;
}

export interface EpochSummary {
  epoch: number;
  status: 'built' | 'sent' | 'published';
  root: string;
  totalWork: bigint;
  reward: bigint;
  txHash: string | null;
  members: number;
}

export interface EpochsOverview {
  current: EpochWindow | undefined;
  epochs: EpochSummary[];
}

/** A member's leaf and proof in one epoch, as the gateway serves it. */
export interface GatewayProof {
  epoch: number;
  /** The root the gateway says it built: shown, never trusted (the chain's root is). */
  root: string;
  status: string;
  account: string;
  epochWork: bigint;
  epochReward: bigint;
  cumulativeWork: bigint;
  cumulativeReward: bigint;
  proof: string[];
}

export interface PoolCredit {
  /** Expected hashes (a float: difficulty x 2^32 summed over shares). */
  work: number;
  shares: number;
}

export type RelayStatus = 'queued' | 'sent' | 'confirmed' | 'failed';

/** One signed request as the relayer reports it. */
export interface RelayRecord {
  id: string;
  status: RelayStatus;
  txHash: string | null;
  error: string | null;
  /** Votes: which proposal. */
  proposalId?: string;
  /** Claims: the epoch and amount the relayer will claim. */
  epoch?: number;
  amount?: bigint;
}

/** A refusal from the gateway, with its own message (`{ error }`). */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

async function request(path: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(path, init);
  if (res.ok) return res;
  let message = `${init?.method ?? 'GET'} ${path} answered ${res.status}`;
  try {
    const body = (await res.json()) as { error?: unknown };
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  throw new GatewayError(res.status, message);
}

async function getJson(path: string): Promise<Record<string, unknown>> {
  return (await (await request(path)).json()) as Record<string, unknown>;
}

async function postJson(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as Record<string, unknown>;
}

function big(value: unknown, field: string): bigint {
  if (typeof value === 'bigint') return value;
  if ((typeof value === 'string' && /^\d+$/.test(value)) || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) return BigInt(value);
  throw new Error(`the gateway sent ${field} = ${JSON.stringify(value)}, not a whole number`);
}

function optionalText(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

export async function fetchEpochs(): Promise<EpochsOverview> {
  const body = await getJson('/api/epochs');
  const current = body.current as Partial<EpochWindow> | undefined;
  const list = Array.isArray(body.epochs) ? (body.epochs as Record<string, unknown>[]) : [];
  return {
    current: current && typeof current.endsAtMs === 'number' ? { epoch: Number(current.epoch), startMs: Number(current.startMs), endsAtMs: current.endsAtMs } : undefined,
    epochs: list.map((e) => ({
      epoch: Number(e.epoch),
      status: e.status as EpochSummary['status'],
      root: String(e.root),
      totalWork: big(e.totalWork, 'totalWork'),
      reward: big(e.reward, 'reward'),
      txHash: optionalText(e.txHash),
      members: Number(e.members ?? 0),
    })),
  };
}

/** The member's leaf in `epoch` ('latest': the gateway's newest); null when the member has none there. */
export async function fetchProof(epoch: number | 'latest', account: string): Promise<GatewayProof | null> {
  let body: Record<string, unknown>;
  try {
    body = await getJson(`/api/epochs/${epoch}/proof/${account}`);
  } catch (err) {
    if (err instanceof GatewayError && err.status === 404) return null;
    throw err;
  }
  if (!Array.isArray(body.proof) || !body.proof.every((p) => typeof p === 'string')) throw new Error('the gateway sent a proof that is not a list of hashes');
  return {
    epoch: Number(body.epoch),
    root: String(body.root),
    status: String(body.status),
    account: String(body.account),
    epochWork: big(body.epochWork ?? 0, 'epochWork'),
    epochReward: big(body.epochReward ?? 0, 'epochReward'),
    cumulativeWork: big(body.cumulativeWork, 'cumulativeWork'),
    cumulativeReward: big(body.cumulativeReward, 'cumulativeReward'),
    proof: body.proof as string[],
  };
}

export async function fetchPoolCredit(account: string): Promise<PoolCredit> {
  const body = await getJson(`/api/members/${account}`);
  return { work: Number(body.work ?? 0), shares: Number(body.shares ?? 0) };
}

/** Queues a signed ballot; the relayer submits it with the voter's leaf. */
export async function postVote(vote: { proposalId: bigint; support: VoteSupport; voter: string; signature: string }): Promise<RelayRecord> {
  const body = await postJson('/api/votes', { ...vote, proposalId: vote.proposalId.toString() });
  return relayRecord(body);
}

export async function postClaim(claim: { account: string; deadline: bigint; signature: string }): Promise<RelayRecord> {
  const body = await postJson('/api/claims', { account: claim.account, deadline: Number(claim.deadline), signature: claim.signature });
  return relayRecord(body);
}

export async function postProposal(proposal: {
  proposer: string;
  kind: number;
  epoch: bigint;
  parameter: string;
  value: bigint;
  description: string;
  signature: string;
}): Promise<RelayRecord> {
  const body = await postJson('/api/proposals', { ...proposal, epoch: Number(proposal.epoch), value: proposal.value.toString() });
  return relayRecord(body);
}

export async function fetchVotes(voter: string): Promise<RelayRecord[]> {
  return relayList(await getJson(`/api/votes/${voter}`), 'votes');
}

export async function fetchClaims(account: string): Promise<RelayRecord[]> {
  return relayList(await getJson(`/api/claims/${account}`), 'claims');
}

function relayList(body: unknown, key: string): RelayRecord[] {
  // A bare array or { votes: [...] } / { claims: [...] } / { requests: [...] }: either reads the same.
  const record = body as Record<string, unknown>;
  const list = Array.isArray(body) ? body : Array.isArray(record[key]) ? record[key] : Array.isArray(record.requests) ? record.requests : [];
  return (list as Record<string, unknown>[]).map(relayRecord);
}

function relayRecord(raw: Record<string, unknown>): RelayRecord {
  const payload = (typeof raw.payload === 'object' && raw.payload !== null ? raw.payload : {}) as Record<string, unknown>;
  const proposalId = raw.proposalId ?? payload.proposalId;
  const epoch = raw.epoch ?? payload.epoch;
  const amount = raw.amount ?? payload.amount;
  const status = String(raw.status);
  return {
    id: String(raw.id),
    status: (['queued', 'sent', 'confirmed', 'failed'].includes(status) ? status : 'queued') as RelayStatus,
    txHash: optionalText(raw.txHash),
    error: optionalText(raw.error),
    ...(proposalId !== undefined ? { proposalId: String(proposalId) } : {}),
    ...(epoch !== undefined && epoch !== null ? { epoch: Number(epoch) } : {}),
    ...(amount !== undefined && amount !== null ? { amount: big(amount, 'amount') } : {}),
  };
}
