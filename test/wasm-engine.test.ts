// The WebAssembly engines (scalar and SIMD builds, in-process, several in one parallel engine, and
// over worker threads): the HashEngine contract (test/helpers/engine-cases.ts), and what only
// these engines have to show.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openWasmEngine, type WasmBuild } from '../cli/wasm-node.js';
import { createThreadPoolEngine } from '../cli/thread-pool-engine.js';
import { difficultyToTarget } from '../protocol/index.js';
import { parallelEngine } from '../web/miner/parallel-engine.js';
import { engineCases } from './helpers/engine-cases.js';
import { randomHeader } from './helpers/reference-scan.js';

const builds: WasmBuild[] = ['scalar', 'simd'];

for (const build of builds) {
  engineCases({ label: `wasm ${build} build`, engineName: build === 'simd' ? 'wasm-simd' : 'wasm', open: async () => openWasmEngine(build) });
}
// web/miner/parallel-engine.ts alone (three in-process engines, uneven slices), then as the CLI
// runs it: over worker threads.
engineCases({
  label: 'parallel engine of three in-process wasm-simd engines',
  engineName: 'wasm-simd',
  open: async () => parallelEngine('wasm-simd', [0, 1, 2].map(() => openWasmEngine('simd'))),
});
engineCases({ label: 'worker-thread pool (wasm-simd, 2 threads)', engineName: 'wasm-simd', open: () => createThreadPoolEngine('simd', 2) });

test('scalar and SIMD builds return identical results', async () => {
  const engines = builds.map(openWasmEngine);
  for (let seed = 20; seed < 24; seed++) {
    const job = { header: randomHeader(seed), target: difficultyToTarget(1 / 2 ** 22) };
    const results: number[][] = [];
    for (const engine of engines) {
      await engine.setJob(job);
      results.push((await engine.scan(seed * 1000, 20_000)).nonces);
    }
    assert.ok(results[0]!.length > 0);
    assert.deepEqual(results[0], results[1]);
  }
  for (const e of engines) e.dispose();
});
