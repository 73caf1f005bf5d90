// npm run load -- --miners N --rate R --seconds S [--tcp-miners M] [--warmup S]
//                 [--gateway ws://127.0.0.1:PORT/stratum --gateway-tcp stratum+tcp://127.0.0.1:PORT [--gateway-pid PID]]
//                 [--ledger-synchronous FULL|NORMAL] [--per-address K] [--connect-parallel P]
//                 [--source-offset I] [--reconnect] [--processes K]
//                 [--cpu-prof] [--cpu-prof-seconds S]
// Many Stratum miners (WebSocket, and TCP beside them) on loopback submitting valid shares at a
// fixed total rate against the gateway, which it starts itself unless given one. --gateway and
// --gateway-tcp may be repeated (the balancers of `npm run cluster`): the miners are dealt out
// over them. Each miner holds one open file here, and a process may hold 20,000 at most, so a
// larger load runs as --processes K side by side (each with its share of the miners, of the rate
// and of the source addresses; the summary adds them up). Progress and the report go to stderr;
// the last line on stdout is the summary as JSON. Exit status 1 when any error or rejection the
// load did not ask for happened, 2 on bad options.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseOptions } from '../cli/args.js';
import { UsageError } from '../cli/usage-error.js';
import { NotLoopbackError } from './load/loopback.js';
import { LoadOptionsError, type LoadOptions } from './load/options.js';
import { formatMerged, runLoadProcesses, startTogether } from './load/processes.js';
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

function parse(argv: string[]): LoadOptions & { processes: number } {
  const o = parseOptions(argv, {
    miners: { type: 'string' },
    'tcp-miners': { type: 'string' },
    rate: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    gateway: { type: 'string', multiple: true },
    'gateway-tcp': { type: 'string', multiple: true },
    'gateway-pid': { type: 'string' },
    'ledger-synchronous': { type: 'string' },
    difficulty: { type: 'string' },
    'per-address': { type: 'string' },
    'connect-parallel': { type: 'string' },
    'source-offset': { type: 'string' },
    reconnect: { type: 'boolean' },
    processes: { type: 'string' },
    // Internal, set by --processes on its children: "ready" on stdout, then wait for "go" on stdin.
    'start-together': { type: 'boolean' },
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
    sourceOffset: numberOption(o['source-offset'], 'source-offset'),
    reconnect: o.reconnect,
    processes: numberOption(o.processes, 'processes') ?? 1,
    beforeLoad: o['start-together'] ? startTogether : undefined,
    cpuProfileSeconds: o['cpu-prof'] || profileSeconds !== undefined ? (profileSeconds ?? 10) : 0,
  };
}

async function main(argv: string[]): Promise<number> {
  const { processes, ...options } = parse(argv);
  // Ctrl-C ends the run early but still prints what was measured (and stops the gateway).
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort('interrupted (SIGINT)'));
  if (processes !== 1) {
    const merged = await runLoadProcesses(argv, options, processes, { script: fileURLToPath(import.meta.url), log: (line) => console.error(line), signal: stop.signal });
    console.error(formatMerged(merged));
    console.log(JSON.stringify(merged));
    return merged.ok ? 0 : 1;
  }
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
