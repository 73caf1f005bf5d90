// What the relayer lets anyone spend of the DAO's gas, end to end on a real anvil behind a counting
// JSON-RPC proxy: forged requests cost no chain call, claims are bound to one epoch (a replay costs
// nothing), dust is refused, members have an hourly quota, GET /api/proposals reads once per block,
// and a spent gas budget pauses relaying (503 + /healthz).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Wallet, ZeroHash, keccak256, toUtf8Bytes, type HDNodeWallet } from 'ethers';
import {
  BALLOT_TYPES,
  CLAIM_REQUEST_TYPES,
  PROPOSAL_REQUEST_TYPES,
  PROPOSAL_THRESHOLD_WORK_PARAMETER,
  ProposalKind,
  VoteSupport,
  governorDomain,
  relayDomain,
} from '../protocol/dao/index.js';
import { writeDeployment } from '../server/chain/deploy.js';
import type { SqliteLedger } from '../server/ledger/sqlite-ledger.js';
import { publishedLeavesOf } from '../server/settlement/published-leaves.js';
import { RelayLimits } from '../server/relayer/limits.js';
import type { Relayer } from '../server/relayer/relayer.js';
import { RELAYER_LIMIT_DEFAULTS } from '../server/config/relayer.js';
import { TEST_VOTING_PERIOD_SECONDS, startTestChain, type TestChain } from './helpers/chain.js';
import { getJson, startTestGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

const TOKEN = 10n ** 18n;
let chain: TestChain;
let proxy: Server;
let gateway: Awaited<ReturnType<typeof startTestGateway>>;
let relayer: Relayer;
let api: string;
/** JSON-RPC methods the gateway sent to the chain, in order. */
const rpcCalls: string[] = [];
const [alice, bob, mallory] = Array.from({ length: 3 }, () => Wallet.createRandom());

/** Forwards JSON-RPC to anvil and notes each method (batches too). */
async function startCountingProxy(target: string): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const parsed = JSON.parse(body) as { method: string } | { method: string }[];
        for (const call of Array.isArray(parsed) ? parsed : [parsed]) rpcCalls.push(call.method);
      } catch {
        rpcCalls.push('unparsable');
      }
      fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(await answer.text());
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

before(async () => {
  chain = await startTestChain();
  proxy = await startCountingProxy(chain.anvil.rpcUrl);
  const deploymentFile = join(mkdtempSync(join(tmpdir(), 'relayer-limits-')), 'deployment.json');
  writeDeployment(deploymentFile, chain.deployment);
  gateway = await startTestGateway({
    chainRpcUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`,
    chainDeploymentFile: deploymentFile,
    publisherKey: chain.anvil.accounts[0]!.privateKey,
    // Its own key: what members make it spend never touches the key that publishes roots.
    relayerKey: chain.anvil.accounts[1]!.privateKey,
    // No public RPC URL: /api/chain publishes none, and the web app reads through the wallet.
    chainPublicRpcUrl: '',
    epochSeconds: 30 * 86_400,
    epochReward: '100',
    relayIntervalMs: 3_600_000,
    relayPerMemberPerHour: 2,
    // Requests from 127.0.0.9 play a load balancer: X-Forwarded-For names the client for the IP quota.
    trustedProxy: ['127.0.0.9/32'],
    relayPerIpPerHour: 40,
    // Alice mines 3 shares of 4 (75 tokens), Bob 1 (25 tokens): Bob's claim is dust.
    relayMinClaimWei: (30n * TOKEN).toString(),
  });
  relayer = gateway.view.relayer!;
  api = gateway.httpUrl + 'api/';
  await mine(alice!.address, 3);
  await mine(bob!.address, 1);
  await publishNextEpoch(1);
});

after(async () => {
  await gateway?.close();
  proxy?.close();
  await chain?.stop();
});

async function mine(member: string, count: number): Promise<void> {
  const miner = await TestMiner.tcp(gateway.stratumPort);
  try {
    await miner.login(`${member}.rig`);
    for (let i = 0; i < count; i++) {
      const share = await miner.findShare({ worker: `${member}.rig`, extranonce2: i.toString(16).padStart(miner.extranonce2Size * 2, '0') });
      assert.equal((await miner.submit(share.params)).result, true);
    }
  } finally {
    miner.close();
  }
}

async function publishNextEpoch(epoch: number): Promise<void> {
  const settlement = gateway.view.settlement!;
  assert.ok(await settlement.closeEpoch(), `epoch ${epoch} closed`);
  await waitFor(`epoch ${epoch} published`, async () => (await settlement.store.epoch(epoch))?.status === 'published');
}

async function post(path: string, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(api + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

async function signedClaim(signer: HDNodeWallet, epoch: number, account = signer.address) {
  const deadline = Math.floor(Date.now() / 1000) + 600;
  const signature = await signer.signTypedData(relayDomain(chain.deployment.chainId, chain.deployment.distributor), CLAIM_REQUEST_TYPES, { account, epoch, deadline });
  return { account, epoch, deadline, signature };
}

async function signedProposal(signer: HDNodeWallet, proposer = signer.address, nonce = 0n, epoch = 1) {
  const request = { kind: ProposalKind.Signal, epoch, parameter: ZeroHash, value: 0n, description: 'spend the DAO gas' };
  const message = { proposer, ...request, descriptionHash: keccak256(toUtf8Bytes(request.description)), nonce };
  const signature = await signer.signTypedData(governorDomain(chain.deployment.chainId, chain.deployment.governor), PROPOSAL_REQUEST_TYPES, message);
  return { proposer, kind: request.kind, epoch, parameter: ZeroHash, value: '0', description: request.description, nonce: nonce.toString(), signature };
}

const relayerBalance = () => chain.provider.getBalance(relayer.address);

test('the relayer pays from its own key, not the publisher key; /api/chain names no RPC URL unless one is configured', async () => {
  assert.equal(relayer.address, chain.anvil.accounts[1]!.address);
  assert.notEqual(relayer.address, gateway.view.chain!.publisher.address);
  const info = (await getJson(api + 'chain')).body;
  assert.equal(info.enabled, true);
  assert.equal('rpcUrl' in info, false, JSON.stringify(info));
});

test('a forged claim, vote or proposal is refused (400) without a single chain call', async () => {
  const forged = [
    ['claims', await signedClaim(mallory!, 1, alice!.address)],
    ['votes', { proposalId: '1', support: 1, voter: alice!.address, signature: await mallory!.signTypedData(governorDomain(chain.deployment.chainId, chain.deployment.governor), BALLOT_TYPES, { proposalId: 1n, support: 1, voter: alice!.address }) }],
    ['proposals', await signedProposal(mallory!, alice!.address)],
  ] as const;
  for (const [path, body] of forged) {
    rpcCalls.length = 0;
    const res = await post(path, body);
    assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.error, new RegExp(`signature was made by ${mallory!.address}, not by ${alice!.address}`));
    assert.deepEqual(rpcCalls, [], `${path}: no chain call for a forged request`);
  }
});

test('GET /api/proposals reads the chain once per block, however many ask', async () => {
  let refreshes = 0;
  const list = relayer.proposals.list.bind(relayer.proposals);
  relayer.proposals.list = () => {
    refreshes++;
    return list();
  };
  await chain.provider.send('evm_mine', []);
  const answers = await Promise.all(Array.from({ length: 8 }, () => getJson(api + 'proposals')));
  for (const answer of answers) assert.equal(answer.status, 200);
  for (let i = 0; i < 4; i++) assert.equal((await getJson(api + 'proposals')).status, 200);
  assert.equal(refreshes, 1, '12 GETs within one block: one refresh');
  await chain.provider.send('evm_mine', []);
  await getJson(api + 'proposals');
  assert.equal(refreshes, 2, 'a new block: one more');
});

test('a claim below the dust threshold is not relayed: 422, the member sends it themselves', async () => {
  const before = await relayerBalance();
  const res = await post('claims', await signedClaim(bob!, 1));
  assert.equal(res.status, 422);
  assert.match(res.body.error, /below the relayer's minimum of 30000000000000000000: .*claim it from your own wallet/);
  await relayer.flush();
  assert.equal(await relayerBalance(), before);
  assert.match(await (await fetch(gateway.httpUrl + 'metrics')).text(), /dao_gateway_relay_refused_total\{reason="dust"\} 1/);
});

test('a claim request is good for its epoch only: replayed after the next epoch it costs nothing', async () => {
  const request = await signedClaim(alice!, 1);
  const first = await post('claims', request);
  assert.equal(first.status, 202, JSON.stringify(first.body));
  const beforeFlush = await relayerBalance();
  await relayer.flush();
  const paid = beforeFlush - (await relayerBalance());
  assert.ok(paid > 0n, 'the relayer paid the claim');
  assert.equal(relayer.limits.spentWei(), paid, 'the budget counts exactly what the receipts cost');

  await mine(alice!.address, 1);
  await publishNextEpoch(2);
  const balance = await relayerBalance();
  const replay = await post('claims', request);
  assert.equal(replay.status, 409);
  assert.match(replay.body.error, /signed for epoch 1 but the latest final epoch is 2: .*sign again for epoch 2/);
  const wrongEpoch = await post('claims', await signedClaim(alice!, 3));
  assert.equal(wrongEpoch.status, 409);
  await relayer.flush();
  assert.equal(await relayerBalance(), balance, 'replays cost the relayer nothing');
});

test('a member has a quota of relayed requests per hour: 429 with Retry-After', async () => {
  const second = await post('claims', await signedClaim(alice!, 2));
  assert.equal(second.status, 202, JSON.stringify(second.body));
  const third = await post('proposals', await signedProposal(alice!));
  assert.equal(third.status, 429);
  assert.match(third.body.error, new RegExp(`${alice!.address} has had 2 requests relayed in the last hour \\(the limit\\)`));
  assert.ok(Number(third.headers.get('retry-after')) > 3000, 'retry when the oldest leaves the hour');
  assert.match(await (await fetch(gateway.httpUrl + 'metrics')).text(), /dao_gateway_relay_refused_total\{reason="member_quota"\} 1/);
});

test('a spent gas budget pauses relaying: 503 with Retry-After, /healthz says so', async () => {
  await relayer.flush();
  relayer.limits.setBudgetWeiPerDay(relayer.limits.spentWei());
  const res = await post('claims', await signedClaim(bob!, 2));
  assert.equal(res.status, 503);
  assert.match(res.body.error, /relaying paused: the gas budget of \d+ wei per 24 h is spent; it resumes in \d+ s/);
  assert.ok(Number(res.headers.get('retry-after')) > 0);
  const health = await getJson(gateway.httpUrl + 'healthz');
  assert.equal(health.status, 503);
  assert.ok(health.body.problems.some((p: string) => /gas budget .* is spent/.test(p)), JSON.stringify(health.body.problems));
  relayer.limits.setBudgetWeiPerDay(BigInt(RELAYER_LIMIT_DEFAULTS.relayGasBudgetWeiPerDay));
  assert.equal((await getJson(gateway.httpUrl + 'healthz')).body.problems.length, 0);
});

test('a proposer below the governed proposal threshold is refused (422) before any gas is spent', async () => {
  // The members vote the threshold up themselves (from Alice's own funded wallet, not the relayer):
  // one more than Bob's work, so Alice may still propose and Bob may not.
  // From the settlement's compact store, as the relayer reads them: the chain checks these proofs.
  // Epoch 2 is the latest: the only one a proposal may be pinned to.
  const leaves = publishedLeavesOf(gateway.view.settlement!.store);
  const [aliceLeaf, bobLeaf] = [(await leaves.publishedLeaf(2, alice!.address))!, (await leaves.publishedLeaf(2, bob!.address))!];
  const threshold = bobLeaf.cumulativeWork + 1n;
  await chain.provider.send('anvil_setBalance', [alice!.address, '0x' + (10n ** 18n).toString(16)]);
  const governor = chain.contracts.governor.connect(alice!.connect(chain.provider)) as typeof chain.contracts.governor;
  const leafArg = (l: typeof aliceLeaf) => ({ cumulativeWork: l.cumulativeWork, cumulativeReward: l.cumulativeReward, proof: l.proof });
  const request = { kind: ProposalKind.ParameterChange, epoch: 2, parameter: PROPOSAL_THRESHOLD_WORK_PARAMETER, value: threshold, description: 'proposers need more work than Bob did' };
  await (await governor.getFunction('propose')(request, leafArg(aliceLeaf))).wait();
  const id = (await governor.getFunction('proposalCount')()) as bigint;
  await (await governor.getFunction('castVote')(id, VoteSupport.For, leafArg(aliceLeaf))).wait();
  await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 60);
  await (await governor.getFunction('execute')(id)).wait();
  assert.equal(await governor.getFunction('parameters')(PROPOSAL_THRESHOLD_WORK_PARAMETER), threshold);

  const balance = await relayerBalance();
  const res = await post('proposals', await signedProposal(bob!, bob!.address, 0n, 2));
  assert.equal(res.status, 422, JSON.stringify(res.body));
  assert.match(res.body.error, new RegExp(`${bob!.address} has ${bobLeaf.cumulativeWork} work in epoch 2, below the proposal threshold of ${threshold}`));
  await relayer.flush();
  assert.equal(await relayerBalance(), balance, 'a refused proposal costs the relayer nothing');
});

test('a client address has a quota of relay POSTs per hour', () => {
  let nowMs = 1_000_000;
  const limits = new RelayLimits({ ...RELAYER_LIMIT_DEFAULTS, relayPerIpPerHour: 3 }, undefined, () => nowMs);
  for (let i = 0; i < 3; i++) limits.admitIp('192.0.2.1');
  assert.throws(() => limits.admitIp('192.0.2.1'), (err: Error & { status?: number; headers?: Record<string, string> }) => {
    assert.equal(err.status, 429);
    assert.match(err.message, /this address has made 3 relay requests in the last hour \(the limit\); try again in 3600 s/);
    assert.equal(err.headers?.['retry-after'], '3600');
    return true;
  });
  limits.admitIp('192.0.2.2');
  nowMs += 3_600_001;
  limits.admitIp('192.0.2.1');
});

test('behind a trusted proxy the relay quota keys on the forwarded client (IPv6 on its /64), not on the proxy', async () => {
  // From 127.0.0.9, the trusted proxy's address (fetch cannot choose its source address).
  const postFrom = (client: string) =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest(api + 'votes', { method: 'POST', localAddress: '127.0.0.9', headers: { 'content-type': 'application/json', 'x-forwarded-for': client } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{}');
    });
  for (let i = 0; i < 40; i++) assert.equal(await postFrom(`2001:db8:1:2::${(i + 1).toString(16)}`), 400, 'a bad body, counted against the client');
  // The 41st from the same /64, from another address in it: refused before the body is read.
  assert.equal(await postFrom('2001:db8:1:2:ffff::1'), 429);
  // Another client behind the same proxy is not held back by the first.
  assert.equal(await postFrom('198.51.100.8'), 400);
  assert.equal(await postFrom('2001:db8:1:3::1'), 400);
});
