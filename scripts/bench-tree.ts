// npm run bench:tree [-- --leaves N] [--json]
// An epoch's reward tree at a million members, measured in one run on one core, for one seeded
// leaf set (issue 14):
//  1. the fast builder: encodeLeaves (parse, sort, pack) then buildRewardTreeNodes (hash-wasm);
//  2. @openzeppelin/merkle-tree, the reference it must equal, on 10,000 and 50,000 of the same
//     leaves: its rate and the time for N extrapolated from it (building N with it takes too long);
//  3. the floor: a bare Keccak-256 loop doing the builder's hashes (2 per leaf, 1 per inner node)
//     with hash-wasm and with @noble/hashes;
//  4. serving a claim: indexOfAccount + rewardProofAt for 10,000 random members, p50 / p99.
import { cpus, loadavg } from 'node:os';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { createKeccak } from 'hash-wasm';
import { integerOption, parseOptions } from '../cli/args.js';
import { UsageError } from '../cli/usage-error.js';
import { encodeLeaves, indexOfAccount, LEAF_RECORD_BYTES, leafAt } from '../protocol/dao/compact-leaves.js';
import { buildRewardTreeNodes, rewardProofAt } from '../protocol/dao/reward-tree-builder.js';
import { REWARD_LEAF_ENCODING, type RewardLeaf } from '../protocol/dao/reward-tree.js';
import { Rng } from '../test/helpers/fuzz-rng.js';
import { randomLeaves } from '../test/helpers/random-leaves.js';

const SEED = 14;
/** Interleaved rounds of the fast builder and the hash-wasm floor: medians, as the machine is shared. */
const ROUNDS = 3;
const REFERENCE_SIZES = [10_000, 50_000];
const PROOF_SAMPLES = 10_000;

/** Amounts as a ledger holds them: work in expected hashes (~2^40..2^72), rewards in 18-decimal base units. */
function realisticAmount(rng: Rng): bigint {
  return BigInt(rng.u32()) * BigInt(rng.u32()) * BigInt(1 + rng.int(1 << 12));
}

interface Report {
  /** loadavg's one-minute figure at the start and the end: other work on a shared machine skews every figure. */
  machine: { cpu: string; cpus: number; node: string; loadAtStart: number; loadAtEnd: number };
  leaves: number;
  rounds: number;
  /** Medians over the rounds; fastest is the best round's total. */
  fast: { encodeMs: number; buildMs: number; totalMs: number; encodeCpuMs: number; buildCpuMs: number; fastestTotalMs: number; leavesPerSecond: number; root: string };
  reference: { leaves: number; ms: number; leavesPerSecond: number; sameRoot: boolean }[];
  referenceExtrapolatedMs: number;
  hashes: number;
  floor: { name: string; ms: number; hashesPerSecond: number }[];
  proofs: { samples: number; lookupAndProofUs: { p50: number; p99: number }; withLeafUs: { p50: number; p99: number } };
  compactBytes: number;
  nodesBytes: number;
  rssAfterBuildBytes: number;
}

const since = (start: number) => performance.now() - start;
/** CPU time of this process (all its threads, the GC's included): less sensitive than wall time to other load on the machine. */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** StandardMerkleTree over `leaves` in account order, exactly as buildRewardTree calls it. */
function referenceRoot(leaves: readonly RewardLeaf[]): string {
  const values = leaves.map((leaf) => [leaf.account, leaf.cumulativeWork.toString(), leaf.cumulativeReward.toString()]);
  values.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0));
  return StandardMerkleTree.of(values, [...REWARD_LEAF_ENCODING], { sortLeaves: false }).root;
}

const ENCODED = new Uint8Array(96);
const PAIR = new Uint8Array(64);

/**
 * The builder's hashes over the same input sizes (96-byte leaf encodings, the 32-byte hash of
 * each, 64-byte pairs) and nothing else: milliseconds for `hash` doing them all.
 */
function floorLoop(leafCount: number, hash: (data: Uint8Array) => Uint8Array): number {
  const start = performance.now();
  for (let i = 0; i < leafCount; i++) {
    ENCODED[95] = i;
    PAIR[i & 31] = hash(hash(ENCODED))[0]!;
  }
  for (let i = 0; i < leafCount - 1; i++) PAIR[i & 63] = hash(PAIR)[0]!;
  return since(start);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

async function main(argv: string[]): Promise<void> {
  const opts = parseOptions(argv, { leaves: { type: 'string' }, json: { type: 'boolean' } });
  const leafCount = integerOption(opts.leaves, 'leaves', 1_000_000, 1, 10_000_000);
  const loadAtStart = loadavg()[0]!;
  const log = opts.json ? () => {} : (line: string) => console.error(line);

  log(`generating ${leafCount.toLocaleString('en-US')} leaves (seed ${SEED})`);
  const leaves = randomLeaves(leafCount, SEED, realisticAmount);
  // A small run first, so the figures below are of optimised code, not of the JIT's first tiers.
  await buildRewardTreeNodes(encodeLeaves(leaves.slice(0, Math.min(leafCount, 20_000))));

  log(`1. fast builder and the hash-wasm floor, ${ROUNDS} interleaved rounds`);
  const wasm = await createKeccak(256);
  const wasmHash = (data: Uint8Array) => wasm.init().update(data).digest('binary');
  const encodes: number[] = [];
  const builds: number[] = [];
  const encodeCpus: number[] = [];
  const buildCpus: number[] = [];
  const wasmFloor: number[] = [];
  let compact: Uint8Array = new Uint8Array(0);
  let tree: Awaited<ReturnType<typeof buildRewardTreeNodes>> | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    let start = performance.now();
    let cpu = process.cpuUsage();
    compact = encodeLeaves(leaves);
    encodes.push(since(start));
    encodeCpus.push(cpuMsSince(cpu));
    start = performance.now();
    cpu = process.cpuUsage();
    tree = await buildRewardTreeNodes(compact);
    builds.push(since(start));
    buildCpus.push(cpuMsSince(cpu));
    wasmFloor.push(floorLoop(leafCount, wasmHash));
  }
  if (!tree) throw new Error('no round ran');
  const rssAfterBuildBytes = process.memoryUsage().rss;
  const totals = encodes.map((ms, i) => ms + builds[i]!);

  log('2. @openzeppelin/merkle-tree');
  const reference: Report['reference'] = [];
  for (const size of REFERENCE_SIZES.filter((n) => n <= leafCount)) {
    const subset = leaves.slice(0, size);
    const start = performance.now();
    const root = referenceRoot(subset);
    const ms = since(start);
    const fastRoot = (await buildRewardTreeNodes(encodeLeaves(subset))).root;
    reference.push({ leaves: size, ms, leavesPerSecond: (size * 1000) / ms, sameRoot: root === fastRoot });
  }
  const largest = reference.at(-1);
  const referenceExtrapolatedMs = largest ? (leafCount / largest.leavesPerSecond) * 1000 : Number.NaN;

  log('3. the @noble/hashes floor (one round)');
  const nobleMs = floorLoop(leafCount, keccak_256);
  const hashes = 3 * leafCount - 1;
  const floor = [
    { name: `hash-wasm (WebAssembly), median of ${ROUNDS}`, ms: median(wasmFloor), hashesPerSecond: (hashes * 1000) / median(wasmFloor) },
    { name: '@noble/hashes (JavaScript), one round', ms: nobleMs, hashesPerSecond: (hashes * 1000) / nobleMs },
  ];

  log('4. proofs');
  const rng = new Rng(SEED, 2);
  const lookups: number[] = [];
  const withLeaf: number[] = [];
  for (let i = 0; i < PROOF_SAMPLES; i++) {
    const account = leaves[rng.int(leafCount)]!.account;
    let start = performance.now();
    const index = indexOfAccount(compact, account);
    rewardProofAt(tree, index);
    lookups.push(since(start) * 1000);
    start = performance.now();
    leafAt(compact, indexOfAccount(compact, account));
    rewardProofAt(tree, index);
    withLeaf.push(since(start) * 1000);
  }
  lookups.sort((a, b) => a - b);
  withLeaf.sort((a, b) => a - b);

  const report: Report = {
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, node: process.version, loadAtStart, loadAtEnd: loadavg()[0]! },
    leaves: leafCount,
    rounds: ROUNDS,
    fast: {
      encodeMs: median(encodes),
      buildMs: median(builds),
      totalMs: median(totals),
      encodeCpuMs: median(encodeCpus),
      buildCpuMs: median(buildCpus),
      fastestTotalMs: Math.min(...totals),
      leavesPerSecond: (leafCount * 1000) / median(totals),
      root: tree.root,
    },
    reference,
    referenceExtrapolatedMs,
    hashes,
    floor,
    proofs: {
      samples: PROOF_SAMPLES,
      lookupAndProofUs: { p50: percentile(lookups, 50), p99: percentile(lookups, 99) },
      withLeafUs: { p50: percentile(withLeaf, 50), p99: percentile(withLeaf, 99) },
    },
    compactBytes: leafCount * LEAF_RECORD_BYTES,
    nodesBytes: tree.nodes.length,
    rssAfterBuildBytes,
  };
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  else printReport(report);
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const us = (n: number) => `${n.toFixed(1)} µs`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function table(header: string[], rows: string[][]): void {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

function printReport(r: Report): void {
  console.log(`\nReward-tree benchmark on ${r.machine.cpu}, ${r.machine.cpus} CPUs, Node ${r.machine.node}: ${int(r.leaves)} leaves, one core`);
  console.log(`(load average ${r.machine.loadAtStart.toFixed(1)} at the start, ${r.machine.loadAtEnd.toFixed(1)} at the end: above ${r.machine.cpus} other work shared the cores)\n`);
  console.log(`1. Fast builder (compact-leaves.ts + reward-tree-builder.ts), medians of ${r.rounds} rounds\n`);
  table(
    ['step', 'time', 'CPU time', 'leaves/s', 'target'],
    [
      ['encodeLeaves (parse, sort, pack)', seconds(r.fast.encodeMs), seconds(r.fast.encodeCpuMs), int((r.leaves * 1000) / r.fast.encodeMs), ''],
      ['buildRewardTreeNodes (hash-wasm)', seconds(r.fast.buildMs), seconds(r.fast.buildCpuMs), int((r.leaves * 1000) / r.fast.buildMs), ''],
      ['total', seconds(r.fast.totalMs), seconds(r.fast.encodeCpuMs + r.fast.buildCpuMs), int(r.fast.leavesPerSecond), r.leaves === 1_000_000 ? `< 10 s: ${r.fast.totalMs < 10_000 ? 'met' : 'NOT met'}` : ''],
    ],
  );
  console.log(`\n  fastest round's total ${seconds(r.fast.fastestTotalMs)}; root ${r.fast.root}; RSS after the builds ${mib(r.rssAfterBuildBytes)}`);

  console.log('\n2. @openzeppelin/merkle-tree StandardMerkleTree.of on the first leaves of the same set\n');
  table(
    ['leaves', 'time', 'leaves/s', 'same root as the fast builder'],
    r.reference.map((row) => [int(row.leaves), seconds(row.ms), int(row.leavesPerSecond), row.sameRoot ? 'yes' : 'NO']),
  );
  if (!Number.isNaN(r.referenceExtrapolatedMs)) {
    console.log(
      `\n  ${int(r.leaves)} leaves with it: ${seconds(r.referenceExtrapolatedMs)} EXTRAPOLATED (linearly from the ${int(r.reference.at(-1)!.leaves)}-leaf rate, not measured); ` +
        `${(r.referenceExtrapolatedMs / r.fast.totalMs).toFixed(0)}x the fast builder's total`,
    );
  }

  console.log(`\n3. The floor: a bare Keccak-256 loop of the builder's ${int(r.hashes)} hashes (2 per leaf + 1 per inner node)\n`);
  table(
    ['library', 'time', 'hashes/s', 'fast build time / this'],
    r.floor.map((row) => [row.name, seconds(row.ms), int(row.hashesPerSecond), `${(r.fast.buildMs / row.ms).toFixed(2)}x`]),
  );

  console.log(`\n4. Serving a claim: ${int(r.proofs.samples)} random members\n`);
  table(
    ['lookup', 'p50', 'p99'],
    [
      ['indexOfAccount + rewardProofAt', us(r.proofs.lookupAndProofUs.p50), us(r.proofs.lookupAndProofUs.p99)],
      ['the same + leafAt (checksummed leaf)', us(r.proofs.withLeafUs.p50), us(r.proofs.withLeafUs.p99)],
    ],
  );
  console.log(`\n  compact leaves: ${int(r.compactBytes)} bytes (${int(r.leaves)} x ${LEAF_RECORD_BYTES}, ${mib(r.compactBytes)}); tree nodes in memory: ${mib(r.nodesBytes)}`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof UsageError ? `bench-tree: ${err.message}` : err);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
