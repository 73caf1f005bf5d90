// Crash safety of settlement: the gateway dies (SIGKILL) right after sending an epoch's root
// transaction and before recording it. On restart it must find the root on-chain, record it, and
// never post a second one (nor pay the epoch's reward twice).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { MaxUint256, parseUnits, type Contract, type Wallet } from 'ethers';
import { writeDeployment, type DaoContracts, type DaoDeployment } from '../server/chain/deploy.js';
import { DEFAULT_CONFIG } from '../server/config.js';
import { startGateway, type Gateway } from '../server/gateway.js';
import { mined, startTestChain, type TestChain } from './helpers/chain.js';
import { TestMiner } from './helpers/test-miner.js';

const CHILD = fileURLToPath(new URL('./helpers/settlement-child.ts', import.meta.url));
const EPOCH_REWARD = parseUnits('100', 18);

/** Submits `count` real shares for `member` to the Stratum port and waits for each acknowledgement. */
async function mine(stratumPort: number, member: string, count: number): Promise<void> {
  const miner = await TestMiner.tcp(stratumPort);
  try {
    await miner.login(`${member}.rig`);
    for (let i = 0; i < count; i++) {
      const share = await miner.findShare({ worker: `${member}.rig`, extranonce2: i.toString(16).padStart(miner.extranonce2Size * 2, '0') });
      assert.equal((await miner.submit(share.params)).result, true, `share ${i} accepted`);
    }
  } finally {
    miner.close();
  }
}

let chain: TestChain;
let contracts: DaoContracts;
let deployment: DaoDeployment;
let dataDir: string;
let deploymentFile: string;
let publisherKey: string;
let memberA: Wallet;
let memberB: Wallet;

before(async () => {
  chain = await startTestChain();
  [memberA, memberB] = chain.wallets as [Wallet, Wallet];
  // The treasury is a contract of its own, so the publisher's balance drops by the whole epoch reward.
  ({ deployment, contracts } = await chain.deploy());
  const dir = mkdtempSync(join(tmpdir(), 'settlement-crash-'));
  dataDir = join(dir, 'data');
  deploymentFile = join(dir, 'deployment.json');
  writeDeployment(deploymentFile, deployment);
  publisherKey = chain.anvil.accounts[0]!.privateKey;
});

after(async () => {
  await chain?.stop();
});

/** The gateway in this process, on the shared data directory. */
function restartGateway(): Promise<Gateway> {
  return startGateway({
    ...DEFAULT_CONFIG,
    httpPort: 0,
    stratumPort: 0,
    dataDir,
    startDifficulty: 1e-5,
    minDifficulty: 1e-7,
    logLevel: 'silent',
    chainRpcUrl: chain.anvil.rpcUrl,
    chainDeploymentFile: deploymentFile,
    publisherKey,
    epochSeconds: 30 * 86_400,
    epochReward: '100',
  });
}

const balanceOf = async (who: string) => (await contracts.token.getFunction('balanceOf')(who)) as bigint;
const rootEvents = (epoch: number) => contracts.distributor.queryFilter(contracts.distributor.filters['RootPublished']!(epoch), deployment.deployBlock);

async function waitPublished(gateway: Gateway, epoch: number): Promise<void> {
  const settlement = gateway.view.settlement!;
  const began = Date.now();
  while ((await settlement.store.epoch(epoch))?.status !== 'published') {
    if (Date.now() - began > 15_000) throw new Error(`epoch ${epoch} not published: ${settlement.publishError}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('the gateway crashes between sending the root transaction and recording it, restarts, and ends with exactly one root for the epoch', async () => {
  const publisherBefore = await balanceOf(chain.deployer.address);

  // ---- the first run, in a child process that dies on sending the root
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      SETTLEMENT_DATA_DIR: dataDir,
      SETTLEMENT_CHAIN_RPC: chain.anvil.rpcUrl,
      SETTLEMENT_DEPLOYMENT_FILE: deploymentFile,
      SETTLEMENT_PUBLISHER_KEY: publisherKey,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    const ports = await new Promise<{ stratumPort: number }>((resolve, reject) => {
      void exited.then(({ code, signal }) => reject(new Error(`settlement-child exited (${code ?? signal}) before starting: ${stderr}`)));
      createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { stratumPort: number }));
    });
    await mine(ports.stratumPort, memberA.address, 2);
    await mine(ports.stratumPort, memberB.address, 1);
    child.stdin!.write('close\n');
    const exit = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`child did not die: ${stderr}`)), 20_000).unref())]);
    assert.equal(exit.signal, 'SIGKILL', `killed by its hook (stderr: ${stderr})`);
  } finally {
    child.kill('SIGKILL');
  }

  // ---- what the crash left: the ledger says 'built', the chain already holds the root
  const ledgerFile = join(dataDir, 'ledger.sqlite');
  const db = new Database(ledgerFile);
  let stored: { status: string; tx_hash: string | null; root: string };
  try {
    stored = db.prepare('SELECT status, tx_hash, root FROM epochs WHERE epoch = 1').get() as typeof stored;
  } finally {
    db.close();
  }
  assert.equal(stored.status, 'built', 'the crash came before the send was recorded');
  assert.equal(stored.tx_hash, null);
  assert.equal((await contracts.distributor.getFunction('epochs')(1)).root, stored.root, 'the transaction reached the chain');

  // ---- the restart reconciles before it does anything else
  const gateway = await restartGateway();
  try {
    const settlement = gateway.view.settlement!;
    const epoch1 = (await settlement.store.epoch(1))!;
    const events = await rootEvents(1);
    assert.equal(events.length, 1, 'exactly one root for epoch 1');
    assert.equal(epoch1.status, 'published');
    assert.equal(epoch1.txHash, events[0]!.transactionHash, "the chain's transaction is recorded");
    assert.equal(epoch1.blockNumber, events[0]!.blockNumber);
    assert.equal(epoch1.publishedAtMs, Number((await contracts.distributor.getFunction('epochs')(1)).publishedAt) * 1000);
    assert.equal(publisherBefore - (await balanceOf(chain.deployer.address)), EPOCH_REWARD, 'one epoch reward paid, not two');
    assert.equal(await contracts.distributor.getFunction('latestEpoch')(), 1n);
    assert.equal(settlement.problem, undefined);

    // ---- and carries on normally
    await mine(gateway.stratumPort, memberB.address, 1);
    const closed = await settlement.closeEpoch();
    assert.equal(closed?.epoch, 2);
    await waitPublished(gateway, 2);
    assert.equal((await rootEvents(2)).length, 1);
    assert.equal(publisherBefore - (await balanceOf(chain.deployer.address)), 2n * EPOCH_REWARD);
    const leafA = (await settlement.store.leaf(2, memberA.address))!;
    assert.equal(leafA.epochWork, 0n, 'member A did no work in epoch 2 but keeps its leaf');
    const distributor = contracts.distributor as Contract;
    assert.equal(await distributor.getFunction('verifyLeaf')(2, memberA.address, leafA.cumulativeWork, leafA.cumulativeReward, leafA.proof), true);
  } finally {
    await gateway.close();
  }
});

test('a "sent" epoch whose transaction never reached the chain is sent again on restart, once', async () => {
  // Epoch 3 fails to publish (no allowance) and the gateway stops with it unpublished.
  const distributor = await contracts.distributor.getAddress();
  let gateway = await restartGateway();
  try {
    await mined(contracts.token.getFunction('approve')(distributor, 0n));
    await mine(gateway.stratumPort, memberA.address, 1);
    assert.equal((await gateway.view.settlement!.closeEpoch())?.epoch, 3);
    const began = Date.now();
    while (!gateway.view.settlement!.publishError) {
      if (Date.now() - began > 10_000) throw new Error('the publish did not fail');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await gateway.close();
  }
  // As if a transaction had been sent and then lost (dropped from the pool, or sent to a node that died).
  const lost = '0x' + 'ab'.repeat(32);
  const db = new Database(join(dataDir, 'ledger.sqlite'));
  try {
    db.prepare("UPDATE epochs SET status = 'sent', tx_hash = ? WHERE epoch = 3").run(lost);
  } finally {
    db.close();
  }
  await mined(contracts.token.getFunction('approve')(distributor, MaxUint256));

  gateway = await restartGateway();
  try {
    await waitPublished(gateway, 3);
    const epoch3 = (await gateway.view.settlement!.store.epoch(3))!;
    const events = await rootEvents(3);
    assert.equal(events.length, 1);
    assert.equal(epoch3.txHash, events[0]!.transactionHash);
    assert.notEqual(epoch3.txHash, lost);
    assert.equal((await contracts.distributor.getFunction('epochs')(3)).root, epoch3.root);
  } finally {
    await gateway.close();
  }
});
