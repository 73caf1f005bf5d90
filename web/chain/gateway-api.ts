// The page's one client of the gateway's API (protocol/api.ts): the chain it settles on, pool
// stats and credit, epochs, proofs and the relayer. Amounts arrive as decimal strings and leave
// here as bigints. Everything the gateway says about the chain is a claim: verify.ts checks proofs
// against the chain itself.
import type {
  AcceptedClaim,
  AcceptedProposal,
  AcceptedVote,
  ApiError,
  ChainInfo,
  EpochInfo,
  EpochsResponse,
  HistoryResponse,
  MemberLeaf,
  MemberLeavesResponse,
  MemberResponse,
  OnWire,
  ProofResponse,
  RelayStatus,
  RelayedClaim,
  RelayedProposal,
  RelayedRequests,
  RelayedVote,
  StatsResponse,
} from '../../protocol/api.js';
import type { VoteSupport } from '../../protocol/dao/index.js';
import { parseChainStatus, type ChainStatus } from './chain-config.js';

/** The member's credit at the pool, as the page shows it. */
export type PoolCredit = Pick<MemberResponse, 'work' | 'shares'>;

/** One signed request as the page follows it: from a POST's answer or a GET of the account's requests. */
export interface RelayRecord {
  id: string;
  status: RelayStatus;
  txHash: string | null;
  error: string | null;
  /** A confirmed request the chain skipped as already done by another transaction: why (null otherwise). */
  skipped: string | null;
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

// The one place the page talks to the gateway: every request below goes through here.
async function request(path: string, init?: RequestInit): Promise<Response> {
  const res = await fetch(path, init);
  if (res.ok) return res;
  let message = `${init?.method ?? 'GET'} ${path} answered ${res.status}`;
  try {
    const body = (await res.json()) as Partial<ApiError>;
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  throw new GatewayError(res.status, message);
}

/** The body as the API types say it is; each reader below still checks what it relies on. */
async function getJson<T>(path: string): Promise<OnWire<T>> {
  return (await (await request(path)).json()) as OnWire<T>;
}

async function postJson<T>(path: string, body: unknown): Promise<OnWire<T>> {
  const res = await request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as OnWire<T>;
}

function big(value: unknown, field: string): bigint {
  if (typeof value === 'bigint') return value;
  if ((typeof value === 'string' && /^\d+$/.test(value)) || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) return BigInt(value);
  throw new Error(`the gateway sent ${field} = ${JSON.stringify(value)}, not a whole number`);
}

function optionalText(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** GET /api/chain: whether and where the DAO settles, checked field by field. */
export async function fetchChainStatus(): Promise<ChainStatus> {
  return parseChainStatus(await getJson<ChainInfo>('/api/chain'));
}

export async function fetchStats(): Promise<StatsResponse> {
  return getJson<StatsResponse>('/api/stats');
}

export async function fetchEpochs(): Promise<EpochsResponse> {
  const body = await getJson<EpochsResponse>('/api/epochs');
  const current = body.current as Partial<EpochsResponse['current']> | undefined;
  if (typeof current?.endsAtMs !== 'number') throw new Error('the gateway sent no current epoch');
  return {
    current: { epoch: Number(current.epoch), startMs: Number(current.startMs), endsAtMs: current.endsAtMs, closesWhenEmpty: false, pendingWork: current.pendingWork === true },
    epochs: (Array.isArray(body.epochs) ? body.epochs : []).map(
      (e): EpochInfo => ({
        ...e,
        epochWork: big(e.epochWork ?? 0, 'epochWork'),
        totalWork: big(e.totalWork, 'totalWork'),
        reward: big(e.reward, 'reward'),
        reinvested: big(e.reinvested ?? 0, 'reinvested'),
        txHash: optionalText(e.txHash),
        members: Number(e.members ?? 0),
      }),
    ),
  };
}

/** GET /api/epochs/:n: one closed epoch's share window (the rest is read elsewhere). */
export async function fetchEpochWindow(epoch: number): Promise<{ epoch: number; startMs: number; endMs: number }> {
  const body = await getJson<EpochInfo>(`/api/epochs/${epoch}`);
  if (typeof body.startMs !== 'number' || typeof body.endMs !== 'number') throw new Error(`the gateway sent no time window for epoch ${epoch}`);
  return { epoch: Number(body.epoch), startMs: body.startMs, endMs: body.endMs };
}

/** GET /api/epochs/:n/audit: the epoch's audit bundle as a byte stream (NDJSON, protocol/dao/audit-bundle.ts). */
export async function fetchAuditBundle(epoch: number): Promise<ReadableStream<Uint8Array>> {
  const res = await request(`/api/epochs/${epoch}/audit`);
  if (!res.body) throw new Error(`the gateway sent an empty audit bundle for epoch ${epoch}`);
  return res.body;
}

/** The member's leaf in `epoch` ('latest': the gateway's newest); null when the member has none there. */
export async function fetchProof(epoch: number | 'latest', account: string): Promise<ProofResponse | null> {
  let body: OnWire<ProofResponse>;
  try {
    body = await getJson<ProofResponse>(`/api/epochs/${epoch}/proof/${account}`);
  } catch (err) {
    if (err instanceof GatewayError && err.status === 404) return null;
    throw err;
  }
  if (!Array.isArray(body.proof) || !body.proof.every((p) => typeof p === 'string')) throw new Error('the gateway sent a proof that is not a list of hashes');
  return {
    epoch: Number(body.epoch),
    root: String(body.root),
    status: body.status,
    account: String(body.account),
    epochWork: big(body.epochWork ?? 0, 'epochWork'),
    epochReward: big(body.epochReward ?? 0, 'epochReward'),
    cumulativeWork: big(body.cumulativeWork, 'cumulativeWork'),
    cumulativeReward: big(body.cumulativeReward, 'cumulativeReward'),
    proof: body.proof,
  };
}

export async function fetchPoolCredit(account: string): Promise<PoolCredit> {
  const body = await getJson<MemberResponse>(`/api/members/${account}`);
  return { work: Number(body.work ?? 0), shares: Number(body.shares ?? 0) };
}

/** Queues a signed ballot; the relayer submits it with the voter's leaf. */
export async function postVote(vote: { proposalId: bigint; support: VoteSupport; voter: string; signature: string }): Promise<RelayRecord> {
  return relayRecord(await postJson<AcceptedVote>('/api/votes', { ...vote, proposalId: vote.proposalId.toString() }));
}

export async function postClaim(claim: { account: string; epoch: bigint; deadline: bigint; signature: string }): Promise<RelayRecord> {
  return relayRecord(
    await postJson<AcceptedClaim>('/api/claims', { account: claim.account, epoch: Number(claim.epoch), deadline: Number(claim.deadline), signature: claim.signature }),
  );
}

export async function postProposal(proposal: {
  proposer: string;
  kind: number;
  epoch: bigint;
  parameter: string;
  value: bigint;
  description: string;
  nonce: bigint;
  signature: string;
}): Promise<RelayRecord> {
  return relayRecord(
    await postJson<AcceptedProposal>('/api/proposals', { ...proposal, epoch: Number(proposal.epoch), value: proposal.value.toString(), nonce: proposal.nonce.toString() }),
  );
}

export async function fetchVotes(voter: string): Promise<RelayRecord[]> {
  return relayList(await getJson<RelayedRequests<RelayedVote>>(`/api/votes/${voter}`));
}

export async function fetchClaims(account: string): Promise<RelayRecord[]> {
  return relayList(await getJson<RelayedRequests<RelayedClaim>>(`/api/claims/${account}`));
}

function relayList(body: OnWire<RelayedRequests<RelayedVote | RelayedClaim>>): RelayRecord[] {
  return (Array.isArray(body.requests) ? body.requests : []).map(relayRecord);
}

/** Any of the relayer's answers: an accepted request or a listed one. */
type RelayAnswer = Pick<OnWire<RelayedVote>, 'id'> & { status: RelayStatus } & Partial<OnWire<Pick<RelayedProposal, 'proposalId' | 'txHash' | 'error'> & Pick<RelayedClaim, 'epoch' | 'amount' | 'skipped'>>>;

function relayRecord(raw: RelayAnswer): RelayRecord {
  const { proposalId, epoch, amount } = raw;
  const status = String(raw.status);
  return {
    id: String(raw.id),
    status: (['queued', 'sent', 'confirmed', 'failed'].includes(status) ? status : 'queued') as RelayStatus,
    txHash: optionalText(raw.txHash),
    error: optionalText(raw.error),
    skipped: optionalText(raw.skipped),
    ...(proposalId !== undefined && proposalId !== null ? { proposalId: String(proposalId) } : {}),
    ...(epoch !== undefined && epoch !== null ? { epoch: Number(epoch) } : {}),
    ...(amount !== undefined && amount !== null ? { amount: big(amount, 'amount') } : {}),
  };
}

/** GET /api/history?hours=N: the pool's shares and work per 5-minute bucket (the pool page's charts). */
export async function fetchHistory(hours = 24): Promise<HistoryResponse> {
  const body = await getJson<HistoryResponse>(`/api/history?hours=${hours}`);
  if (!Array.isArray(body.buckets) || typeof body.bucketMs !== 'number') throw new Error('the gateway sent no history buckets');
  return { ...body, buckets: body.buckets.map((b) => ({ startMs: Number(b.startMs), shares: Number(b.shares), work: Number(b.work) })) };
}

/** GET /api/epochs/members/:address: the member's work and reward per epoch, newest first. */
export async function fetchMemberLeaves(account: string, limit = 100): Promise<MemberLeaf[]> {
  const body = await getJson<MemberLeavesResponse>(`/api/epochs/members/${account}?limit=${limit}`);
  return (Array.isArray(body.leaves) ? body.leaves : []).map((l) => ({
    epoch: Number(l.epoch),
    status: l.status,
    epochWork: big(l.epochWork, 'epochWork'),
    epochReward: big(l.epochReward, 'epochReward'),
    cumulativeWork: big(l.cumulativeWork, 'cumulativeWork'),
    cumulativeReward: big(l.cumulativeReward, 'cumulativeReward'),
  }));
}
