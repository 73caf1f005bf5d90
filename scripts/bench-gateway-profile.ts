// Reads a V8 .cpuprofile of the gateway (taken by bench-gateway-child.ts over the load window) and
// says where its time went: by area (WebSocket, JSON, SHA-256, SQLite, GC...) and by function.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  ms: number;
  /** Share of the sampled time, idle included. */
  share: number;
}

export interface ProfileSummary {
  file: string;
  sampledMs: number;
  areas: ProfileLine[];
  functions: ProfileLine[];
}

/**
 * The area of the code a sampled frame belongs to, from its script URL. Native frames are named
 * by who called them: better-sqlite3's `run` is both the share INSERT and the transaction's
 * BEGIN/COMMIT, and only the caller tells the fsync apart from the insert.
 */
function areaOf({ functionName, url }: ProfileNode['callFrame'], caller: string | undefined): string {
  if (functionName === '(idle)') return 'idle (waiting for I/O)';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8 and native, unattributed';
  if (url === '' && functionName === 'run') {
    return caller === 'sqliteTransaction' ? 'SQLite BEGIN/COMMIT (dirty pages to the WAL, fsync)' : 'SQLite share INSERT (triggers, indexes)';
  }
  if (url === '' && /^write/.test(functionName)) return 'socket writes (native)';
  if (url.includes('/node_modules/ws/')) return 'ws (WebSocket frames)';
  if (url.includes('/node_modules/better-sqlite3/') || url.includes('/server/ledger/')) return 'ledger JS (better-sqlite3 wrapper, group commit)';
  if (url.includes('/node_modules/@noble/')) return 'SHA-256 (@noble/hashes)';
  if (url.includes('/node_modules/ethers/')) return 'ethers (address checks)';
  if (url.includes('/node_modules/pino') || url.includes('/node_modules/prom-client/') || url.includes('/server/metrics') || url.includes('/server/pool-stats')) return 'metrics, stats, logging';
  if (url.includes('/protocol/')) return 'protocol (verifyShare, hex, BigInt targets)';
  if (url.includes('/server/')) return 'gateway JS (session, pump, jobs, transport)';
  if (url.startsWith('node:')) return 'Node internals (net, streams, timers)';
  if (url === '') return `native: ${functionName || '(anonymous)'}`;
  return 'other JS';
}

function shortName({ functionName, url, lineNumber }: ProfileNode['callFrame'], caller: string | undefined): string {
  const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|server|protocol|scripts)\//, '$1/')}:${lineNumber + 1}` : `native, called by ${caller || '(anonymous)'}`;
  return `${functionName || '(anonymous)'} ${where}`;
}

export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const callers = new Map<number, string>();
  for (const n of profile.nodes) for (const child of n.children ?? []) callers.set(child, n.callFrame.functionName);
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id)!.callFrame;
    const caller = callers.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    totalUs += us;
    const area = areaOf(frame, caller);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const name = shortName(frame, caller);
    if (frame.functionName !== '(idle)') functions.set(name, (functions.get(name) ?? 0) + us);
  });
  const lines = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / totalUs }));
  return { file, sampledMs: totalUs / 1000, areas: lines(areas), functions: lines(functions) };
}
