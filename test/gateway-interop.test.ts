// Stratum clients nobody here wrote, and this gateway as the upstream of another.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import stratumClient from 'stratum-client';
import { difficultyToTarget } from '../protocol/target.js';
import { getJson, MEMBER, MEMBER_2, startTestGateway } from './helpers/gateway.js';
import { solveShare, TestMiner } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

describe('interoperability', () => {
  test('the stratum-client npm package subscribes, authorizes, gets work and has its share accepted over TCP', async () => {
    const gateway = await startTestGateway();
    try {
      const events: string[] = [];
      const accepted = new Promise<unknown>((resolve, reject) => {
        let submitted = false;
        const client = stratumClient({
          server: '127.0.0.1',
          port: gateway.stratumPort,
          worker: `${MEMBER}.interop`,
          autoReconnectOnError: false,
          onAuthorizeSuccess: () => events.push('authorized'),
          onAuthorizeFail: () => reject(new Error('authorize failed')),
          onError: (err) => reject(err),
          onNewMiningWork: (work) => {
            if (submitted || work.miningDiff === undefined) return;
            submitted = true;
            const notify = [work.jobId, work.prevhash, work.coinb1, work.coinb2, work.merkle_branch, work.version, work.nbits, work.ntime, work.clean_jobs];
            const extranonce2 = '00'.repeat(work.extraNonce2Size);
            solveShare({ notify, extranonce1: work.extraNonce1, extranonce2, difficulty: work.miningDiff, worker: `${MEMBER}.interop` }).then(
              (share) => client.submit({ worker_name: share.params[0]!, job_id: share.params[1]!, extranonce2: share.params[2]!, ntime: share.params[3]!, nonce: share.params[4]! }),
              reject,
            );
          },
          onSubmitWorkSuccess: (_error, result) => {
            client.shutdown();
            resolve(result);
          },
          onSubmitWorkFail: (error) => {
            client.shutdown();
            reject(new Error(`share refused: ${JSON.stringify(error)}`));
          },
        });
      });
      assert.equal(await accepted, true);
      assert.deepEqual(events, ['authorized']);
      assert.equal((await gateway.view.ledger.member(MEMBER)).shares, 1);
    } finally {
      await gateway.close();
    }
  });

  test('a gateway as the upstream of another receives exactly the shares that meet its difficulty, extranonce reassembled', async () => {
    // A is the DAO's "upstream pool"; B relays to it. B's miners work at 1e-6, A wants 1e-5.
    const upstream = await startTestGateway({ startDifficulty: 1e-5, minDifficulty: 1e-5, maxDifficulty: 1e-5 });
    const relay = await startTestGateway({
      source: { kind: 'stratum', url: `stratum+tcp://${MEMBER}.relay:x@127.0.0.1:${upstream.stratumPort}` },
      startDifficulty: 1e-6,
      minDifficulty: 1e-6,
      maxDifficulty: 1e-6,
    });
    try {
      assert.equal(relay.view.source.kind, 'stratum');
      const miner = await TestMiner.tcp(relay.stratumPort);
      await miner.login(`${MEMBER_2}.downstream`);
      const acceptedByRelay: string[] = [];
      for (let i = 0; i < 60; i++) {
        const share = await miner.findShare({ worker: `${MEMBER_2}.downstream`, extranonce2: i.toString(16).padStart(2 * miner.extranonce2Size, '0') });
        const response = await miner.submit(share.params);
        assert.equal(response.result, true, JSON.stringify(response.error));
        acceptedByRelay.push(share.hash);
      }
      const upstreamTarget = difficultyToTarget(1e-5);
      const due = acceptedByRelay.filter((h) => BigInt('0x' + h) <= upstreamTarget).sort();
      assert.ok(due.length > 0 && due.length < 60, `${due.length} of 60 shares meet the upstream difficulty`);
      // Forwarding is asynchronous: wait for the upstream to have them all.
      await waitFor('the upstream to hold every forwarded share', async () => (await upstream.view.ledger.member(MEMBER)).shares >= due.length, 10_000);
      const received = (await upstream.view.ledger.member(MEMBER, { recent: 100 })).recent.map((s) => s.hash).sort();
      // The upstream re-verified each one from its own job: the same hashes prove the extranonce
      // (relay prefix + miner extranonce2) was reassembled exactly.
      assert.deepEqual(received, due);
      assert.equal((await upstream.view.ledger.member(MEMBER)).recent[0]!.worker, 'relay');
      miner.close();
    } finally {
      await relay.close();
      await upstream.close();
    }
  });

  test('downstream miners roll only the version bits the upstream granted the relay', async () => {
    const upstream = await startTestGateway({ versionRollingMask: 0x00ffe000 });
    const relay = await startTestGateway({ source: { kind: 'stratum', url: `stratum+tcp://${MEMBER}.relay:x@127.0.0.1:${upstream.stratumPort}` } });
    try {
      const miner = await TestMiner.tcp(relay.stratumPort);
      await miner.login(`${MEMBER_2}.vr`, { versionRolling: true });
      assert.equal(miner.versionMask, 0x00ffe000);
      const inside = await miner.findShare({ worker: `${MEMBER_2}.vr`, versionBits: 0x00002000 });
      assert.equal((await miner.submit(inside.params)).result, true);
      const outside = [...inside.params.slice(0, 5), '10000000'];
      assert.equal((await miner.submit(outside)).error?.[1], 'version_bits: 10000000 sets bits outside the negotiated mask 00ffe000');
      miner.close();
    } finally {
      await relay.close();
      await upstream.close();
    }
  });

  test('while the upstream is away the relay keeps its miners on the last job and says it is degraded', async () => {
    const upstream = await startTestGateway();
    const relay = await startTestGateway({ source: { kind: 'stratum', url: `stratum+tcp://${MEMBER}.relay:x@127.0.0.1:${upstream.stratumPort}` } });
    try {
      const miner = await TestMiner.tcp(relay.stratumPort);
      await miner.login(`${MEMBER_2}.kept`);
      await upstream.close();
      await waitFor('the relay to see its upstream gone', () => !relay.view.source.connected, 5_000);
      const health = await getJson(`${relay.httpUrl}healthz`);
      assert.equal(health.status, 503);
      assert.deepEqual(health.body.problems, ['work source disconnected']);
      // The miner still holds a valid job and its shares are still credited by the relay.
      assert.equal(miner.closed, false);
      const share = await miner.findShare({ worker: `${MEMBER_2}.kept` });
      assert.equal((await miner.submit(share.params)).result, true);
      miner.close();
    } finally {
      await relay.close();
    }
  });
});
