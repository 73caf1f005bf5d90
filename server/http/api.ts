import type { IncomingMessage, ServerResponse } from 'node:http';
import { getAddress, isHexString } from 'ethers';
import type { ApiError, HealthResponse, MemberResponse, StatsResponse, WorkSourceInfo } from '../../protocol/api.js';
import { bytesToHex, reverseBytes } from '../../protocol/hex.js';
import { bitsToTarget, targetToDifficulty } from '../../protocol/target.js';
import type { GatewayView } from '../gateway-view.js';
import { healthProblems } from '../health.js';
import { handleDaoApi } from './dao-api.js';
import { HistoryCache, historyHours } from './history-api.js';
import { HttpError, send } from './respond.js';
import { BASE_SECURITY_HEADERS, NO_FRAMING } from './security-headers.js';
import { serveStatic } from './static-files.js';

const FIVE_MINUTES_MS = 5 * 60_000;
const HOUR_MS = 60 * 60_000;
/** The shortest span a member's rate is divided by: one share right after connecting is no rate. */
const MEMBER_RATE_MIN_SPAN_MS = 10_000;

/** The HTTP side of the gateway: health, stats, member records, metrics, the DAO API, and the web app. */
export function createRequestHandler(view: GatewayView) {
  const history = new HistoryCache(view.ledger);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // On every response, whichever branch answers: pages replace the framing pair (static-files.ts).
    for (const [name, value] of Object.entries({ ...BASE_SECURITY_HEADERS, ...NO_FRAMING })) res.setHeader(name, value);
    try {
      const url = requestUrl(req.url);
      const path = url.pathname;
      if (req.method === 'OPTIONS' && path.startsWith('/api/')) {
        // CORS preflight for the JSON POSTs (signed votes and claims).
        res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD, POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' });
        return void res.end();
      }
      if (await handleDaoApi(view, req, res, url)) return;
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: `${req.method} is not allowed` }, { allow: 'GET, HEAD' });
      if (path === '/healthz') return health(view, res);
      if (path === '/api/stats') return send(res, 200, await stats(view));
      if (path === '/api/history') return send(res, 200, await history.get(historyHours(url)));
      if (path.startsWith('/api/members/')) return await member(view, res, decodeURIComponent(path.slice('/api/members/'.length)));
      if (path === '/metrics') {
        view.refreshGauges();
        res.writeHead(200, { 'content-type': view.metrics.registry.contentType });
        return void res.end(await view.metrics.registry.metrics());
      }
      if (path.startsWith('/api/')) return send(res, 404, { error: `no such endpoint: ${path}` });
      if (view.webRoot && serveStatic(view.webRoot, req, res, path)) return;
      send(res, 404, { error: 'not found' });
    } catch (err) {
      if (err instanceof HttpError) {
        // The client's mistake, not the gateway's: debug, or a scanner fills the log with them.
        view.log.debug({ status: err.status, url: (req.url ?? '').slice(0, 200), reason: err.message }, 'HTTP request refused');
        if (err.status === 400) view.metrics.badRequests.inc();
        if (!res.headersSent) send(res, err.status, { error: err.message } satisfies ApiError, err.headers);
        return;
      }
      view.log.error({ err }, 'HTTP request failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  };
}

/**
 * The request's URL, refused with 400 (never a 500 and a stack trace) when it does not parse or its
 * path holds a percent-encoding that does not decode (/%E0%A4%A, /%ZZ): checked once here, so
 * every route below may decode its parts.
 */
export function requestUrl(target: string | undefined): URL {
  const text = target ?? '/';
  const shown = JSON.stringify(text.slice(0, 120));
  // Only origin-form: "http://other/..." or "*" in a request line is no path of this gateway.
  if (!text.startsWith('/')) throw new HttpError(400, `request target ${shown} is not a path`);
  let url: URL;
  try {
    url = new URL(text, 'http://gateway');
  } catch {
    throw new HttpError(400, `request target ${shown} is not a valid URL`);
  }
  try {
    decodeURIComponent(url.pathname);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in the path ${shown}`);
  }
  return url;
}

function health(view: GatewayView, res: ServerResponse): void {
  const problems = healthProblems(view);
  const latestVeto = view.settlement?.challenges.latestVeto();
  // With a shared PostgreSQL ledger one gateway settles and relays; the others only accept work.
  const settlement = view.settlement && { leader: view.settlement.isLeader, ...(latestVeto && { latestVeto }) };
  const body: HealthResponse = { status: problems.length ? 'degraded' : 'ok', problems, workSource: sourceInfo(view), ...(settlement && { settlement }) };
  send(res, problems.length ? 503 : 200, body);
}

function sourceInfo(view: GatewayView): WorkSourceInfo {
  return { kind: view.source.kind, label: view.source.label, connected: view.source.connected, practice: view.source.kind === 'practice' };
}

async function stats(view: GatewayView): Promise<StatsResponse> {
  const job = view.jobs.current;
  // Read first: the rest describes this gateway as it is once the ledger (maybe a remote one) answered.
  const [totals, hourWork] = await Promise.all([view.ledger.totals(), view.ledger.workSince(Date.now() - HOUR_MS)]);
  const sessions = [...view.hub.sessions.values()];
  const difficulties = sessions.map((s) => s.difficulty).sort((a, b) => a - b);

  return {
    workSource: sourceInfo(view),
    hashesPerSecond5m: view.stats.hashesPerSecond(FIVE_MINUTES_MS / 1000),
    hashesPerSecond1h: hourWork / (HOUR_MS / 1000),
    sharesPerSecond: view.stats.sharesPerSecond(),
    rejectedPerSecond: view.stats.rejectedPerSecond(),
    connections: sessions.length,
    // Counters the hub keeps: walking every identity made /api/stats 30x slower under an identity flood.
    miners: view.hub.memberWorkers.size,
    workers: view.hub.workerCount,
    difficulty: {
      start: view.config.startDifficulty,
      min: view.config.minDifficulty,
      median: difficulties[difficulties.length >> 1] ?? null,
    },
    currentJob: job && {
      id: job.id,
      height: job.template.height ?? null,
      prevhash: bytesToHex(reverseBytes(job.template.prevhash)),
      ntime: job.template.ntime,
      networkDifficulty: targetToDifficulty(bitsToTarget(job.template.bits)),
      ageSeconds: Math.round((Date.now() - job.createdAtMs) / 1000),
    },
    totals,
    uptimeSeconds: Math.round((Date.now() - view.stats.startedAtMs) / 1000),
  };
}

async function member(view: GatewayView, res: ServerResponse, address: string): Promise<void> {
  if (!isHexString(address, 20)) return send(res, 400, { error: `"${address.slice(0, 80)}" is not an address: expected 0x and 40 hex digits` });
  let checksummed: string;
  try {
    checksummed = getAddress(address);
  } catch {
    return send(res, 400, { error: `"${address}" has a bad EIP-55 checksum` });
  }
  const nowMs = Date.now();
  const [summary, hour] = await Promise.all([
    view.ledger.member(checksummed, { windowMs: FIVE_MINUTES_MS, nowMs }),
    view.ledger.member(checksummed, { windowMs: HOUR_MS, nowMs, recent: 0 }),
  ]);
  const { hashesPerSecond: fiveMinuteRate, ...record } = summary;
  // Only this member's sessions (the hub indexes them), not every session of the gateway.
  const live = [...(view.hub.memberSessions.get(checksummed) ?? [])];
  const body: MemberResponse = {
    ...record,
    hashesPerSecond5m: minedRate(fiveMinuteRate, FIVE_MINUTES_MS, summary.firstShareAtMs, nowMs),
    hashesPerSecond1h: minedRate(hour.hashesPerSecond, HOUR_MS, summary.firstShareAtMs, nowMs),
    workers: live.flatMap((s) => s.identities.filter((i) => i.member === checksummed).map((i) => ({ worker: i.worker, difficulty: s.difficulty }))),
  };
  send(res, 200, body);
}

/**
 * A rate the ledger computed over a whole window, re-divided by the part of the window the member
 * mined in when its first share came inside it: 30 s of mining is not spread over 5 minutes.
 */
export function minedRate(windowRate: number, windowMs: number, firstShareAtMs: number | null, nowMs: number): number {
  if (firstShareAtMs === null) return 0;
  const minedMs = Math.min(windowMs, Math.max(nowMs - firstShareAtMs, MEMBER_RATE_MIN_SPAN_MS));
  return (windowRate * windowMs) / minedMs;
}
