// npm run load -- --miners N --rate R --seconds S [--tcp-miners M] [--warmup S]
//                 [--gateway ws://127.0.0.1:PORT/stratum --gateway-tcp stratum+tcp://127.0.0.1:PORT [--gateway-pid PID]]
//                 [--ledger-synchronous FULL|NORMAL] [--per-address K] [--connect-parallel P]
//                 [--cpu-prof] [--cpu-prof-seconds S]
// Many Stratum miners (WebSocket, and TCP beside them) on loopback submitting valid shares at a
// fixed total rate against the gateway, which it starts itself unless given one. Progress and the
// report go to stderr; the last line on stdout is the summary as JSON. Exit status 1 when any
// error or rejection the load did not ask for happened, 2 on bad options.
import { pathToFileURL } from 'node:url';
import { parseOptions } from '../cli/args.js';
import { UsageError } from '../cli/usage-error.js';
import { NotLoopbackError } from './load/loopback.js';
import { LoadOptionsError, type LoadOptions } from './load/options.js';
import { formatReport } from './load/report.js';
import { runLoad } from './load/run.js';

export { runLoad, type LoadSummary } from './load/run.js';
export type { LoadOptions } from './load/options.js';
export type { Answer } from './load/miner.js';

/** A number option, as the user wrote it (bounds are checked by runLoad, for tests alike). */
function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: "${value}" is not a number`);
  return n;
}

function parse(argv: string[]): LoadOptions {
  const o = parseOptions(argv, {
    miners: { type: 'string' },
    'tcp-miners': { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    gateway: { type: 'string' },
    'gateway-tcp': { type: 'string' },
    'gateway-pid': { type: 'string' },
    'ledger-synchronous': { type: 'string' },
    difficulty: { type: 'string' },
    'per-address': { type: 'string' },
    'connect-parallel': { type: 'string' },
    'cpu-prof': { type: 'boolean' },
    'cpu-prof-seconds': { type: 'string' },
  });
  const sync = o['ledger-synchronous'];
  if (sync !== undefined && sync !== 'FULL' && sync !== 'NORMAL') throw new UsageError('--ledger-synchronous: expected FULL or NORMAL');
  const profileSeconds = numberOption(o['cpu-prof-seconds'], 'cpu-prof-seconds');
  return {
    miners: numberOption(o.miners, 'miners') ?? 100,
    tcpMiners: numberOption(o['tcp-miners'], 'tcp-miners'),
    rate: numberOption(o.rate, 'rate') ?? 100,
    seconds: numberOption(o.seconds, 'seconds') ?? 10,
    warmupSeconds: numberOption(o.warmup, 'warmup'),
    gatewayUrl: o.gateway,
    stratumUrl: o['gateway-tcp'],
    gatewayPid: numberOption(o['gateway-pid'], 'gateway-pid'),
    ledgerSynchronous: sync,
    difficulty: numberOption(o.difficulty, 'difficulty'),
    perAddress: numberOption(o['per-address'], 'per-address'),
    connectParallel: numberOption(o['connect-parallel'], 'connect-parallel'),
    cpuProfileSeconds: o['cpu-prof'] || profileSeconds !== undefined ? (profileSeconds ?? 10) : 0,
  };
}

async function main(argv: string[]): Promise<number> {
  const options = parse(argv);
  // Ctrl-C ends the run early but still prints what was measured (and stops the gateway).
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort('interrupted (SIGINT)'));
  const summary = await runLoad({ ...options, log: (line) => console.error(line), signal: stop.signal });
  console.error(formatReport(summary));
  console.log(JSON.stringify(summary));
  return summary.ok ? 0 : 1;
}

// Run as a script, not when a test imports runLoad from here.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const usage = err instanceof UsageError || err instanceof LoadOptionsError || err instanceof NotLoopbackError;
      console.error(usage ? `load: ${(err as Error).message}` : err);
      process.exit(usage ? 2 : 1);
    },
  );
}
