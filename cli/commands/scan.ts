import { availableParallelism } from 'node:os';
import { blockHash, headerFromHex, withNonce } from '../../protocol/header.js';
import { bytesToBigInt, hexToBytes } from '../../protocol/hex.js';
import { NONCE_SPACE } from '../../web/miner/engine.js';
import { engineOption, fromOption, integerOption, parseOptions, required } from '../args.js';
import { openEngine } from '../open-engine.js';

/** Nonces per round: found nonces are printed after each round, so long scans stream output. */
const ROUND = 1 << 22;

/**
 * `dao-miner scan --header HEX160 --target HEX64 [--start N] [--count N] [--engine E] [--threads N]`
 * One JSON line per nonce whose hash meets the target, then a summary line. The header's own
 * nonce is ignored; the scan wraps at 2^32; the default count is the whole nonce space.
 */
export async function scanCommand(argv: string[]): Promise<void> {
  const opts = parseOptions(argv, {
    header: { type: 'string' },
    target: { type: 'string' },
    start: { type: 'string' },
    count: { type: 'string' },
    engine: { type: 'string' },
    threads: { type: 'string' },
  });
  const header = fromOption('header', () => headerFromHex(required(opts.header, 'header')));
  const target = fromOption('target', () => bytesToBigInt(hexToBytes(required(opts.target, 'target'), 'target', 32)));
  const start = integerOption(opts.start, 'start', 0, 0, NONCE_SPACE - 1);
  const count = integerOption(opts.count, 'count', NONCE_SPACE, 0, NONCE_SPACE);
  const engineName = engineOption(opts.engine, 'wasm-simd');
  const threads = integerOption(opts.threads, 'threads', engineName === 'webgpu' ? 1 : availableParallelism(), 1, 256);

  const engine = await openEngine(engineName, threads);
  try {
    await engine.setJob({ header, target });
    const began = performance.now();
    let scanned = 0;
    while (scanned < count) {
      const n = Math.min(ROUND, count - scanned);
      const result = await engine.scan((start + scanned) % NONCE_SPACE, n);
      for (const nonce of result.nonces) {
        console.log(JSON.stringify({ nonce, hash: blockHash(withNonce(header, nonce)) }));
      }
      scanned += result.scanned;
    }
    const seconds = (performance.now() - began) / 1000;
    console.log(JSON.stringify({ scanned, seconds: round(seconds, 6), hashesPerSecond: Math.round(scanned / seconds), engine: engine.name }));
  } finally {
    engine.dispose();
  }
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}
