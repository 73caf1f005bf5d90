import { availableParallelism, cpus } from 'node:os';
import { ENGINE_NAMES, type EngineName, type HashEngine } from '../../web/miner/engine.js';
import { GENESIS_HEADER, measureHashRate, verifyWithGenesis } from '../../web/miner/measure-rate.js';
import { engineOption, integerOption, parseOptions } from '../args.js';
import { PEERS } from '../bench/peers.js';
import { openEngine } from '../open-engine.js';

export interface BenchRow {
  name: string;
  kind: 'engine' | 'peer';
  threads: number;
  hashesPerSecond: number | null;
  note?: string;
}

/**
 * `dao-miner bench [--engine E] [--threads N] [--seconds S] [--json]`
 * Our engines per thread and on all threads, and the peers' naive loops, in one run.
 */
export async function benchCommand(argv: string[]): Promise<void> {
  const opts = parseOptions(argv, {
    engine: { type: 'string' },
    threads: { type: 'string' },
    seconds: { type: 'string' },
    json: { type: 'boolean' },
  });
  const engines: EngineName[] = opts.engine ? [engineOption(opts.engine, 'wasm-simd')] : [...ENGINE_NAMES];
  const threads = integerOption(opts.threads, 'threads', availableParallelism(), 1, 256);
  const seconds = integerOption(opts.seconds, 'seconds', 3, 1, 600);
  const rows: BenchRow[] = [];
  const progress = (row: BenchRow) => {
    rows.push(row);
    if (!opts.json) console.error(`  measured ${row.name} x${row.threads}: ${formatRate(row.hashesPerSecond)}${row.note ? ` (${row.note})` : ''}`);
  };

  for (const name of engines) {
    const counts = name === 'webgpu' ? [1] : [...new Set([1, threads])];
    for (const n of counts) progress(await measureEngine(name, n, seconds));
  }
  if (!opts.engine) {
    for (const peer of PEERS) {
      const run = await peer.prepare(GENESIS_HEADER);
      progress({ name: peer.name, kind: 'peer', threads: 1, hashesPerSecond: measureLoop((s, c) => run(s, c), seconds) });
    }
  }

  const report = { cpu: cpus()[0]?.model ?? 'unknown', threadsAvailable: availableParallelism(), seconds, rows, targets: checkTargets(rows) };
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  else printTable(report);
}

async function measureEngine(name: EngineName, threads: number, seconds: number): Promise<BenchRow> {
  let engine: HashEngine;
  try {
    engine = await openEngine(name, threads);
  } catch (err) {
    return { name, kind: 'engine', threads, hashesPerSecond: null, note: `unavailable: ${(err as Error).message}` };
  }
  try {
    if (!(await verifyWithGenesis(engine))) {
      return { name, kind: 'engine', threads, hashesPerSecond: null, note: 'FAILED: did not find the genesis nonce' };
    }
    const chunk = name === 'webgpu' ? 1 << 22 : (1 << 18) * threads;
    return { name, kind: 'engine', threads, hashesPerSecond: await measureHashRate(engine, seconds, chunk) };
  } finally {
    engine.dispose();
  }
}

function measureLoop(run: (start: number, count: number) => void, seconds: number): number {
  const chunk = 1 << 14;
  run(0, chunk);
  let hashed = 0;
  const began = performance.now();
  while (performance.now() - began < seconds * 1000) {
    run(hashed, chunk);
    hashed += chunk;
  }
  return hashed / ((performance.now() - began) / 1000);
}

interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
}

/** The issue's targets, judged on this run's own figures (ratios where the machine is noisy). */
function checkTargets(rows: BenchRow[]): TargetCheck[] {
  const rate = (name: string, threads: number) => rows.find((r) => r.name === name && r.threads === threads)?.hashesPerSecond ?? null;
  const simd1 = rate('wasm-simd', 1);
  const scalar1 = rate('wasm', 1);
  const hashWasm = rate('hash-wasm', 1);
  const simdAll = rows.find((r) => r.name === 'wasm-simd' && r.threads > 1);
  const checks: TargetCheck[] = [];
  const add = (target: string, value: number | null, met: (v: number) => boolean, show: (v: number) => string) =>
    checks.push({ target, measured: value === null ? 'n/a' : show(value), met: value === null ? null : met(value) });
  add('wasm-simd >= 3.5 MH/s per thread', simd1, (v) => v >= 3.5e6, formatRate);
  add('wasm-simd >= 8x hash-wasm', simd1 && hashWasm ? simd1 / hashWasm : null, (v) => v >= 8, (v) => `${v.toFixed(1)}x`);
  add('wasm (scalar) >= 1.8 MH/s per thread', scalar1, (v) => v >= 1.8e6, formatRate);
  if (simdAll) {
    add(`wasm-simd ${simdAll.threads} threads >= 1.8x one`, simd1 && simdAll.hashesPerSecond ? simdAll.hashesPerSecond / simd1 : null, (v) => v >= 1.8, (v) => `${v.toFixed(2)}x`);
  }
  return checks;
}

function formatRate(hashesPerSecond: number | null): string {
  if (hashesPerSecond === null) return 'n/a';
  return hashesPerSecond >= 1e6 ? `${(hashesPerSecond / 1e6).toFixed(2)} MH/s` : `${(hashesPerSecond / 1e3).toFixed(1)} kH/s`;
}

function printTable(report: { cpu: string; threadsAvailable: number; seconds: number; rows: BenchRow[]; targets: TargetCheck[] }): void {
  const hashWasm = report.rows.find((r) => r.name === 'hash-wasm')?.hashesPerSecond ?? null;
  console.log(`SHA-256d, ${report.seconds} s per row, ${report.cpu}, ${report.threadsAvailable} threads`);
  console.log('');
  console.log(`${'engine / peer'.padEnd(16)}${'threads'.padStart(8)}${'rate'.padStart(14)}${'vs hash-wasm'.padStart(14)}`);
  for (const row of report.rows) {
    const ratio = row.hashesPerSecond && hashWasm ? `${(row.hashesPerSecond / hashWasm).toFixed(1)}x` : '';
    console.log(`${row.name.padEnd(16)}${String(row.threads).padStart(8)}${formatRate(row.hashesPerSecond).padStart(14)}${ratio.padStart(14)}${row.note ? `  ${row.note}` : ''}`);
  }
  console.log('');
  for (const t of report.targets) console.log(`${t.met === null ? 'n/a ' : t.met ? 'met ' : 'MISS'}  ${t.target}: ${t.measured}`);
}
