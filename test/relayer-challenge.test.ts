// The challenge window through a real gateway on a real anvil chain: /api/epochs shows when each
// root becomes final and which was vetoed, /healthz reports a veto of the latest root, and the
// relayer refuses claims and proposals against a root still in its challenge period (409) or
// vetoed (422), and relays them against the next final root.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Wallet, ZeroHash, keccak256, toUtf8Bytes, type HDNodeWallet } from 'ethers';
import { CLAIM_REQUEST_TYPES, PROPOSAL_REQUEST_TYPES, governorDomain, relayDomain } from '../protocol/dao/index.js';
import type { EpochInfo, HealthResponse } from '../protocol/api.js';
import type { Settlement } from '../server/settlement/settlement.js';
import { mined, startTestChain, type TestChain } from './helpers/chain.js';
import { getJson, startSettlingGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

const CHALLENGE_SECONDS = 600;

let chain: TestChain;
let gateway: Awaited<ReturnType<typeof startSettlingGateway>>;
let settlement: Settlement;
let guardian: Wallet;
const member = Wallet.createRandom();

before(async () => {
  chain = await startTestChain();
  guardian = chain.wallets[0]!;
  // A deployment of its own, with a guardian and a challenge period, for the gateway to settle on.
  chain.deployment = (await chain.deploy({ guardian: guardian.address, challengePeriodSeconds: CHALLENGE_SECONDS })).deployment;
  gateway = await startSettlingGateway(chain, { relayIntervalMs: 3_600_000 });
  settlement = gateway.view.settlement!;
});

after(async () => {
  await gateway?.close();
  await chain?.stop();
});

/** One accepted share of `member`'s, then the epoch closed and its root published. */
async function settleEpoch(epoch: number): Promise<void> {
  const miner = await TestMiner.tcp(gateway.stratumPort);
  try {
    await miner.login(`${member.address}.rig`);
    const share = await miner.findShare({ worker: `${member.address}.rig`, extranonce2: epoch.toString(16).padStart(miner.extranonce2Size * 2, '0') });
    assert.equal((await miner.submit(share.params)).result, true, 'share accepted');
  } finally {
    miner.close();
  }
  assert.ok(await settlement.closeEpoch(), `epoch ${epoch} closed`);
  await waitFor(`epoch ${epoch} published`, async () => (await settlement.store.epoch(epoch))?.status === 'published');
}

async function post(path: string, body: unknown): Promise<{ status: number; body: { error?: string; id?: number } }> {
  const res = await fetch(`${gateway.httpUrl}api/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function claim(signer: HDNodeWallet, epoch: number) {
  const deadline = (await chain.provider.getBlock('latest'))!.timestamp + 3600;
  const message = { account: signer.address, epoch, deadline };
  const signature = await signer.signTypedData(relayDomain(chain.deployment.chainId, chain.deployment.distributor), CLAIM_REQUEST_TYPES, message);
  return post('claims', { ...message, signature });
}

async function propose(signer: HDNodeWallet, epoch: number) {
  const request = { kind: 0, epoch, parameter: ZeroHash, value: 0n, description: `pinned to ${epoch}` };
  const nonce = (await chain.contracts.governor.attach(chain.deployment.governor).getFunction('nonces')(signer.address)) as bigint;
  const message = { proposer: signer.address, ...request, descriptionHash: keccak256(toUtf8Bytes(request.description)), nonce };
  const signature = await signer.signTypedData(governorDomain(chain.deployment.chainId, chain.deployment.governor), PROPOSAL_REQUEST_TYPES, message);
  return post('proposals', { ...request, value: '0', nonce: nonce.toString(), signature, proposer: signer.address });
}

const epochInfo = async (epoch: number): Promise<EpochInfo> => (await getJson(`${gateway.httpUrl}api/epochs/${epoch}`)).body as EpochInfo;
const health = async (): Promise<HealthResponse> => (await getJson(`${gateway.httpUrl}healthz`)).body as HealthResponse;

test('a root is claimable only after its challenge period, shown in /api/epochs', async () => {
  await settleEpoch(1);
  const info = await epochInfo(1);
  assert.equal(info.challengeEndsAtMs, info.publishedAtMs! + CHALLENGE_SECONDS * 1000, 'challengeEndsAtMs = publishedAtMs + the period');
  assert.equal(info.vetoed, null);

  const early = await claim(member, 1);
  assert.equal(early.status, 409, JSON.stringify(early.body));
  assert.match(early.body.error!, /epoch 1, whose root is in its challenge period until .*Z: usable from then; until then no root is final yet/);
  const earlyProposal = await propose(member, 1);
  assert.equal(earlyProposal.status, 409, JSON.stringify(earlyProposal.body));

  await chain.increaseTime(CHALLENGE_SECONDS);
  const accepted = await claim(member, 1);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  await gateway.view.relayer!.flush();
  const paid = (await chain.contracts.distributor.attach(chain.deployment.distributor).getFunction('claimed')(member.address)) as bigint;
  assert.ok(paid > 0n, 'the claim against the final root was paid');
});

test('a vetoed root is refused by the relayer and reported in /healthz; the next root works', async () => {
  await settleEpoch(2);
  const distributor = chain.contracts.distributor.attach(chain.deployment.distributor).connect(guardian);
  await mined(distributor.getFunction('vetoRoot')(2, 'epoch 2 over-credits a member') as never);

  const degraded = await waitFor('/healthz to report the veto', async () => {
    const body = await health();
    return body.settlement?.latestVeto ? body : undefined;
  });
  assert.equal(degraded.status, 'degraded');
  assert.deepEqual({ ...degraded.settlement!.latestVeto!, txHash: undefined }, { epoch: 2, reason: 'epoch 2 over-credits a member', guardian: guardian.address, txHash: undefined });
  assert.ok(degraded.problems.some((p) => /the root of epoch 2 was vetoed by guardian .*: epoch 2 over-credits a member/.test(p)), degraded.problems.join('; '));
  assert.equal((await epochInfo(2)).vetoed?.reason, 'epoch 2 over-credits a member');

  const vetoedClaim = await claim(member, 2);
  assert.equal(vetoedClaim.status, 422, JSON.stringify(vetoedClaim.body));
  assert.match(vetoedClaim.body.error!, /epoch 2, whose root was vetoed .*: sign again for epoch 1, the latest final one/);
  const vetoedProposal = await propose(member, 2);
  assert.equal(vetoedProposal.status, 422, JSON.stringify(vetoedProposal.body));

  // The next root supersedes the vetoed one: /healthz is no longer degraded by it, and once final it is used.
  await settleEpoch(3);
  await waitFor('/healthz to drop the superseded veto', async () => !(await health()).settlement?.latestVeto);
  await chain.increaseTime(CHALLENGE_SECONDS);
  const proposal = await propose(member, 3);
  assert.equal(proposal.status, 202, JSON.stringify(proposal.body));
  const accepted = await claim(member, 3);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  await gateway.view.relayer!.flush();
});
