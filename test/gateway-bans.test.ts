// Strikes for abuse, not for honest rejects (issue 18, items 4 and 5): a misbehaving connection
// is banned alone, its address only after several of its connections were, exempt ranges never;
// stale and low-difficulty shares at a normal rate never ban; a refused submit answers false.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StratumCode } from '../protocol/stratum/errors.js';
import { MEMBER, MEMBER_2, startTestGateway } from './helpers/gateway.js';
import { ManualSource } from './helpers/manual-source.js';
import { capturingLogger } from './helpers/stratum-fuzz-watch.js';
import { TestMiner } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;

async function loggedIn(gateway: TestGateway, address: string, worker: string): Promise<TestMiner> {
  const miner = await TestMiner.tcp(gateway.stratumPort, address);
  await miner.login(worker);
  return miner;
}

/** Each share of a test on its own extranonce2, so that no two are the same work. */
let extranonce2 = 0;
async function shareAccepted(miner: TestMiner, worker: string): Promise<boolean> {
  const share = await miner.findShare({ worker, extranonce2: (++extranonce2).toString(16).padStart(8, '0') });
  return (await miner.submit(share.params)).result === true;
}

/** A connection that sends lines that are not JSON until the gateway hangs up on it. */
async function abuse(gateway: TestGateway, address: string): Promise<TestMiner> {
  const abuser = await TestMiner.tcp(gateway.stratumPort, address);
  for (let i = 0; i < 60; i++) abuser.sendRaw('{not json');
  await abuser.waitClosed();
  return abuser;
}

/** The value of one series of the gateway's Prometheus text, 0 when absent. */
async function metric(gateway: TestGateway, series: string): Promise<number> {
  const text = await (await fetch(`${gateway.httpUrl}metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** A fresh connection from `address` is let in (true) or refused and closed (false). */
async function admitted(gateway: TestGateway, address: string): Promise<boolean> {
  const miner = await TestMiner.tcp(gateway.stratumPort, address);
  try {
    const reply = await miner.request('mining.subscribe', ['probe/1']).catch(() => undefined);
    return reply !== undefined && !miner.closed && Array.isArray(reply.result);
  } finally {
    miner.close();
  }
}

describe('bans', () => {
  test('a NAT farm of 20 miners keeps mining while a 21st connection on its address misbehaves and is dropped alone; its reconnect is let in', { timeout: 120_000 }, async () => {
    const gateway = await startTestGateway({ maxInvalidPerMinute: 20, maxDifficulty: 1e-5 });
    const farm = '127.0.0.20';
    const rigs: TestMiner[] = [];
    try {
      for (let i = 0; i < 20; i++) rigs.push(await loggedIn(gateway, farm, `${MEMBER}.rig${i}`));
      for (const [i, rig] of rigs.entries()) assert.equal(await shareAccepted(rig, `${MEMBER}.rig${i}`), true, `rig ${i} before`);

      const bad = await abuse(gateway, farm);
      assert.match(JSON.stringify(bad.messages), /banned/, 'the misbehaving connection is told why');

      for (const [i, rig] of rigs.entries()) {
        assert.equal(rig.closed, false, `rig ${i} stays connected`);
        assert.equal(await shareAccepted(rig, `${MEMBER}.rig${i}`), true, `rig ${i} after`);
      }
      // The rule: one banned connection does not ban the address, so the rig may come back.
      const back = await loggedIn(gateway, farm, `${MEMBER}.rig20`);
      assert.equal(await shareAccepted(back, `${MEMBER}.rig20`), true, 'the reconnect mines');
      back.close();
      assert.equal(await metric(gateway, 'dao_gateway_bans_total{scope="connection",reason="malformed"}'), 1);
      assert.equal(await metric(gateway, 'dao_gateway_bans_total{scope="address",reason="repeated connection bans"}'), 0);
    } finally {
      for (const rig of rigs) rig.close();
      await gateway.close();
    }
  });

  test('sustained abuse from several connections of one address bans the address; its clean connections mine on; the metric counts every ban', { timeout: 60_000 }, async () => {
    const { logger, entries } = capturingLogger();
    const gateway = await startTestGateway({ maxInvalidPerMinute: 10, banAddressAfter: 3, banSeconds: 60 }, { logger });
    const address = '127.0.0.30';
    try {
      const clean = await loggedIn(gateway, address, `${MEMBER}.clean`);
      for (let i = 1; i <= 3; i++) {
        const abuser = await abuse(gateway, address);
        assert.match(JSON.stringify(abuser.messages), /banned/);
        assert.equal(await admitted(gateway, address), i < 3, `after ${i} banned connection(s) the address is ${i < 3 ? 'still open' : 'banned'}`);
      }
      const refused = await TestMiner.tcp(gateway.stratumPort, address);
      await refused.waitClosed();
      assert.match(JSON.stringify(refused.messages), /temporarily banned/);
      assert.equal(clean.closed, false, 'a connection that never struck stays');
      assert.equal(await shareAccepted(clean, `${MEMBER}.clean`), true);
      assert.equal(await admitted(gateway, '127.0.0.31'), true, 'another address is untouched');
      assert.equal(await metric(gateway, 'dao_gateway_bans_total{scope="connection",reason="malformed"}'), 3);
      assert.equal(await metric(gateway, 'dao_gateway_bans_total{scope="address",reason="repeated connection bans"}'), 1);
      // A log line per ban, with the address and why.
      const banLines = entries.filter((e) => /banned/.test(e.msg ?? '')).map((e) => e as unknown as { msg: string; ip: string; reason?: string });
      assert.deepEqual(
        banLines.map(({ msg, ip, reason }) => [msg, ip, reason]),
        [...Array(3).fill(['connection banned', address, 'malformed']), ['address banned: several of its connections were banned', address, undefined]],
      );
      clean.close();
    } finally {
      await gateway.close();
    }
  });

  test('an exempt CIDR is never address-banned nor capped per address; its connections are still banned one by one', { timeout: 60_000 }, async () => {
    const gateway = await startTestGateway({ maxInvalidPerMinute: 10, banAddressAfter: 2, maxConnectionsPerIp: 2, banExempt: ['2001:db8::/32', '127.0.0.8/29'] });
    const proxy = '127.0.0.9';
    try {
      for (let i = 0; i < 4; i++) {
        const abuser = await abuse(gateway, proxy);
        assert.match(JSON.stringify(abuser.messages), /banned/, `abusive connection ${i} is banned`);
      }
      const miners = [];
      for (let i = 0; i < 4; i++) miners.push(await loggedIn(gateway, proxy, `${MEMBER_2}.p${i}`));
      for (const [i, miner] of miners.entries()) assert.equal(await shareAccepted(miner, `${MEMBER_2}.p${i}`), true, `miner ${i} over the cap of 2`);
      for (const miner of miners) miner.close();
      assert.equal(await metric(gateway, 'dao_gateway_bans_total{scope="connection",reason="malformed"}'), 4);
      assert.equal(await metric(gateway, 'dao_gateway_bans_total{scope="address",reason="repeated connection bans"}'), 0);
      // Outside the range the same abuse does ban the address.
      await abuse(gateway, '127.0.0.16');
      await abuse(gateway, '127.0.0.16');
      assert.equal(await admitted(gateway, '127.0.0.16'), false);
    } finally {
      await gateway.close();
    }
  });

  test('stale and low-difficulty shares at a normal rate never ban', { timeout: 60_000 }, async () => {
    const source = new ManualSource();
    const gateway = await startTestGateway({ maxInvalidPerMinute: 10, banAddressAfter: 1, maxDifficulty: 1e-5 }, { source });
    const worker = `${MEMBER}.honest`;
    try {
      const miner = await loggedIn(gateway, '127.0.0.40', worker);
      for (let round = 0; round < 8; round++) {
        // Work found on a job that a new block then makes stale...
        const stale = await miner.findShare({ worker, extranonce2: (++extranonce2).toString(16).padStart(8, '0') });
        const next = miner.nextJob();
        source.emit(true);
        await next;
        assert.equal((await miner.submit(stale.params)).error?.[0], StratumCode.JOB_NOT_FOUND, `round ${round}: stale`);
        // ...a share under the difficulty...
        const good = await miner.findShare({ worker, extranonce2: (++extranonce2).toString(16).padStart(8, '0') });
        const low = [...good.params];
        low[4] = (((parseInt(good.params[4]!, 16) + 1) >>> 0)).toString(16).padStart(8, '0');
        const lowAnswer = await miner.submit(low);
        assert.ok(lowAnswer.result === true || lowAnswer.error?.[0] === StratumCode.LOW_DIFFICULTY, `round ${round}: low difficulty`);
        // ...and good work, all on one connection within the minute.
        assert.equal((await miner.submit(good.params)).result, true, `round ${round}: accepted`);
      }
      assert.equal(miner.closed, false);
      assert.equal(await admitted(gateway, '127.0.0.40'), true);
      assert.equal(await metric(gateway, 'dao_gateway_bans_total{scope="connection",reason="rejected shares"}'), 0);
      miner.close();
    } finally {
      await gateway.close();
    }
  });
});

describe('compatibility', () => {
  test('a refused submit answers "result": false with an error array; other refusals answer null', async () => {
    const gateway = await startTestGateway();
    try {
      const early = await TestMiner.tcp(gateway.stratumPort);
      const notSubscribed = await early.request('mining.submit', [`${MEMBER}.x`, '1', '00000000', '00000000', '00000000']);
      assert.equal(notSubscribed.result, false);
      assert.deepEqual(notSubscribed.error, [StratumCode.NOT_SUBSCRIBED, 'not subscribed', null]);
      early.close();

      const miner = await loggedIn(gateway, '127.0.0.1', `${MEMBER}.compat`);
      const share = await miner.findShare({ worker: `${MEMBER}.compat` });
      const unknownJob = [...share.params];
      unknownJob[1] = 'ffffffff';
      const answer = await miner.submit(unknownJob);
      assert.equal(answer.result, false);
      assert.ok(Array.isArray(answer.error) && answer.error[0] === StratumCode.JOB_NOT_FOUND && typeof answer.error[1] === 'string', JSON.stringify(answer));
      assert.equal((await miner.submit(share.params)).result, true);
      const duplicate = await miner.submit(share.params);
      assert.equal(duplicate.result, false);
      assert.equal(duplicate.error?.[0], StratumCode.DUPLICATE);
      const unknownMethod = await miner.request('mining.nonsense', []);
      assert.equal(unknownMethod.result, null);
      assert.equal(unknownMethod.error?.[0], StratumCode.OTHER);
      miner.close();
      await waitFor('the sessions to close', () => gateway.view.hub.sessions.size === 0);
    } finally {
      await gateway.close();
    }
  });
});
