// The gateway's Stratum sessions over real TCP and WebSocket connections, with real hashing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { difficultyToTarget } from '../protocol/target.js';
import { StratumCode } from '../protocol/stratum/errors.js';
import { getJson, MEMBER, MEMBER_2, startTestGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;

for (const transport of ['tcp', 'ws'] as const) {
  describe(`Stratum over ${transport === 'tcp' ? 'TCP' : 'WebSocket'}`, () => {
    let gateway: TestGateway;
    const open = () => (transport === 'tcp' ? TestMiner.tcp(gateway.stratumPort) : TestMiner.ws(gateway.httpUrl));
    before(async () => {
      gateway = await startTestGateway();
    });
    after(() => gateway.close());

    test('subscribe, authorize, mine: the share is acknowledged, recorded and credited', async () => {
      const miner = await open();
      await miner.login(`${MEMBER}.rig1`);
      assert.match(miner.extranonce1, /^[0-9a-f]{8}$/);
      assert.equal(miner.extranonce2Size, 4);
      const setDifficulty = miner.messages.find((m) => m.method === 'mining.set_difficulty');
      assert.deepEqual(setDifficulty?.params, [1e-5]);
      const share = await miner.findShare({ worker: `${MEMBER}.rig1` });
      const response = await miner.submit(share.params);
      assert.deepEqual(response.error, null);
      assert.equal(response.result, true);
      const member = await getJson(`${gateway.httpUrl}api/members/${MEMBER.toLowerCase()}`);
      assert.equal(member.status, 200);
      assert.ok(member.body.shares >= 1);
      assert.equal(member.body.recent[0].hash, share.hash);
      assert.equal(member.body.recent[0].worker, 'rig1');
      assert.ok(Math.abs(member.body.work - member.body.shares * 1e-5 * 2 ** 32) < 1);
      miner.close();
    });

    test('a miner that reconnects with its subscription id keeps its extranonce1, and its queued share counts', async () => {
      const miner = await open();
      await miner.login(`${MEMBER}.resume`);
      const subscribed = miner.messages.find((m) => Array.isArray(m.result))!.result as [[string, string][], string, number];
      const subscriptionId = subscribed[0][0]![1];
      assert.match(subscriptionId, /^[0-9a-f]{16}$/);
      const queued = await miner.findShare({ worker: `${MEMBER}.resume`, extranonce2: '0000abcd' });
      miner.close();
      await new Promise((r) => setTimeout(r, 100));
      const again = await open();
      const resumed = await again.request('mining.subscribe', ['test-miner/1.0', subscriptionId]);
      assert.equal((resumed.result as unknown[])[1], miner.extranonce1);
      assert.equal((await again.request('mining.authorize', [`${MEMBER}.resume`, 'x'])).result, true);
      assert.equal((await again.submit(queued.params)).result, true);
      // An unknown id just gets a fresh extranonce1.
      const other = await open();
      const fresh = await other.request('mining.subscribe', ['test-miner/1.0', 'not-a-session']);
      assert.notEqual((fresh.result as unknown[])[1], miner.extranonce1);
      again.close();
      other.close();
    });

    test('echoes numeric, string and null ids unchanged', async () => {
      const miner = await open();
      for (const id of [7, 'abc', null, 0]) {
        const response = await miner.request('mining.subscribe', [], id);
        assert.equal(response.id, id);
        assert.equal(response.error, null);
      }
      miner.close();
    });

    test('refuses what a pool must refuse, with the usual codes', async () => {
      const miner = await open();
      const early = await miner.submit([`${MEMBER}.x`, '1', '00000000', '00000000', '00000000']);
      assert.equal(early.error?.[0], StratumCode.NOT_SUBSCRIBED);
      await miner.login(`${MEMBER}.w`);
      const code = async (params: string[]) => (await miner.submit(params)).error?.[0];
      const good = await miner.findShare({ worker: `${MEMBER}.w` });
      const [worker, jobId, en2, ntime, nonce] = good.params as [string, string, string, string, string];
      assert.equal(await code([`${MEMBER}.other`, jobId, en2, ntime, nonce]), StratumCode.UNAUTHORIZED);
      assert.equal(await code([worker, 'ffffffff', en2, ntime, nonce]), StratumCode.JOB_NOT_FOUND);
      assert.equal(await code([worker, jobId, '00', ntime, nonce]), StratumCode.OTHER);
      assert.equal(await code([worker, jobId, en2, 'ffffffff', nonce]), StratumCode.OTHER);
      assert.equal(await code([worker, jobId, en2, ntime, nonce, '00002000']), StratumCode.OTHER); // no version rolling negotiated
      assert.equal(await code([worker, jobId, en2, ntime, 'zz']), StratumCode.OTHER);
      // A nonce that does not meet the difficulty (the good one's neighbour almost surely does not).
      // A share that meets 1e-9 but not the session's difficulty: refused as low difficulty.
      let weak = await miner.findShare({ worker, difficulty: 1e-9, startNonce: parseInt(nonce, 16) + 1 });
      while (BigInt('0x' + weak.hash) <= difficultyToTarget(miner.difficulty)) {
        weak = await miner.findShare({ worker, difficulty: 1e-9, startNonce: parseInt(weak.params[4]!, 16) + 1 });
      }
      assert.equal((await miner.submit(weak.params)).error?.[0], StratumCode.LOW_DIFFICULTY);
      assert.equal((await miner.submit(good.params)).result, true);
      assert.equal(await code(good.params), StratumCode.DUPLICATE);
      const unknown = await miner.request('mining.frobnicate', []);
      assert.match(unknown.error![1], /unknown method/);
      miner.close();
    });

    test('refuses an invalid member address at authorize', async () => {
      const miner = await open();
      await miner.request('mining.subscribe', []);
      for (const username of ['alice', '0x1234', `${MEMBER.slice(0, 41)}Z`, `0x52908400098527886e0F7030069857D2E4169EE7.w`, `${MEMBER}.bad worker`]) {
        const response = await miner.request('mining.authorize', [username, 'x']);
        assert.equal(response.result, null, username);
        assert.equal(response.error?.[0], StratumCode.OTHER);
      }
      miner.close();
    });

    test('negotiates version rolling within the pool mask and checks the rolled bits', async () => {
      const miner = await open();
      await miner.login(`${MEMBER_2}.vr`, { versionRolling: true });
      assert.equal(miner.versionMask, 0x1fffe000);
      const rolled = await miner.findShare({ worker: `${MEMBER_2}.vr`, versionBits: 0x00002000 });
      assert.equal((await miner.submit(rolled.params)).result, true);
      const outside = [...rolled.params.slice(0, 5), '00000001'];
      assert.equal((await miner.submit(outside)).error?.[0], StratumCode.OTHER);
      miner.close();
    });

    test('applies suggest_difficulty from the next job, judging older jobs by their own difficulty', async () => {
      const miner = await open();
      await miner.login(`${MEMBER_2}.sd`, { suggestDifficulty: 2e-5 });
      assert.equal(miner.difficulty, 2e-5);
      const share = await miner.findShare({ worker: `${MEMBER_2}.sd` });
      assert.equal((await miner.submit(share.params)).result, true);
      const summary = await getJson(`${gateway.httpUrl}api/members/${MEMBER_2}`);
      assert.ok(summary.body.recent.some((s: { hash: string; difficulty: number }) => s.hash === share.hash && s.difficulty === 2e-5));
      miner.close();
    });
  });
}
