// The per-address ledger-row budget (issue 13) against the real gateway on loopback: sessions of
// one address that together send more accepted shares than --rows-per-second-per-ip get their
// difficulty floors raised, so after settling the address writes at most about the budget, while
// its work is still credited.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MEMBER, startTestGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';

async function metric(httpUrl: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${httpUrl}metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}
const accepted = (httpUrl: string) => metric(httpUrl, /^dao_gateway_shares_accepted_total (\d+)$/m);

/**
 * 8 sessions of 127.0.0.1 mined round-robin (the test's WASM engine is one, so one share at a
 * time) for `runMs`; vardiff aims each at a share every 100 ms, 80 rows a second together.
 * Returns the accepted-share rate over the last `measureMs`.
 */
async function mine(rowsPerSecondPerIp: number, runMs: number, measureMs: number) {
  const gateway = await startTestGateway({
    startDifficulty: 1e-7,
    minDifficulty: 1e-7,
    targetShareIntervalMs: 100,
    rowsPerSecondPerIp,
    messagesPerSecond: 100_000,
    messageBurst: 100_000,
    maxInvalidPerMinute: 100_000,
  });
  const miners: TestMiner[] = [];
  try {
    for (let i = 0; i < 8; i++) {
      const miner = await TestMiner.tcp(gateway.stratumPort);
      await miner.login(`${MEMBER}.rig${i}`);
      miners.push(miner);
    }
    const began = Date.now();
    let measureFrom: { atMs: number; count: number } | undefined;
    let extranonce2 = 0;
    while (Date.now() - began < runMs) {
      if (measureFrom === undefined && Date.now() - began >= runMs - measureMs) measureFrom = { atMs: Date.now(), count: await accepted(gateway.httpUrl) };
      const miner = miners[extranonce2 % miners.length]!;
      const worker = `${MEMBER}.rig${extranonce2 % miners.length}`;
      const share = await miner.findShare({ worker, extranonce2: (++extranonce2).toString(16).padStart(miner.extranonce2Size * 2, '0') });
      // A share of a job replaced while it was mined is refused: honest, and not what is measured.
      await miner.submit(share.params);
    }
    const rowsPerSecond = ((await accepted(gateway.httpUrl)) - measureFrom!.count) / ((Date.now() - measureFrom!.atMs) / 1000);
    const hits = await metric(gateway.httpUrl, /^dao_limit_hits_total\{limit="row_budget"\} (\d+)$/m);
    return { rowsPerSecond, hits, difficulties: miners.map((m) => m.difficulty) };
  } finally {
    for (const miner of miners) miner.close();
    await gateway.close();
  }
}

describe('ledger-row budget per address', () => {
  test('8 fast sessions of one address: over a budget of 20 rows/s their floors are raised until it holds', async () => {
    const limited = await mine(20, 14_000, 4_000);
    assert.ok(limited.hits > 0, 'row_budget counted');
    assert.ok(limited.rowsPerSecond > 0, 'work still credited');
    // Raises aim at 20/1.2; the 4 s measured hold ~70 rows, so Poisson noise is ~12%: 25 is 3 deviations above the aim.
    assert.ok(limited.rowsPerSecond <= 20 * 1.25, `${limited.rowsPerSecond.toFixed(1)} rows/s with a budget of 20 (difficulties ${limited.difficulties.join(', ')})`);
  });

  test('the budget is a flag and a config-file key', async () => {
    const { loadConfig } = await import('../server/config.js');
    assert.equal(loadConfig({ 'rows-per-second-per-ip': '7' }, {}).rowsPerSecondPerIp, 7);
    assert.equal(loadConfig({}, {}).rowsPerSecondPerIp, 50);
  });
});
