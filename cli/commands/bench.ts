import { availableParallelism, cpus } from 'node:os';
import { ENGINE_NAMES, type EngineName, type HashEngine } from '../../web/miner/engine.js';
import { GENESIS_HEADER, measureHashRate, verifyWithGenesis } from '../../web/miner/measure-rate.js';
import { engineOption, integerOption, parseOptions } from '../args.js';
import { PEERS } from '../bench/peers.js';
import { openEngine } from '../open-engine.js';
import { formatRate } from '../../web/miner/format-rate.js';

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
  const subjects: Subject[] = engines.flatMap((name) =>
    (name === 'webgpu' ? [1] : [...new Set([1, threads])]).map((n) => engineSubject(name, n)),
  );
  if (!opts.engine) subjects.push(...PEERS.map(peerSubject));

  // Rounds interleave the subjects and each figure is the median of its rounds, so that a slow
  // spell of this shared machine lands on one round of every subject, not on one subject.
  const rates = new Map<Subject, number[]>();
  const notes = new Map<Subject, string>();
  for (const subject of subjects) {
    try {
      await subject.open();
    } catch (err) {
      notes.set(subject, (err as Error).message);
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const subject of subjects) {
      if (notes.has(subject)) continue;
      const rate = await subject.measure(seconds / ROUNDS);
      rates.set(subject, [...(rates.get(subject) ?? []), rate]);
      if (!opts.json) console.error(`  round ${round + 1}/${ROUNDS}: ${subject.name} x${subject.threads}: ${formatRate(rate)}`);
    }
  }
  for (const subject of subjects) subject.close();

  const rows: BenchRow[] = subjects.map((s) => ({
    name: s.name,
    kind: s.kind,
    threads: s.threads,
    hashesPerSecond: notes.has(s) ? null : median(rates.get(s)!),
    ...(notes.has(s) || s.note ? { note: notes.get(s) ?? s.note } : {}),
  }));
  const report = { cpu: cpus()[0]?.model ?? 'unknown', threadsAvailable: availableParallelism(), seconds, rounds: ROUNDS, rows, targets: checkTargets(rows) };
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  else printTable(report);
}

const ROUNDS = 3;

/** Something the benchmark times: one of our engines on some threads, or a peer library. */
interface Subject {
  name: string;
  kind: 'engine' | 'peer';
  threads: number;
  /** Known once opened: what the subject runs on (the GPU adapter). */
  note?: string;
  /** Throws with the reason when the subject cannot run here (no GPU adapter, say). */
  open(): Promise<void>;
  measure(seconds: number): Promise<number>;
  close(): void;
}

function engineSubject(name: EngineName, threads: number): Subject {
  let engine: HashEngine | undefined;
  const chunk = name === 'webgpu' ? 1 << 22 : (1 << 18) * threads;
  return {
    name,
    kind: 'engine',
    threads,
    async open() {
      engine = await openEngine(name, threads, name === 'webgpu' ? { batchSize: 1 << 22 } : {});
      if (!(await verifyWithGenesis(engine))) throw new Error('FAILED: did not find the genesis nonce');
      if (engine.hardware) this.note = engine.hardware;
    },
    measure: (s) => measureHashRate(engine!, s, chunk),
    close: () => engine?.dispose(),
  };
}

function peerSubject(peer: (typeof PEERS)[number]): Subject {
  let run: ((start: number, count: number) => void) | undefined;
  return {
    name: peer.name,
    kind: 'peer',
    threads: 1,
    async open() {
      run = await peer.prepare(GENESIS_HEADER);
    },
    measure: async (s) => measureLoop(run!, s),
    close: () => {},
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function measureLoop(run: (start: number, count: number) => void, seconds: number): number {
  const chunk = 1 << 12;
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

/** A rate, or n/a where the subject could not run. */
function rateOrNa(hashesPerSecond: number | null): string {
  return hashesPerSecond === null ? 'n/a' : formatRate(hashesPerSecond);
}

function printTable(report: { cpu: string; threadsAvailable: number; seconds: number; rounds: number; rows: BenchRow[]; targets: TargetCheck[] }): void {
  const hashWasm = report.rows.find((r) => r.name === 'hash-wasm')?.hashesPerSecond ?? null;
  console.log(`SHA-256d, ${report.seconds} s per row (median of ${report.rounds} interleaved rounds), ${report.cpu}, ${report.threadsAvailable} threads`);
  console.log('');
  console.log(`${'engine / peer'.padEnd(16)}${'threads'.padStart(8)}${'rate'.padStart(14)}${'vs hash-wasm'.padStart(14)}`);
  for (const row of report.rows) {
    const ratio = row.hashesPerSecond && hashWasm ? `${(row.hashesPerSecond / hashWasm).toFixed(1)}x` : '';
    console.log(`${row.name.padEnd(16)}${String(row.threads).padStart(8)}${rateOrNa(row.hashesPerSecond).padStart(14)}${ratio.padStart(14)}${row.note ? `  ${row.note}` : ''}`);
  }
  console.log('');
  for (const t of report.targets) console.log(`${t.met === null ? 'n/a ' : t.met ? 'met ' : 'MISS'}  ${t.target}: ${t.measured}`);
}
