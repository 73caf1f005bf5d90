import type { ParseArgsConfig } from 'node:util';
import { ConfigError, envName, loadConfig, SETTINGS, type GatewayConfig } from '../server/config.js';
import { startGateway } from '../server/gateway.js';
import { tuneHeapForManyConnections } from '../server/heap-tuning.js';
import { parseOptions } from './args.js';
import { helpLine, settingsHelp } from './settings-help.js';
import { UsageError } from './usage-error.js';

const OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  config: { type: 'string' },
  'payout-script': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: 'string' as const, multiple: s.repeatable ?? false }])),
};

const USAGE = `usage: dao-gateway [--config FILE] [options]

The DAO's pool gateway: Stratum V1 over WebSocket (/stratum on the HTTP port) and TCP, share
validation, vardiff, the ledger (SQLite, or PostgreSQL shared by several gateways with
--ledger postgres://... and distinct --instance-id), settlement on a chain (--chain-rpc), and the
HTTP API (/healthz, /api/stats, /api/history, /api/members/:address, /api/epochs, /api/proposals,
/api/votes, /api/claims, /metrics) beside the built web app (and its pool page, /pool.html).

Every option can also be set in the JSON config file (same names) or as an environment variable
(--http-port is DAO_GATEWAY_HTTP_PORT); flags win over the environment, which wins over the file.

${settingsHelp()}
${helpLine('payout-script', 'scriptPubKey (hex) the block reward pays, with a node source')}
${helpLine('config', `a JSON config file (or ${envName('config')})`)}`;

/**
 * The configuration dao-gateway would run with for these arguments, or 'help'; throws UsageError
 * or ConfigError as the gateway would refuse them (a cluster script checks its gateways' flags here
 * before it starts any).
 */
export function gatewayConfigFromArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): GatewayConfig | 'help' {
  const flags = parseOptions(argv, OPTIONS) as Record<string, string | string[] | undefined> & { help?: boolean };
  return flags.help ? 'help' : loadConfig(flags, env);
}

/** Runs the gateway until SIGINT or SIGTERM; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  let config;
  try {
    config = gatewayConfigFromArgs(argv);
    if (config === 'help') {
      console.log(USAGE);
      return 0;
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      console.error(`dao-gateway: ${err.message}`);
      return 2;
    }
    throw err;
  }
  // Listening for the signals before starting: a supervisor may stop the gateway as soon as its
  // start line appears, and a SIGTERM before the handler would kill it without closing the ledger.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  tuneHeapForManyConnections();
  let gateway;
  try {
    gateway = await startGateway(config);
  } catch (err) {
    console.error(`dao-gateway: could not start: ${startError(err, config)}`);
    // startGateway closes what it opened; this only makes sure nothing stray keeps us alive.
    setTimeout(() => process.exit(1), 0).unref();
    return 1;
  }
  await stopped;
  await gateway.close();
  return 0;
}

/** One line for a failed start; a port in use names the port and its option. */
function startError(err: unknown, config: { httpPort: number; stratumPort: number }): string {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e.code === 'EADDRINUSE') {
    const option = e.port === config.httpPort ? ' (--http-port)' : e.port === config.stratumPort ? ' (--stratum-port)' : '';
    return `port ${e.port ?? '?'} on ${e.address ?? 'this host'} is in use${option}: stop what listens there or choose another port`;
  }
  return String(e?.message ?? err).split('\n')[0]!;
}
