// The treasury end to end: a member mines, the settlement publishes epoch 1 (its reinvested share
// goes to the Treasury), GET /api/treasury lists the inflow; a spending proposal the Treasury would
// refuse is refused by the relayer with the reason before any gas; a valid one is relayed, voted
// on, executed by the relayer, and listed as a payment.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Wallet, ZeroAddress, keccak256, toUtf8Bytes, type HDNodeWallet } from 'ethers';
import type { TreasuryResponse, OnWire } from '../protocol/api.js';
import { BALLOT_TYPES, PROPOSAL_REQUEST_TYPES, ProposalKind, VoteSupport, governorDomain, spendingParameter, type SpendingCategory } from '../protocol/dao/index.js';
import type { Relayer } from '../server/relayer/relayer.js';
import { TEST_VOTING_PERIOD_SECONDS, startTestChain, type TestChain } from './helpers/chain.js';
import { getJson, startSettlingGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

let chain: TestChain;
let gateway: Awaited<ReturnType<typeof startSettlingGateway>>;
let relayer: Relayer;
let api: string;
/** A fresh key that never held ether: the relayer pays for everything it does. */
const alice = Wallet.createRandom();
const recipient = Wallet.createRandom().address;
let reinvested: bigint;

before(async () => {
  chain = await startTestChain();
  gateway = await startSettlingGateway(chain, { relayIntervalMs: 3_600_000 });
  relayer = gateway.view.relayer!;
  api = gateway.httpUrl + 'api/';
  const miner = await TestMiner.tcp(gateway.stratumPort);
  try {
    await miner.login(`${alice.address}.rig`);
    const share = await miner.findShare({ worker: `${alice.address}.rig`, extranonce2: '0'.repeat(miner.extranonce2Size * 2) });
    assert.equal((await miner.submit(share.params)).result, true, 'share accepted');
  } finally {
    miner.close();
  }
  const settlement = gateway.view.settlement!;
  assert.ok(await settlement.closeEpoch(), 'epoch 1 closed');
  await waitFor('epoch 1 published', async () => (await settlement.store.epoch(1))?.status === 'published');
  reinvested = (await settlement.store.epoch(1))!.reinvested;
  assert.ok(reinvested > 0n, 'epoch 1 reinvests a share');
});

after(async () => {
  await gateway?.close();
  await chain?.stop();
});

const treasury = async (): Promise<OnWire<TreasuryResponse>> => {
  const { status, body } = await getJson(api + 'treasury');
  assert.equal(status, 200, JSON.stringify(body));
  return body;
};

async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(api + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function signedSpending(signer: HDNodeWallet, to: string, amount: bigint, description: string, category: SpendingCategory = 'hardware') {
  const governor = chain.contracts.governor;
  const nonce = (await governor.nonces(signer.address)) as bigint;
  const request = { kind: ProposalKind.Spending, epoch: 1, parameter: spendingParameter(to, category), value: amount, description };
  const domain = governorDomain(chain.deployment.chainId, chain.deployment.governor);
  const signature = await signer.signTypedData(domain, PROPOSAL_REQUEST_TYPES, { proposer: signer.address, ...request, descriptionHash: keccak256(toUtf8Bytes(description)), nonce });
  return { proposer: signer.address, ...request, value: amount.toString(), nonce: nonce.toString(), signature };
}

test("GET /api/treasury lists the epoch's reinvested share as an inflow, and the balance", async () => {
  const view = await treasury();
  assert.equal(view.address, chain.deployment.treasury);
  assert.equal(view.balance, reinvested.toString());
  assert.equal(view.history.length, 1, JSON.stringify(view.history));
  const [inflow] = view.history;
  assert.deepEqual({ ...inflow, txHash: undefined, blockNumber: undefined }, { kind: 'inflow', epoch: '1', amount: reinvested.toString(), txHash: undefined, blockNumber: undefined });
  const chainInfo = (await getJson(api + 'chain')).body;
  assert.equal(chainInfo.treasury, chain.deployment.treasury, '/api/chain names the treasury');
});

test('spendings the Treasury would refuse are refused with the reason (422) before any gas is spent', async () => {
  const gasNonce = await chain.provider.getTransactionCount(relayer.address);
  const cases: [Awaited<ReturnType<typeof signedSpending>>, RegExp][] = [
    [await signedSpending(alice, recipient, reinvested + 1n, 'more than there is'), new RegExp(`over the treasury's balance of ${reinvested} \\(AmountOverBalance\\)`)],
    [await signedSpending(alice, ZeroAddress, 1n, 'to nobody'), /zero address is refused: .*\(ZeroRecipient\)/],
    [await signedSpending(alice, recipient, 0n, 'nothing'), /a spending of 0 is refused: .*\(ZeroAmount\)/],
    [await signedSpending(alice, recipient, 1n, '  '), /needs a description: .*\(EmptyDescription\)/],
  ];
  for (const [request, message] of cases) {
    const { status, body } = await post('proposals', request);
    assert.equal(status, 422, JSON.stringify(body));
    assert.match(body.error, message);
  }
  const badCategory = { ...(await signedSpending(alice, recipient, 1n, 'x')), parameter: '0x' + '04'.padStart(24, '0') + recipient.slice(2).toLowerCase() };
  const refused = await post('proposals', badCategory);
  assert.equal(refused.status, 400, 'a parameter other than the one signed fails the signature first');
  await relayer.flush();
  assert.equal(await chain.provider.getTransactionCount(relayer.address), gasNonce, 'no transaction was sent');
  assert.equal(await chain.contracts.governor.proposalCount(), 0n);
});

test('a passed spending is executed by the relayer once and listed as a payment', async () => {
  const amount = reinvested / 2n;
  const accepted = await post('proposals', await signedSpending(alice, recipient, amount, 'two GPUs for the pool', 'partner'));
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  await relayer.flush();
  const { body } = await getJson(api + 'proposals');
  assert.deepEqual(
    body.proposals.map((p: { id: string; kind: number; value: string; parameter: string; description: string }) => [p.id, p.kind, p.value, p.parameter, p.description]),
    [['1', ProposalKind.Spending, amount.toString(), spendingParameter(recipient, 'partner'), 'two GPUs for the pool']],
  );
  const domain = governorDomain(chain.deployment.chainId, chain.deployment.governor);
  const ballot = { proposalId: 1n, support: VoteSupport.For, voter: alice.address };
  const vote = await post('votes', { ...ballot, proposalId: '1', signature: await alice.signTypedData(domain, BALLOT_TYPES, ballot) });
  assert.equal(vote.status, 202, JSON.stringify(vote.body));
  await relayer.flush();
  await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 60);
  await relayer.flush();
  assert.equal(await chain.contracts.token.balanceOf(recipient), amount, 'the recipient was paid');
  const view = await treasury();
  assert.equal(view.balance, (reinvested - amount).toString());
  assert.equal(view.history.length, 2);
  const payment = view.history[1]!;
  assert.equal(payment.kind, 'payment');
  assert.deepEqual(payment.kind === 'payment' && [payment.proposalId, payment.recipient, payment.amount, payment.category], ['1', recipient, amount.toString(), 'partner']);
  // Executed once: another round sends nothing, and the payment is listed once.
  const gasNonce = await chain.provider.getTransactionCount(relayer.address);
  await relayer.flush();
  assert.equal(await chain.provider.getTransactionCount(relayer.address), gasNonce);
  assert.equal((await treasury()).history.length, 2);
});
