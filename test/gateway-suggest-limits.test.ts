// Difficulty-suggestion limits (issue 13) against the real gateway on loopback: a flood of
// alternating suggestions cannot mint a job per message (derived jobs are shared and changes are
// bounded by --suggest-every-seconds), each refusal is counted and logged once per address, and
// asking for the floor every few shares no longer holds a fast miner at the floor.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { StratumCode } from '../protocol/stratum/errors.js';
import { MEMBER, startTestGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';

function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
  return { lines, logger: pino({ level: 'info', base: undefined }, stream) };
}

async function metric(httpUrl: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${httpUrl}metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

// The message-rate limit would close a flooding connection first: raised here so the suggestion limit is what is tested.
const FLOOD_OK = { messagesPerSecond: 100_000, messageBurst: 100_000 };

describe('difficulty-suggestion limits', () => {
  test('20 connections x 200 alternating suggestions: one change each, the rest refused and counted, jobs stay few', async () => {
    const { lines, logger } = captureLog();
    const gateway = await startTestGateway({ ...FLOOD_OK }, { logger });
    const miners: TestMiner[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const miner = await TestMiner.tcp(gateway.stratumPort);
        await miner.login(`${MEMBER}.flood${i}`);
        miners.push(miner);
      }
      const jobsBefore = await metric(gateway.httpUrl, /^dao_gateway_jobs (\d+)$/m);
      const began = Date.now();
      const answers = await Promise.all(
        miners.map((miner) => Promise.all(Array.from({ length: 200 }, (_, k) => miner.request('mining.suggest_difficulty', [k % 2 === 0 ? 2e-5 : 1e-5])))),
      );
      const tookMs = Date.now() - began;
      assert.ok(tookMs < 10_000, `4,000 suggestions answered in ${tookMs} ms`);
      let refused = 0;
      for (const perMiner of answers) {
        assert.equal(perMiner[0]!.result, true, 'the first change is honoured');
        for (const answer of perMiner.slice(1)) {
          if (answer.result === true) continue;
          refused++;
          assert.equal(answer.error?.[0], StratumCode.OTHER);
          assert.match(String(answer.error?.[1]), /difficulty requests may change the difficulty once every 30 s/);
        }
      }
      // Repeats of 2e-5 change nothing and are answered true; every 1e-5 would lower it too soon.
      assert.equal(refused, 20 * 100);
      for (const miner of miners) assert.equal(miner.difficulty, 2e-5);
      assert.equal(await metric(gateway.httpUrl, /^dao_limit_hits_total\{limit="suggest_rate"\} (\d+)$/m), 2000);
      // One job per (job, ntime, difficulty), shared by all 20 sessions: a second or two of ntimes at most.
      const jobsAfter = await metric(gateway.httpUrl, /^dao_gateway_jobs (\d+)$/m);
      assert.ok(jobsAfter - jobsBefore <= 3, `derived jobs: ${jobsAfter - jobsBefore} for 20 sessions (before: one each)`);
      const logged = lines.filter((l) => l.limit === 'suggest_rate');
      assert.equal(logged.length, 1, 'logged once per address per interval');
    } finally {
      for (const miner of miners) miner.close();
      await gateway.close();
    }
  });

  test('asking for the floor every 7 shares (honoured each second) does not hold a fast miner at the floor', async () => {
    const gateway = await startTestGateway({ ...FLOOD_OK, startDifficulty: 2e-7, minDifficulty: 1e-7, suggestIntervalSeconds: 1 });
    try {
      const miner = await TestMiner.tcp(gateway.stratumPort);
      const worker = `${MEMBER}.floor`;
      await miner.login(worker, { suggestDifficulty: 1e-7 });
      assert.equal(miner.difficulty, 1e-7);
      let extranonce2 = 0;
      let round = 0;
      while (miner.difficulty < 1e-6 && extranonce2 < 400) {
        for (let i = 0; i < 7; i++) {
          const share = await miner.findShare({ worker, extranonce2: (++extranonce2).toString(16).padStart(miner.extranonce2Size * 2, '0') });
          const answer = await miner.submit(share.params);
          assert.equal(answer.result, true, JSON.stringify(answer.error));
        }
        // The attack: back to the floor (or just above it, so that each request is a change).
        await miner.request('mining.suggest_difficulty', [round++ % 2 === 0 ? 1e-7 : 1.1e-7]);
      }
      assert.ok(miner.difficulty >= 1e-6, `difficulty ${miner.difficulty} after ${extranonce2} shares`);
      miner.close();
    } finally {
      await gateway.close();
    }
  });

  test('the interval is a flag and a config-file key', async () => {
    const { loadConfig } = await import('../server/config.js');
    assert.equal(loadConfig({ 'suggest-every-seconds': '5' }, {}).suggestIntervalSeconds, 5);
    assert.equal(loadConfig({}, {}).suggestIntervalSeconds, 30);
    assert.throws(() => loadConfig({ 'suggest-every-seconds': '0' }, {}), /suggest-every-seconds: 0 is outside 1\.\.86400/);
  });
});
