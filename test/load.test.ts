// The load generator (npm run load) end to end at a small scale: it spawns the built gateway,
// opens WebSocket and TCP miners from several loopback addresses, submits valid shares at a fixed
// rate and reports what came back. The full-scale figures are in the README.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLoad, type Answer } from '../scripts/load.js';

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
