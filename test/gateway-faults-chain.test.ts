// Chain RPC faults, made real: the RPC goes away at an epoch close and after a root is sent. The
// close waits, the publish retries with backoff, and each epoch's root is posted exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseUnits } from 'ethers';
import { writeDeployment } from '../server/chain/deploy.js';
import { startTestChain } from './helpers/chain.js';
import { startFaultProxy } from './helpers/fault-proxy.js';
import { PINNED, Rig } from './helpers/fault-rig.js';
import { getJson, MEMBER, startTestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('chain RPC faults', () => {
  test('the chain RPC goes away at an epoch close and after a root is sent: the close waits, the publish retries, and each epoch is published exactly once', async () => {
    const chain = await startTestChain();
    const proxy = await startFaultProxy({ port: chain.anvil.port });
    // The treasury is a contract of its own, so the publisher pays out the whole epoch reward (members' part + reinvested).
    const { deployment, contracts } = await chain.deploy();
    const deploymentFile = join(mkdtempSync(join(tmpdir(), 'faults-chain-')), 'deployment.json');
    writeDeployment(deploymentFile, deployment);
    let afterRootSent: (() => Promise<void>) | undefined;
    const gateway = await startTestGateway(
      {
        ...PINNED,
        chainRpcUrl: `http://127.0.0.1:${proxy.port}`,
        chainDeploymentFile: deploymentFile,
        publisherKey: chain.anvil.accounts[0]!.privateKey,
        // No scheduled close during the test: the test closes epochs itself.
        epochSeconds: 30 * 86_400,
        epochReward: '100',
      },
      { settlementHooks: { afterRootSent: () => afterRootSent?.() } },
    );
    const settlement = gateway.view.settlement!;
    const reward = parseUnits('100', 18);
    const balance = async () => (await contracts.token.getFunction('balanceOf')(chain.deployer.address)) as bigint;
    const roots = async (epoch: number) => contracts.distributor.queryFilter(contracts.distributor.filters['RootPublished']!(epoch), deployment.deployBlock);
    const health = () => getJson(`${gateway.httpUrl}healthz`);
    try {
      const startBalance = await balance();
      const rig = await Rig.open(gateway.stratumPort, `${MEMBER}.chain`);
      for (let i = 0; i < 3; i++) assert.equal((await rig.mine()).result, true);

      // ---- 1. the RPC is down when the epoch closes: the close fails before storing anything
      await proxy.down();
      await assert.rejects(settlement.closeEpoch(), (err: Error) => {
        assert.match(err.message, /ECONNREFUSED|connect|fetch|network/i, `the close fails with the connection error: ${err.message}`);
        return true;
      });
      assert.equal(await settlement.store.lastEpoch(), undefined, 'no epoch is stored while the chain cannot be read');
      assert.equal((await settlement.store.pendingWork()).workByMember.has(MEMBER), true, "the member's shares stay pending for the next close");
      const closeDown = await health();
      assert.equal(closeDown.status, 503, `/healthz reports the failed close: ${JSON.stringify(closeDown.body)}`);
      assert.ok(closeDown.body.problems.some((p: string) => /^settlement retrying: /.test(p)), JSON.stringify(closeDown.body.problems));

      // ---- 2. up for the close, down before the publish: it is stored, then retried with backoff
      await proxy.up();
      const closed = await settlement.closeEpoch();
      await proxy.down();
      assert.equal(closed?.epoch, 1);
      await waitFor('the publish of epoch 1 to fail', () => settlement.publishError !== undefined);
      assert.match(settlement.publishError!, /^epoch 1: /);
      assert.equal((await settlement.store.epoch(1))?.status, 'built', 'nothing was sent');
      const publishDown = await health();
      assert.equal(publishDown.status, 503, JSON.stringify(publishDown.body));
      assert.ok(
        publishDown.body.problems.some((p: string) => /^settlement retrying: epoch 1: /.test(p)),
        `/healthz says the publish of epoch 1 is being retried: ${JSON.stringify(publishDown.body.problems)}`,
      );
      await sleep(1500);
      await proxy.up();
      await waitFor('epoch 1 to be published after the RPC came back', async () => (await settlement.store.epoch(1))?.status === 'published', 15_000);
      const events1 = await roots(1);
      assert.equal(events1.length, 1, 'exactly one RootPublished for epoch 1');
      const epoch1 = (await settlement.store.epoch(1))!;
      assert.equal((await contracts.distributor.getFunction('epochs')(1)).root, epoch1.root, "the chain holds the ledger's root");
      assert.equal(epoch1.txHash, events1[0]!.transactionHash);
      assert.equal(startBalance - (await balance()), reward, "the publisher paid one epoch's reward");
      assert.equal(settlement.publishError, undefined, 'the error is cleared by the success');
      // The veto watcher's own read failed while the RPC was down too; its next poll (every 2 s) clears it.
      await waitFor('/healthz to be ok again', async () => (await health()).status === 200, 10_000);

      // ---- 3. the RPC dies right after the root transaction is sent, before its receipt is read
      for (let i = 0; i < 2; i++) assert.equal((await rig.mine()).result, true);
      afterRootSent = async () => {
        afterRootSent = undefined;
        await proxy.down();
        setTimeout(() => void proxy.up(), 2000);
      };
      const closed2 = await settlement.closeEpoch();
      assert.equal(closed2?.epoch, 2);
      // What the ledger and the publisher said along the way.
      const states = new Set<string>();
      await waitFor(
        'epoch 2 to be published after the RPC came back',
        async () => {
          const status = (await settlement.store.epoch(2))?.status;
          states.add(settlement.publishError ? `${status}, retrying: ${settlement.publishError}` : String(status));
          return status === 'published';
        },
        20_000,
      );
      const trail = JSON.stringify([...states]);
      // 'sent' (the hash stored before the outage) while retrying: the receipt could not be read.
      assert.ok([...states].some((s) => /^sent, retrying: epoch 2: /.test(s)), `the publish was retried with the transaction recorded as sent: ${trail}`);
      const epoch2 = (await settlement.store.epoch(2))!;
      const events2 = await roots(2);
      assert.equal(events2.length, 1, 'exactly one RootPublished for epoch 2: the transaction sent before the outage is found, not repeated');
      assert.equal(epoch2.txHash, events2[0]!.transactionHash);
      assert.equal((await contracts.distributor.getFunction('epochs')(2)).root, epoch2.root);
      assert.equal(startBalance - (await balance()), 2n * reward, 'two epochs, two rewards: none paid twice');
      assert.equal(await contracts.distributor.getFunction('latestEpoch')(), 2n);
      assert.equal(settlement.problem, undefined);
      rig.close();
    } finally {
      await gateway.close();
      await proxy.close();
      await chain.stop();
    }
  });
});

/** The hashes of every share row of a gateway's ledger. */
