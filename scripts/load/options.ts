// What a load run is asked to do, checked once: the bounds, loopback only, and enough open files
// for every connection (Node cannot raise its own limit, so a run that cannot fit is refused
// before it starts rather than failing with EMFILE at connection 19,990).
import { loopbackEndpoint } from './loopback.js';
import { openFileLimit } from './proc-stats.js';
import type { Endpoint } from './links.js';
import type { Answer } from './miner.js';

export interface LoadOptions {
  /** WebSocket miners. */
  miners: number;
  /** TCP miners beside them (default 1, so both transports are exercised). */
  tcpMiners?: number;
  /** Total valid shares per second over all miners. */
  rate: number;
  /** The measurement window, after the warm-up. */
  seconds: number;
  /** Submitting before the window opens (default: seconds / 5, at most 5). */
  warmupSeconds?: number;
  /**
   * A running gateway: its WebSocket URL (ws://127.0.0.1:PORT/stratum) or its HTTP port, and its
   * Stratum TCP URL or port. Absent: the built gateway is started as a child process. Several
   * URLs (the balancers of a cluster): the miners are dealt out over them in turn.
   */
  gatewayUrl?: string | string[];
  httpPort?: number;
  stratumUrl?: string | string[];
  stratumPort?: number;
  /** The running gateway's process id, to read its CPU and memory from /proc. */
  gatewayPid?: number;
  /** The spawned gateway's ledger durability (default FULL). */
  ledgerSynchronous?: 'FULL' | 'NORMAL';
  /**
   * The difficulty the spawned gateway is pinned at. Default 1e-10: below 2.3e-10 the share
   * target is clamped to 2^256 - 1, every hash is a share and the miners make shares by counting.
   */
  difficulty?: number;
  /** Connections per source address 127.0.0.x (default 200, under the gateway's default cap of 256). */
  perAddress?: number;
  /**
   * The index of this run's first source address among 127.0.0.1, 127.0.0.2, ... (default 0):
   * runs side by side (--processes) take disjoint addresses, so each stays under its per-address cap.
   */
  sourceOffset?: number;
  /**
   * A miner whose connection drops during the run logs in again (through the balancer, to a
   * gateway still up) and goes on; the drop and the shares it left unanswered are counted as
   * interruptions, not errors. For a run that kills a gateway on purpose.
   */
  reconnect?: boolean;
  /** Logins in progress at once during the connect phase (default 500). */
  connectParallel?: number;
  /** Seconds of CPU profile of the spawned gateway from the start of the window; 0: none. */
  cpuProfileSeconds?: number;
  /** Where the profile goes (default: a file in the temp folder). */
  cpuProfileFile?: string;
  /** Called with every submit's answer (a crash test keeps the accepted ones to find in the ledger). */
  onAnswer?: (answer: Answer) => void;
  /**
   * Awaited once every miner is logged in, before the first share: load processes side by side
   * (--processes) start their shares together, so no window overlaps another's connect phase.
   */
  beforeLoad?: () => Promise<void>;
  /** Progress lines (connecting, the per-second line); default: none. */
  log?: (line: string) => void;
  /** Ends the run early (the summary covers what ran). */
  signal?: AbortSignal;
}

export const LIMITS = { miners: 50_000, rate: 100_000, seconds: 3_600 } as const;
/** Descriptors a Node process needs besides its sockets: about 13 in the gateway (stdio, epoll, pipes, the ledger's three files) and 18 here, measured, with room to spare. */
export const FD_MARGIN = 40;

/** 127.0.0.1 to 127.0.255.254, as sourceAddresses deals them out. */
export const MAX_SOURCE_ADDRESSES = 256 * 254;

const urls = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

export class LoadOptionsError extends Error {
  override readonly name = 'LoadOptionsError';
}

export interface ResolvedOptions {
  wsMiners: number;
  tcpMiners: number;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** Absent: spawn a gateway. */
  target: { ws: Endpoint[]; tcp: Endpoint[]; pid: number | undefined } | undefined;
  ledgerSynchronous: 'FULL' | 'NORMAL';
  difficulty: number;
  perAddress: number;
  sourceOffset: number;
  reconnect: boolean;
  connectParallel: number;
  cpuProfileSeconds: number;
  cpuProfileFile: string | undefined;
  openFiles: { soft: number; hard: number } | undefined;
}

function bounded(value: number | undefined, name: string, fallback: number, min: number, max: number, integer = true): number {
  const n = value ?? fallback;
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new LoadOptionsError(`${name}: ${value} is outside ${min}..${max}${integer ? ' (a whole number)' : ''}`);
  }
  return n;
}

export function resolveOptions(options: LoadOptions): ResolvedOptions {
  const wsMiners = bounded(options.miners, 'miners', 0, 0, LIMITS.miners);
  const tcpMiners = bounded(options.tcpMiners, 'tcp-miners', 1, 0, LIMITS.miners);
  if (wsMiners + tcpMiners === 0) throw new LoadOptionsError('miners: at least one miner is needed');
  if (wsMiners + tcpMiners > LIMITS.miners) throw new LoadOptionsError(`miners + tcp-miners: ${wsMiners + tcpMiners} is over ${LIMITS.miners}`);
  const rate = bounded(options.rate, 'rate', 0, 0, LIMITS.rate, false);
  const seconds = bounded(options.seconds, 'seconds', 0, 1, LIMITS.seconds);
  const warmupSeconds = bounded(options.warmupSeconds, 'warmup', Math.min(5, Math.ceil(seconds / 5)), 0, 600);

  const external = options.gatewayUrl !== undefined || options.httpPort !== undefined || options.stratumUrl !== undefined || options.stratumPort !== undefined;
  let target: ResolvedOptions['target'];
  if (external) {
    const ws =
      options.gatewayUrl !== undefined
        ? urls(options.gatewayUrl).map((url) => ({ transport: 'ws' as const, ...loopbackEndpoint(url, ['ws:'], 'gateway') }))
        : options.httpPort !== undefined
          ? [{ transport: 'ws' as const, host: '127.0.0.1', port: bounded(options.httpPort, 'httpPort', 0, 1, 65535) }]
          : [];
    const tcp =
      options.stratumUrl !== undefined
        ? urls(options.stratumUrl).map((url) => ({ transport: 'tcp' as const, ...loopbackEndpoint(url, ['stratum+tcp:', 'tcp:'], 'gateway-tcp') }))
        : options.stratumPort !== undefined
          ? [{ transport: 'tcp' as const, host: ws[0]?.host ?? '127.0.0.1', port: bounded(options.stratumPort, 'stratumPort', 0, 1, 65535) }]
          : [];
    if (wsMiners > 0 && ws.length === 0) throw new LoadOptionsError('WebSocket miners need the gateway\'s WebSocket URL (--gateway ws://127.0.0.1:PORT/stratum)');
    if (tcpMiners > 0 && tcp.length === 0) throw new LoadOptionsError('TCP miners need the gateway\'s Stratum TCP URL (--gateway-tcp stratum+tcp://127.0.0.1:PORT), or --tcp-miners 0');
    target = { ws, tcp, pid: options.gatewayPid };
  }

  const cpuProfileSeconds = bounded(options.cpuProfileSeconds, 'cpu-prof-seconds', 0, 0, LIMITS.seconds);
  if (cpuProfileSeconds > 0 && target) throw new LoadOptionsError('a CPU profile needs the gateway this run starts (no --gateway)');

  // Every connection is a descriptor here, and one at the gateway: neither process can raise its
  // limit past the hard one, so a run that does not fit is refused now.
  const openFiles = openFileLimit();
  const needed = wsMiners + tcpMiners + FD_MARGIN;
  if (openFiles && needed > openFiles.soft) {
    throw new LoadOptionsError(
      `${wsMiners + tcpMiners} connections need about ${needed} open files in this process (and as many in the gateway), ` +
        `but the limit (ulimit -n) is ${openFiles.soft} (hard limit ${openFiles.hard}). ` +
        (openFiles.hard >= needed
          ? `Raise it first: ulimit -n ${openFiles.hard} (npm run load does this itself).`
          : `The hard limit is below that too: run at most ${Math.max(0, openFiles.soft - FD_MARGIN)} connections (--miners plus --tcp-miners), or raise the hard limit (as root with CAP_SYS_RESOURCE, or in /etc/security/limits.conf or the container's settings).`),
    );
  }

  return {
    wsMiners,
    tcpMiners,
    rate,
    seconds,
    warmupSeconds,
    target,
    ledgerSynchronous: options.ledgerSynchronous ?? 'FULL',
    difficulty: bounded(options.difficulty, 'difficulty', 1e-10, 1e-15, 1e12, false),
    perAddress: bounded(options.perAddress, 'per-address', 200, 1, 100_000),
    sourceOffset: bounded(options.sourceOffset, 'source-offset', 0, 0, MAX_SOURCE_ADDRESSES - Math.ceil((wsMiners + tcpMiners) / (options.perAddress ?? 200))),
    reconnect: options.reconnect ?? false,
    connectParallel: bounded(options.connectParallel, 'connect-parallel', 500, 1, 10_000),
    cpuProfileSeconds,
    cpuProfileFile: options.cpuProfileFile,
    openFiles,
  };
}
