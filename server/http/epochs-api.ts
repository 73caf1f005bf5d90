// Settlement epochs and Merkle proofs over HTTP: what the web app shows and what a member needs to
// claim or vote (the proof is checked on-chain, so serving it needs no trust in this gateway).
//
//   GET /api/epochs?limit=&offset=           current epoch + closed epochs, newest first
//   GET /api/epochs/:n                       one epoch
//   GET /api/epochs/latest                   the latest PUBLISHED epoch
//   GET /api/epochs/:n/proof/:address        a member's leaf and proof in epoch n
//   GET /api/epochs/latest/proof/:address    the same in the latest published epoch
//   GET /api/epochs/members/:address?limit=&offset=   a member's leaves, newest first, no proofs
//   GET /api/epochs/:n/audit                 the epoch's audit bundle (NDJSON, streamed; x-bundle-hash: its sha256)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getAddress } from 'ethers';
import type { CurrentEpoch, EpochInfo, EpochsResponse, MemberLeavesResponse, ProofResponse } from '../../protocol/api.js';
import type { GatewayView } from '../gateway-view.js';
import type { Settlement } from '../settlement/settlement.js';
import { EpochTreeError } from '../settlement/epoch-trees.js';
import type { EpochSummary, ProvenLeaf } from '../settlement/settlement-store.js';
import { HttpError, send } from './respond.js';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

export async function handleEpochsApi(view: GatewayView, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (!url.pathname.startsWith('/api/epochs')) return false;
  const settlement = view.settlement;
  if (!settlement) throw new HttpError(503, 'this gateway settles on no chain (set --chain-rpc): no epochs');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, { error: `${req.method} is not allowed on ${url.pathname}: epochs are read-only` }, { allow: 'GET, HEAD' });
    return true;
  }
  let parts: string[];
  try {
    parts = url.pathname.split('/').slice(3).map(decodeURIComponent);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in ${url.pathname.slice(0, 120)}`);
  }
  if (parts.at(-1) === '') parts.pop(); // a trailing slash
  const [first, second, third, ...rest] = parts;

  if (first === undefined) {
    const limit = intParam(url, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT);
    const offset = intParam(url, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const [open, epochs] = await Promise.all([settlement.currentEpoch(), settlement.store.epochs(limit, offset)]);
    // Empty epochs do not close: whether the next boundary closes this one depends on shares since it began.
    const current: CurrentEpoch = { ...open, closesWhenEmpty: false, pendingWork: (await view.ledger.workSince(open.startMs)) > 0 };
    send(res, 200, { current, epochs: await Promise.all(epochs.map((e) => epochJson(settlement, e))) } satisfies EpochsResponse);
    return true;
  }
  if (first === 'members' && second !== undefined && third === undefined) {
    const account = parseAddress(second);
    const limit = intParam(url, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT);
    const offset = intParam(url, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const leaves = (await settlement.store.memberLeaves(account, limit, offset)).map(({ epoch, status, epochWork, epochReward, cumulativeWork, cumulativeReward }) => ({
      epoch,
      status,
      epochWork,
      epochReward,
      cumulativeWork,
      cumulativeReward,
    }));
    send(res, 200, { account, leaves } satisfies MemberLeavesResponse);
    return true;
  }
  if (second === 'audit' && third === undefined) {
    const epoch = await resolveEpoch(settlement, first);
    const store = settlement.store;
    const hash = await store.bundleHash?.(epoch.epoch);
    const lines = store.auditBundle?.(epoch.epoch);
    if (hash === undefined || lines === undefined) throw new HttpError(501, 'this gateway keeps no audit bundles');
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-bundle-hash': hash, 'cache-control': 'public, max-age=31536000, immutable' });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    // Streamed with backpressure: a slow reader holds one page of shares, not the epoch.
    await pipeline(Readable.from(lines), res).catch((err: unknown) => view.log.warn({ err, epoch: epoch.epoch }, 'audit bundle download ended early'));
    return true;
  }
  if (rest.length === 0 && (second === undefined || (second === 'proof' && third !== undefined))) {
    const epoch = await resolveEpoch(settlement, first);
    if (second === undefined) {
      send(res, 200, await epochJson(settlement, epoch));
      return true;
    }
    const account = parseAddress(third!);
    const leaf = await settlement.store.leaf(epoch.epoch, account).catch((err: unknown) => {
      if (!(err instanceof EpochTreeError)) throw err;
      // The ledger is damaged, not the request: said plainly (and logged), and the gateway goes on.
      view.log.error({ epoch: err.epoch }, err.message);
      throw new HttpError(503, err.message);
    });
    if (!leaf) throw new HttpError(404, `${account} has no leaf in epoch ${epoch.epoch} (no work credited up to that epoch)`);
    send(res, 200, proofJson(epoch, leaf));
    return true;
  }
  throw new HttpError(404, `no such endpoint: ${url.pathname}`);
}

/** `:n` or `latest` (the latest published epoch). */
async function resolveEpoch(settlement: Settlement, text: string): Promise<EpochSummary> {
  if (text === 'latest') {
    const latest = await settlement.store.latestPublished();
    if (!latest) throw new HttpError(404, 'no epoch has been published yet');
    return latest;
  }
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < 1) {
    throw new HttpError(400, `epoch must be a positive integer or "latest", got ${JSON.stringify(text.slice(0, 40))}`);
  }
  const epoch = await settlement.store.epoch(Number(text));
  if (!epoch) throw new HttpError(404, `epoch ${Number(text)} does not exist (the current epoch is ${(await settlement.currentEpoch()).epoch}, still open)`);
  return epoch;
}

/** A checksummed address; an all-lower or all-upper address is taken as is, a mixed-case one must pass EIP-55. */
function parseAddress(text: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) throw new HttpError(400, `invalid address ${JSON.stringify(text.slice(0, 64))}: expected 0x and 40 hex digits`);
  try {
    return getAddress(text);
  } catch {
    throw new HttpError(400, `invalid address ${text}: bad EIP-55 checksum (mixed case must match the checksum; or send it all lower case)`);
  }
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const text = url.searchParams.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new HttpError(400, `${name} must be an integer in ${min}..${max === Number.MAX_SAFE_INTEGER ? 'infinity' : max}, got ${JSON.stringify(text.slice(0, 40))}`);
  }
  return value;
}

/** The stored epoch with its challenge window and veto, as the chain has them. */
async function epochJson(settlement: Settlement, e: EpochSummary): Promise<EpochInfo> {
  const challengeEndsAtMs = e.status === 'published' ? ((await settlement.challenges.challengeEndsAtMs(e.epoch)) ?? null) : null;
  return {
    epoch: e.epoch,
    startMs: e.startMs,
    endMs: e.endMs,
    epochWork: e.epochWork,
    totalWork: e.totalWork,
    reward: e.reward,
    reinvested: e.reinvested,
    reinvestmentBps: e.reinvestmentBps,
    root: e.root,
    status: e.status,
    txHash: e.txHash,
    blockNumber: e.blockNumber,
    members: e.members,
    publishedAtMs: e.publishedAtMs,
    challengeEndsAtMs,
    vetoed: settlement.challenges.vetoOf(e.epoch) ?? null,
  };
}

function proofJson(e: EpochSummary, leaf: ProvenLeaf): ProofResponse {
  return {
    epoch: e.epoch,
    root: e.root,
    status: e.status,
    account: leaf.member,
    epochWork: leaf.epochWork,
    epochReward: leaf.epochReward,
    cumulativeWork: leaf.cumulativeWork,
    cumulativeReward: leaf.cumulativeReward,
    proof: leaf.proof,
  };
}
