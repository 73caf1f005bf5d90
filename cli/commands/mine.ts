import { availableParallelism } from 'node:os';
import { getAddress } from 'ethers';
import { Miner } from '../../web/miner/miner.js';
import { PoolClient, type PoolState } from '../../web/miner/pool-client.js';
import { engineOption, integerOption, parseOptions, required } from '../args.js';
import { openEngine } from '../open-engine.js';
import { connectPool } from '../pool-transports.js';
import { UsageError } from '../usage-error.js';
import { formatRate } from '../../web/miner/format-rate.js';

const PROGRESS_MS = 5_000;

/**
 * `dao-miner mine --pool ws://...|stratum+tcp://... --address 0x... [--worker W] [--threads N]
 * [--engine E] [--seconds S]`: the headless contributor. The same pool client and engines as the
 * browser, a progress line every few seconds, until SIGINT/SIGTERM or --seconds.
 */
export async function mineCommand(argv: string[]): Promise<void> {
  const opts = parseOptions(argv, {
    pool: { type: 'string' },
    address: { type: 'string' },
    worker: { type: 'string' },
    threads: { type: 'string' },
    engine: { type: 'string' },
    seconds: { type: 'string' },
  });
  const pool = required(opts.pool, 'pool');
  if (!/^(wss?|stratum\+tcp):\/\/[^/]+:\d+/.test(pool)) throw new UsageError(`--pool: "${pool}" must be ws://HOST:PORT/stratum or stratum+tcp://HOST:PORT`);
  let address: string;
  try {
    address = getAddress(required(opts.address, 'address'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--address: "${opts.address}" is not an address (0x and 40 hex digits, EIP-55 checksum if mixed case)`);
  }
  const worker = opts.worker ?? 'cli';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(worker)) throw new UsageError('--worker: 1-64 letters, digits, "_" or "-"');
  const engineName = engineOption(opts.engine, 'wasm-simd');
  const threads = integerOption(opts.threads, 'threads', engineName === 'webgpu' ? 1 : Math.max(1, availableParallelism() - 1), 1, 256);
  const seconds = integerOption(opts.seconds, 'seconds', 0, 0, 31_536_000);

  const engine = await openEngine(engineName, threads);
  const client = new PoolClient({ url: pool, username: `${address}.${worker}`, userAgent: 'dao-miner/0.1', connect: connectPool });
  let poolState: PoolState = 'connecting';
  let fatal: string | undefined;
  client.onState((state, detail) => {
    poolState = state;
    console.log(`pool ${state}${detail ? `: ${detail}` : ''}`);
    if (state === 'stopped' && detail) fatal = detail;
  });
  const miner = new Miner(client, [engine]);
  console.log(`mining for ${address} (worker ${worker}) at ${pool} with ${engine.name} x${threads}`);
  miner.start();

  const progress = setInterval(() => {
    const s = miner.tally.snapshot();
    const job = client.job;
    console.log(
      `${formatRate(miner.stats.hashesPerSecond)} | shares ${s.accepted} accepted, ${s.rejected} rejected${s.lastRejectReason ? ` (last: ${s.lastRejectReason})` : ''} | difficulty ${job?.difficulty ?? '-'} | pool ${poolState}`,
    );
  }, PROGRESS_MS);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (seconds > 0) setTimeout(resolve, seconds * 1000).unref();
    const watch = setInterval(() => fatal && resolve(), 100);
    watch.unref();
  });
  clearInterval(progress);
  await miner.stop();
  engine.dispose();
  const s = { ...miner.stats, ...miner.tally.snapshot() };
  console.log(`stopped: ${s.hashes} hashes, ${s.found} shares found, ${s.accepted} accepted, ${s.rejected} rejected`);
  if (fatal) throw new Error(fatal);
}
