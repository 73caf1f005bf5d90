// Per-session limits (issue 13) against the real gateway on loopback: a connection cannot pile up
// identities or authorize without end, each refusal is counted in /metrics, logged once per
// address per minute, and /api/stats reads counters rather than walking identities.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { StratumCode } from '../protocol/stratum/errors.js';
import { getJson, MEMBER, startTestGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';

/** A distinct valid (all-lowercase) address per index. */
const address = (i: number) => '0x' + (i + 1).toString(16).padStart(40, '0');

function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
  return { lines, logger: pino({ level: 'info', base: undefined }, stream) };
}

async function limitHits(httpUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${httpUrl}metrics`)).text();
  const hits: Record<string, number> = {};
  for (const m of text.matchAll(/^dao_limit_hits_total\{limit="([a-z_]+)"\} (\d+)$/gm)) hits[m[1]!] = Number(m[2]);
  return hits;
}

describe('per-session limits', () => {
  test('identity cap: the 9th distinct username is refused with a clear error; counted once each, logged once', async () => {
    const { lines, logger } = captureLog();
    const gateway = await startTestGateway({ authorizationsPerMinute: 1000 }, { logger });
    try {
      const miner = await TestMiner.tcp(gateway.stratumPort);
      await miner.login(`${MEMBER}.w0`);
      for (let i = 1; i < 8; i++) assert.equal((await miner.request('mining.authorize', [`${MEMBER}.w${i}`, 'x'])).result, true);
      // Re-authorizing a username it holds is no new identity.
      assert.equal((await miner.request('mining.authorize', [`${MEMBER}.w3`, 'x'])).result, true);
      for (let i = 0; i < 50; i++) {
        const refused = await miner.request('mining.authorize', [address(i), 'x']);
        assert.equal(refused.result ?? null, null);
        assert.equal(refused.error?.[0], StratumCode.OTHER);
        assert.match(String(refused.error?.[1]), /too many workers on one connection: at most 8/);
      }
      const stats = (await getJson(`${gateway.httpUrl}api/stats`)).body;
      assert.equal(stats.workers, 8);
      assert.equal(stats.miners, 1);
      assert.equal((await limitHits(gateway.httpUrl)).identities, 50);
      const member = (await getJson(`${gateway.httpUrl}api/members/${MEMBER}`)).body;
      assert.deepEqual(member.workers.map((w: { worker: string }) => w.worker).sort(), ['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7']);
      assert.equal(lines.filter((l) => l.msg?.toString().startsWith('limit hit')).length, 1);
      // Closing the session takes its identities out of the counters.
      miner.close();
      await miner.waitClosed();
      for (let t = 0; t < 50 && (await getJson(`${gateway.httpUrl}api/stats`)).body.workers !== 0; t++) await new Promise((r) => setTimeout(r, 20));
      assert.equal((await getJson(`${gateway.httpUrl}api/stats`)).body.workers, 0);
      assert.equal((await getJson(`${gateway.httpUrl}api/stats`)).body.miners, 0);
    } finally {
      await gateway.close();
    }
  });

  test('authorize rate: past 30 a minute authorize is refused and counted', async () => {
    const gateway = await startTestGateway();
    try {
      const miner = await TestMiner.tcp(gateway.stratumPort);
      await miner.login(`${MEMBER}.w0`);
      let refused = 0;
      for (let i = 0; i < 40; i++) {
        const answer = await miner.request('mining.authorize', [`${MEMBER}.w0`, 'x']);
        if (answer.error) {
          refused++;
          assert.match(String(answer.error[1]), /too many authorizations: at most 30 a minute/);
        }
      }
      // login made 1, so 29 of these 40 pass.
      assert.equal(refused, 11);
      assert.equal((await limitHits(gateway.httpUrl)).authorize_rate, 11);
      miner.close();
    } finally {
      await gateway.close();
    }
  });

  test('the limits are flags and config-file keys', async () => {
    const { loadConfig } = await import('../server/config.js');
    const config = loadConfig({ 'max-identities-per-conn': '3', 'authorizes-per-minute': '5' }, {});
    assert.equal(config.maxIdentitiesPerSession, 3);
    assert.equal(config.authorizationsPerMinute, 5);
    assert.equal(loadConfig({}, {}).maxIdentitiesPerSession, 8);
    assert.throws(() => loadConfig({ 'max-identities-per-conn': '0' }, {}), /max-identities-per-conn: 0 is outside 1\.\.10000/);
  });
});
