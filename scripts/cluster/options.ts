// What `npm run cluster` is asked to start, checked before anything starts: the counts, the ports,
// the ledger (a shared ledger must be PostgreSQL), and the flags each gateway will get, through
// dao-gateway's own parser and config loader, so a bad gateway flag is refused here with the
// gateway's own message instead of by N gateways at once.
import { gatewayConfigFromArgs } from '../../cli/dao-gateway.js';
import { integerOption, parseOptions } from '../../cli/args.js';
import { UsageError } from '../../cli/usage-error.js';
import { ConfigError } from '../../server/config.js';
import { loadGatewayArgs } from '../load/spawn-gateway.js';

/** Instance ids are one byte and 0 is the default of a lone gateway: the cluster's are 1..N. */
export const MAX_GATEWAYS = 255;
export const MAX_BALANCERS = 64;
/** Balancer b connects to the gateways from 127.1.0.b: apart from the load's 127.0.x.y sources. */
export const BALANCER_SOURCE_RANGE = '127.1.0.0/16';

export interface ClusterOptions {
  gateways: number;
  balancers: number;
  /** A postgres:// URL; undefined: a fresh database on the local test server, dropped at the end. */
  ledger: string | undefined;
  /** The first balancer's ports (the next ones count up from them); 0: any free port. */
  httpPort: number;
  stratumPort: number;
  /** Connections one client address may hold at a gateway (the load's --per-address). */
  perAddress: number;
  /** The share difficulty every gateway is pinned at (the load generator's default: every hash is a share). */
  difficulty: number;
  ledgerSynchronous: 'FULL' | 'NORMAL';
  /** Seconds between status lines; 0: none. */
  statusSeconds: number;
  /** More dao-gateway flags, after `--`. */
  gatewayArgs: string[];
}

export const USAGE = `usage: npm run cluster -- --gateways N [--balancers M] [--ledger postgres://USER:PASS@HOST:PORT/DB]
         [--http-port P] [--stratum-port P] [--per-address K] [--difficulty D] [--status-seconds S]
         [-- DAO-GATEWAY-FLAGS...]

Starts N dao-gateway processes (instance ids 1..N) on one PostgreSQL ledger and M HAProxy processes
(${'/usr/sbin/haproxy'}) in front of all of them, prints the addresses miners should use, a status
line per process every S seconds (settlement leader or not, connections, CPU, memory), and stops
everything on Ctrl-C. Without --ledger it creates a fresh database on the local test server
(DAO_TEST_POSTGRES_URL, default postgres://dao:dao@127.0.0.1:5432/dao) and drops it at the end.
One HAProxy process carries about 9,900 miners (two open files each, 20,000 per process).`;

function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name}: "${value}" is not a positive number`);
  return n;
}

export function parseClusterArgs(argv: string[]): ClusterOptions | 'help' {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const gatewayArgs = split === -1 ? [] : argv.slice(split + 1);
  const o = parseOptions(own, {
    gateways: { type: 'string' },
    balancers: { type: 'string' },
    ledger: { type: 'string' },
    'http-port': { type: 'string' },
    'stratum-port': { type: 'string' },
    'per-address': { type: 'string' },
    difficulty: { type: 'string' },
    'ledger-synchronous': { type: 'string' },
    'status-seconds': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (o.help) return 'help';
  if (o.gateways === undefined) throw new UsageError('--gateways is required (how many gateway processes, 1..255)');
  const gateways = integerOption(o.gateways, 'gateways', 0, 1, MAX_GATEWAYS);
  const balancers = integerOption(o.balancers, 'balancers', 1, 1, MAX_BALANCERS);
  const httpPort = integerOption(o['http-port'], 'http-port', 0, 0, 65535);
  const stratumPort = integerOption(o['stratum-port'], 'stratum-port', 0, 0, 65535);
  for (const [name, port] of [['http-port', httpPort], ['stratum-port', stratumPort]] as const) {
    if (port !== 0 && port + balancers - 1 > 65535) throw new UsageError(`--${name}: ${balancers} balancers need ports ${port}..${port + balancers - 1}, past 65535`);
  }
  if (httpPort !== 0 && stratumPort !== 0 && Math.abs(httpPort - stratumPort) < balancers) {
    throw new UsageError(`--http-port ${httpPort} and --stratum-port ${stratumPort}: ${balancers} balancers count up from each, and the two ranges overlap`);
  }
  const sync = o['ledger-synchronous'] ?? 'FULL';
  if (sync !== 'FULL' && sync !== 'NORMAL') throw new UsageError('--ledger-synchronous: expected FULL or NORMAL');
  const options: ClusterOptions = {
    gateways,
    balancers,
    ledger: o.ledger,
    httpPort,
    stratumPort,
    perAddress: integerOption(o['per-address'], 'per-address', 200, 1, 100_000),
    difficulty: numberOption(o.difficulty, 'difficulty', 1e-10),
    ledgerSynchronous: sync,
    statusSeconds: integerOption(o['status-seconds'], 'status-seconds', 10, 0, 3600),
    gatewayArgs,
  };
  checkGatewayArgs(options);
  return options;
}

/** The flags gateway `instanceId` runs with, past the load settings: the shared ledger and the balancers. */
export function clusterGatewayArgs(options: Pick<ClusterOptions, 'gatewayArgs'>, ledger: string, instanceId: number): string[] {
  return ['--ledger', ledger, '--instance-id', String(instanceId), '--trusted-proxy', BALANCER_SOURCE_RANGE, ...options.gatewayArgs];
}

/** Runs the first gateway's whole argument list through dao-gateway's loader (without the environment, as the gateways get none). */
function checkGatewayArgs(options: ClusterOptions): void {
  const ledger = options.ledger ?? 'postgres://checked:later@127.0.0.1:5432/fresh';
  const args = loadGatewayArgs({ ...options, connectionsPerAddress: options.perAddress, extraArgs: clusterGatewayArgs(options, ledger, 1) }, '/nonexistent');
  let config;
  try {
    config = gatewayConfigFromArgs(args, {});
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) throw new UsageError(`gateway flags after --: ${err.message}`);
    throw err;
  }
  if (config === 'help') throw new UsageError('gateway flags after --: --help is not a gateway setting here (try npm run cluster -- --help)');
  if (!/^postgres(ql)?:/.test(config.ledger)) throw new UsageError(`--ledger: gateways sharing a ledger need PostgreSQL (postgres://USER:PASS@HOST:PORT/DB), not ${config.ledger}`);
  const owned = ['--ledger', '--instance-id', '--http-port', '--stratum-port', '--host', '--data-dir'];
  const clash = options.gatewayArgs.find((a) => owned.includes(a.split('=')[0]!));
  if (clash) throw new UsageError(`gateway flags after --: ${clash.split('=')[0]} is set by the cluster for each gateway (use the cluster's own option where there is one)`);
}
