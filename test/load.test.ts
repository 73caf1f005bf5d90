// The load generator (npm run load) end to end at a small scale: it spawns the built gateway,
// opens WebSocket and TCP miners from several loopback addresses, submits valid shares at a fixed
// rate and reports what came back. The full-scale figures are in the README.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLoad, type Answer } from '../scripts/load.js';
import { childArgv, runLoadProcesses, shares } from '../scripts/load/processes.js';

test('300 miners at 600 shares/s for 5 s: every share accepted, none lost, no error', { timeout: 90_000 }, async () => {
  const answers: Answer[] = [];
  const summary = await runLoad({ miners: 299, tcpMiners: 1, rate: 600, seconds: 5, warmupSeconds: 1, perAddress: 50, onAnswer: (a) => answers.push(a) });
  assert.equal(summary.ok, true, JSON.stringify({ errors: summary.errors, rejected: summary.rejected, problems: summary.gatewayProblems }));
  assert.equal(summary.miners.connected, 300);
  assert.equal(summary.miners.sourceAddresses, 6, '50 connections per loopback address');
  assert.deepEqual(summary.errors, {});
  assert.deepEqual(summary.rejected, {});
  assert.equal(summary.window.rejected, 0);
  // The rate asked for is the rate delivered (generous bounds: this machine is shared and noisy).
  assert.ok(summary.acceptedPerSecond > 450 && summary.acceptedPerSecond < 750, `accepted ${summary.acceptedPerSecond}/s for 600 asked`);
  assert.ok(summary.latencyMs.count >= summary.window.accepted, 'every accepted share in the window has a latency');
  assert.ok(answers.length > 0 && answers.every((a) => a.accepted), 'every answer is an acceptance');
  assert.ok(summary.gateway.spawned && summary.gateway.cpuPercent !== undefined, 'the spawned gateway was measured');
});

test('the load generator refuses anything but loopback, and out-of-bounds runs', async () => {
  await assert.rejects(runLoad({ miners: 1, rate: 1, seconds: 1, gatewayUrl: 'ws://10.0.0.1:8080/stratum', stratumUrl: 'stratum+tcp://10.0.0.1:3333' }), /loopback/);
  await assert.rejects(runLoad({ miners: 50_001, rate: 1, seconds: 1 }), /50,?000/);
  await assert.rejects(runLoad({ miners: 1, rate: 1, seconds: 3601 }), /3,?600/);
});

test('--processes K deals the miners, the rate and disjoint source addresses out over K load processes', () => {
  const plan = shares({ miners: 100_000, tcpMiners: 1, rate: 10_000, seconds: 30, perAddress: 200 }, 6);
  assert.deepEqual(plan.map((p) => p.miners + p.tcpMiners), [16_668, 16_667, 16_667, 16_667, 16_666, 16_666]);
  assert.equal(plan.reduce((n, p) => n + p.miners + p.tcpMiners, 0), 100_001);
  assert.ok(plan.every((p) => Math.abs(p.rate - 10_000 / 6) < 1e-9));
  // Each process's addresses start where the one before it ended: no address carries more than 200.
  plan.forEach((p, i) => i > 0 && assert.equal(p.sourceOffset, plan[i - 1]!.sourceOffset + Math.ceil((plan[i - 1]!.miners + plan[i - 1]!.tcpMiners) / 200)));
  const argv = childArgv(['--miners', '100000', '--processes', '6', '--gateway', 'ws://127.0.0.1:1/stratum', '--processes=6'], plan[1]!);
  assert.deepEqual(argv, ['--miners', '100000', '--gateway', 'ws://127.0.0.1:1/stratum', '--miners', '16667', '--tcp-miners', '0', '--rate', String(10_000 / 6), '--source-offset', '84', '--start-together']);
});

test('--processes refuses what several processes cannot do', async () => {
  const signal = new AbortController().signal;
  const run = { script: 'unused', log: () => undefined, signal };
  await assert.rejects(runLoadProcesses([], { miners: 10, rate: 1, seconds: 1 }, 2, run), /need a running gateway or cluster/);
  await assert.rejects(runLoadProcesses([], { miners: 10, rate: 1, seconds: 1, gatewayUrl: 'ws://127.0.0.1:1/stratum' }, 65, run), /outside 1\.\.64/);
  await assert.rejects(runLoadProcesses([], { miners: 1, tcpMiners: 0, rate: 1, seconds: 1, gatewayUrl: 'ws://127.0.0.1:1/stratum' }, 2, run), /leaves some with none/);
});
