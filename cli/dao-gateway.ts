import type { ParseArgsConfig } from 'node:util';
import { ConfigError, envName, loadConfig, SETTINGS } from '../server/config.js';
import { startGateway } from '../server/gateway.js';
import { parseOptions } from './args.js';
import { UsageError } from './usage-error.js';

const OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  config: { type: 'string' },
  'payout-script': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: 'string' as const }])),
};

const USAGE = `usage: dao-gateway [--config FILE] [options]

The DAO's pool gateway: Stratum V1 over WebSocket (/stratum on the HTTP port) and TCP, share
validation, vardiff, the SQLite ledger, and the HTTP API (/healthz, /api/stats,
/api/members/:address, /metrics) beside the built web app.

Every option can also be set in the JSON config file (same names) or as an environment variable
(--http-port is DAO_GATEWAY_HTTP_PORT); flags win over the environment, which wins over the file.

${SETTINGS.map((s) => `  --${s.flag.padEnd(24)}${s.help}`).join('\n')}
  --${'payout-script'.padEnd(24)}scriptPubKey (hex) the block reward pays, with a node source
  --${'config'.padEnd(24)}a JSON config file (or ${envName('config')})`;

/** Runs the gateway until SIGINT or SIGTERM; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  let config;
  try {
    const flags = parseOptions(argv, OPTIONS) as Record<string, string | undefined> & { help?: boolean };
    if (flags.help) {
      console.log(USAGE);
      return 0;
    }
    config = loadConfig(flags);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      console.error(`dao-gateway: ${err.message}`);
      return 2;
    }
    throw err;
  }
  let gateway;
  try {
    gateway = await startGateway(config);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    console.error(`dao-gateway: could not start: ${e.code === 'EADDRINUSE' ? `port in use (${e.message})` : e.message}`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await gateway.close();
  return 0;
}
