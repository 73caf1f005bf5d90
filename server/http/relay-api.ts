// HTTP side of the relayer: POST signed votes, claims and proposals; GET the proposals on-chain and
// an account's relayed requests. Members sign in their browser and pay no gas.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getAddress, isAddress } from 'ethers';
import type { ProposalsResponse, RelayedClaim, RelayedProposal, RelayedRequests, RelayedVote } from '../../protocol/api.js';
import type { GatewayView } from '../gateway-view.js';
import { shortError } from '../relayer/chain-errors.js';
import { big, text } from '../relayer/lane.js';
import type { RelayKind, RelayRecord } from '../relayer/request-store.js';
import { requestClientKey } from './request-client.js';
import { HttpError, readJsonBody, send } from './respond.js';

type Resource = 'votes' | 'claims' | 'proposals';
const KIND_OF: Record<Resource, RelayKind> = { votes: 'vote', claims: 'claim', proposals: 'proposal' };

/**
 * Routes:
 *   POST /api/votes                       signed ballot          → 202 { id, status }
 *   POST /api/claims                      signed claim request   → 202 { id, status, epoch, amount }
 *   POST /api/proposals                   signed proposal        → 202 { id, status, nonce }
 *   GET  /api/proposals                   proposals on-chain     → 200 { proposals: [...] }
 *   GET  /api/votes/:address              relayed requests       → 200 { account, requests: [...] }
 *   GET  /api/claims/:address             (same)
 *   GET  /api/proposals/requests/:address (same)
 * dao-api.ts has already checked that the gateway has a chain and a relayer.
 */
export async function handleRelayApi(view: GatewayView, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const relayer = view.relayer;
  if (!relayer) throw new HttpError(503, 'this gateway runs no relayer');
  const [, resource, ...rest] = url.pathname.split('/').filter(Boolean) as [string, Resource, ...string[]];
  const method = req.method ?? 'GET';
  const isGet = method === 'GET' || method === 'HEAD';

  if (rest.length === 0) {
    if (resource === 'proposals' && isGet) {
      let proposals;
      try {
        proposals = await relayer.listProposals();
      } catch (err) {
        throw new HttpError(503, `the chain node did not answer: ${shortError(err)}; try again shortly`);
      }
      send(res, 200, { proposals } satisfies ProposalsResponse);
      return true;
    }
    if (method !== 'POST') return notAllowed(res, method, resource === 'proposals' ? 'GET, HEAD, POST' : 'POST');
    // Cheap refusals first: the client address's quota, then the gas budget, before the body is read.
    relayer.limits.admitIp(requestClientKey(view.config, req));
    relayer.limits.checkBudget();
    const body = await readJsonBody(req);
    const accepted =
      resource === 'votes' ? await relayer.submitVote(body) : resource === 'claims' ? await relayer.submitClaim(body) : await relayer.submitProposal(body);
    send(res, 202, accepted);
    return true;
  }

  const addressText = resource === 'proposals' ? (rest[0] === 'requests' && rest.length === 2 ? rest[1] : undefined) : rest.length === 1 ? rest[0] : undefined;
  if (addressText === undefined) throw new HttpError(404, `no such endpoint: ${url.pathname}`);
  if (!isGet) return notAllowed(res, method, 'GET, HEAD');
  const account = parseAddress(addressText);
  const requests = (await relayer.requests(KIND_OF[resource], account)).map(publicRecord);
  send(res, 200, { account, requests } satisfies RelayedRequests<RelayedVote | RelayedClaim | RelayedProposal>);
  return true;
}

function notAllowed(res: ServerResponse, method: string, allow: string): true {
  send(res, 405, { error: `${method} is not allowed here; use ${allow}` }, { allow });
  return true;
}

function parseAddress(text: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    throw new HttpError(400, 'the address in the path is not valid URL encoding');
  }
  const shown = decoded.slice(0, 80);
  if (!isAddress(decoded)) throw new HttpError(400, `"${shown}" is not an address (0x and 40 hex digits, valid checksum if mixed case)`);
  return getAddress(decoded);
}

/** What a member may see of a request: no signature, no proof (both are theirs anyway, but noise). */
function publicRecord(record: RelayRecord): RelayedVote | RelayedClaim | RelayedProposal {
  const p = record.payload;
  const common = { id: record.id, status: record.status, txHash: record.txHash, error: record.error, skipped: typeof p['skipped'] === 'string' ? p['skipped'] : null, createdAtMs: record.createdAtMs, updatedAtMs: record.updatedAtMs };
  switch (record.kind) {
    case 'vote':
      return { ...common, proposalId: big(p, 'proposalId'), support: Number(p['support']), epoch: big(p, 'epoch'), weight: big(p, 'cumulativeWork') };
    case 'claim':
      return { ...common, epoch: big(p, 'epoch'), amount: big(p, 'amount'), cumulativeReward: big(p, 'cumulativeReward'), deadline: big(p, 'deadline') };
    case 'proposal':
      return {
        ...common,
        nonce: big(p, 'nonce'),
        kind: Number(p['kind']),
        epoch: big(p, 'epoch'),
        parameter: text(p, 'parameter'),
        value: big(p, 'value'),
        description: text(p, 'description'),
        proposalId: p['proposalId'] === undefined ? null : big(p, 'proposalId'),
      };
  }
}
