// The on-chain side of the contributor's page, built and served by a real gateway that settles on a
// real anvil chain: a member mines in Chromium, the epoch closes, the page verifies the member's
// proof against the root it reads from the chain itself and shows the work committed there, the
// member claims and votes through the relayer from the page, and the chain shows the results.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Interface, Wallet, ZeroHash, type Contract } from 'ethers';
import type { Browser, Page } from 'playwright-core';
import { ProposalKind, REINVESTMENT_BPS_PARAMETER, VoteSupport, spendingParameter } from '../protocol/dao/index.js';
import { loadArtifact } from '../server/chain/artifacts.js';
import { connectDao, writeDeployment, type DaoContracts } from '../server/chain/deploy.js';
import type { Gateway } from '../server/gateway.js';
import { DISTRIBUTOR_ABI, GOVERNOR_ABI, ROOT_PUBLISHED_EVENT, TOKEN_ABI, TREASURY_ABI } from '../web/chain/abi.js';
import type { NewProof, NewVote } from '../web/store/chain-records.js';
import { MEMBER_DB_VERSION, type ProofRow, type VoteRow } from '../web/store/schema.js';
import type { StoreMethod, StoreTestApi } from './browser/store-page.js';
import { launchChromium, startDevServer, type DevServer } from './helpers/browser.js';
import { answerConfirm } from './helpers/confirm.js';
import { TEST_VOTING_PERIOD_SECONDS, mined, startTestChain, workTree, type TestChain } from './helpers/chain.js';
import { getJson, startTestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

/** Longest epoch the gateway allows: the timer never closes an epoch by itself during the test. */
const EPOCH_SECONDS = 30 * 86_400;
/** Likewise the relayer's timer: the test flushes it, so each status is seen before it moves on. */
const RELAY_INTERVAL_MS = 3_600_000;

/**
 * Waits until the ledger's share count has not moved for half a second: after Stop no share is
 * in flight, so the epoch closed next holds every share the pool credited.
 */
async function ledgerSettled(gateway: Gateway): Promise<void> {
  let last = -1;
  await waitFor('the ledger to settle', async () => {
    const shares = (await gateway.view.ledger.totals()).shares;
    const settled = shares === last;
    last = shares;
    if (!settled) await new Promise((r) => setTimeout(r, 400));
    return settled;
  });
}

/** Mines on one thread from the page until the gateway holds `shares` accepted shares, then stops. */
async function mineInPage(page: Page, gateway: Gateway, shares: number): Promise<void> {
  await page.getByLabel('Threads').fill('1');
  await page.getByLabel('Threads').dispatchEvent('change');
  await page.getByRole('button', { name: 'Start contributing' }).click();
  await waitFor('accepted shares in the gateway', async () => (await gateway.view.ledger.totals()).shares >= shares, 30_000);
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.getByRole('button', { name: 'Start contributing' }).waitFor();
}

/** The value of `attribute` on the first element carrying it (CSS locators pierce open shadow roots). */
async function attr(page: Page, attribute: string, scope = ''): Promise<string | null> {
  const found = page.locator(`${scope} [${attribute}]`.trim()).first();
  if ((await found.count()) === 0) return null;
  return found.getAttribute(attribute, { timeout: 2000 });
}

/** Waits until the page shows `expected` in `attribute`, and says what it showed instead. */
async function untilShown(page: Page, attribute: string, expected: string, timeoutMs = 15_000, scope = ''): Promise<void> {
  let last: string | null = null;
  await waitFor(`${attribute}="${expected}"`, async () => (last = await attr(page, attribute, scope)) === expected, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}; the page shows ${JSON.stringify(last)}`);
  });
}

// Strings, not functions: tsx would wrap a function's inner helpers in __name(), absent in the page.
const READ_STORE = (store: string) => `new Promise((resolve, reject) => {
  const open = indexedDB.open('dao-member');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const all = open.result.transaction(${JSON.stringify(store)}).objectStore(${JSON.stringify(store)}).getAll();
    all.onsuccess = () => { resolve(all.result); open.result.close(); };
    all.onerror = () => reject(all.error);
  };
})`;

interface WatchedPage {
  page: Page;
  /** Uncaught page errors and console errors. */
  errors: string[];
  /** Every URL the page requested, from the first. */
  requests: string[];
  sockets: string[];
}

/** Opens `url` with every request, WebSocket and error recorded from before the navigation. */
async function openWatched(browser: Browser, url: string): Promise<WatchedPage> {
  const page = await browser.newPage();
  const watched: WatchedPage = { page, errors: [], requests: [], sockets: [] };
  page.on('pageerror', (error) => watched.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') watched.errors.push(`console: ${message.text()}`);
  });
  page.on('request', (request) => watched.requests.push(request.url()));
  page.on('websocket', (ws) => watched.sockets.push(ws.url()));
  await page.goto(url);
  return watched;
}

describe('on-chain DAO in the contributor app (real gateway, real anvil, Chromium)', () => {
  let chain: TestChain;
  let contracts: DaoContracts;
  let gateway: Gateway & { dataDir: string };
  let browser: Browser;
  let url: string;

  /** A gateway settling on the deployment in `deploymentFile`, its timers left to the test. */
  function settlingGateway(deploymentFile: string): Promise<Gateway & { dataDir: string }> {
    return startTestGateway({
      // As app.browser.test.ts: a share every few tenths of a second on one worker.
      startDifficulty: 1e-4,
      chainRpcUrl: chain.anvil.rpcUrl,
      chainDeploymentFile: deploymentFile,
      publisherKey: chain.anvil.accounts[0]!.privateKey,
      epochSeconds: EPOCH_SECONDS,
      epochReward: '100',
      relayIntervalMs: RELAY_INTERVAL_MS,
    });
  }

  before(async () => {
    chain = await startTestChain();
    contracts = connectDao(chain.deployment, chain.provider);
    const deploymentFile = join(mkdtempSync(join(tmpdir(), 'chain-browser-')), 'deployment.json');
    writeDeployment(deploymentFile, chain.deployment);
    gateway = await settlingGateway(deploymentFile);
    url = gateway.httpUrl.endsWith('/') ? gateway.httpUrl : `${gateway.httpUrl}/`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
    await chain?.stop();
  });

  test('the ABI fragments the page calls match the compiled contracts', () => {
    const pairs: [readonly string[], 'RewardDistributor' | 'WorkGovernor' | 'Treasury' | 'TestRewardToken'][] = [
      [DISTRIBUTOR_ABI, 'RewardDistributor'],
      [[ROOT_PUBLISHED_EVENT], 'RewardDistributor'],
      [GOVERNOR_ABI, 'WorkGovernor'],
      [TREASURY_ABI, 'Treasury'],
      [TOKEN_ABI, 'TestRewardToken'],
    ];
    for (const [fragments, name] of pairs) {
      const compiled = new Interface(loadArtifact(name).abi);
      for (const fragment of new Interface(fragments).fragments) {
        const full = fragment.format('full');
        const match = compiled.fragments.find((f) => f.type === fragment.type && f.format('full') === full);
        assert.ok(match, `${name} has no ${full}`);
      }
    }
  });

  test('mine, settle, verify against the chain, claim and vote: the page and the chain agree', async (t) => {
    const { page, errors, requests, sockets } = await openWatched(browser, url);

    // Before consent: the page reads the chain (through anvil's CORS) and starts nothing.
    await untilShown(page, 'data-chain', 'enabled');
    await untilShown(page, 'data-proposals', '0');
    // The panels may render their first (empty) state before the first chain read goes out.
    await waitFor('the page to read the chain itself', async () => requests.some((u) => u.startsWith(chain.anvil.rpcUrl)), 10_000);
    assert.equal(page.workers().length, 0, 'no worker before consent');
    assert.deepEqual(sockets, [], 'no pool connection before consent');
    assert.equal(await attr(page, 'data-consent'), 'none');
    // Nothing mined yet: the next close is only a boundary, which passes without a close unless work comes in.
    await page.waitForSelector('[data-epoch-needs-work]', { timeout: 10_000 }).catch(() => assert.fail('the page does not say that an epoch without work does not close'));

    await mineInPage(page, gateway, 5);
    const address = (await attr(page, 'data-address')) ?? '';
    assert.match(address, /^0x[0-9a-fA-F]{40}$/);
    await ledgerSettled(gateway);

    const closed = await gateway.view.settlement!.closeEpoch();
    assert.equal(closed?.epoch, 1);
    await waitFor('epoch 1 on-chain', async () => (await contracts.distributor.getFunction('latestEpoch')()) === 1n);

    const credit = (await getJson(`${url}api/members/${address}`)).body as { work: number };
    const expectedWork = BigInt(Math.round(credit.work));
    const leaf = (await getJson(`${url}api/epochs/1/proof/${address}`)).body as { cumulativeWork: string; cumulativeReward: string };
    assert.equal(BigInt(leaf.cumulativeWork), expectedWork, 'the settlement rounds the pool credit to whole expected hashes');
    await untilShown(page, 'data-proof-verified', 'true');
    assert.equal(await attr(page, 'data-proof-epoch'), '1');
    assert.equal(await attr(page, 'data-work-onchain'), expectedWork.toString(), 'committed on-chain = credited by the pool');
    assert.equal(await attr(page, 'data-work-pool'), expectedWork.toString());
    const localWork = Number(await attr(page, 'data-work-local'));
    t.diagnostic(`work: local ${localWork}, pool ${credit.work}, on-chain ${expectedWork}`);
    // A share the pool accepted as Stop closed the connection is credited but never answered here.
    assert.ok(localWork > 0 && localWork <= Math.round(credit.work), `counted locally ${localWork}, credited ${credit.work}`);
    const reward = BigInt(leaf.cumulativeReward);
    assert.ok(reward > 0n);
    await untilShown(page, 'data-claimable', reward.toString());
    assert.equal(await attr(page, 'data-token-balance'), '0');

    // Every share this device saw accepted is in epoch 1's audit bundle (the checker loads on demand).
    await page.getByTestId('check-shares').click();
    await untilShown(page, 'data-share-audit', 'complete');
    const checked = Number(await attr(page, 'data-share-audit-checked'));
    assert.ok(checked > 0, `the device checked its ${checked} accepted shares`);
    assert.ok(requests.some((u) => u.endsWith('/api/epochs/1/audit')), 'the page downloaded the bundle itself');

    // Claim through the relayer: signed in the page, sent by the gateway.
    const balanceOf = contracts.token.getFunction('balanceOf');
    // Cancel signs nothing: no POST of a claim, no status, the same amount still claimable.
    const posts: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(new URL(request.url()).pathname);
    });
    await page.getByTestId('claim').click();
    await answerConfirm(page, /Claim .+ for epoch 1 to 0x[0-9a-fA-F]{40}/, 'Cancel');
    await page.waitForTimeout(500);
    assert.deepEqual(posts, [], 'nothing sent after Cancel');
    assert.equal(await attr(page, 'data-claim-status'), null, 'no claim after Cancel');
    assert.equal(await attr(page, 'data-claimable'), reward.toString());
    assert.equal(await gateway.view.relayer!.flush().then(() => balanceOf(address)), 0n);
    await page.getByTestId('claim').click();
    const claimText = await answerConfirm(page, /Claim .+ for epoch 1 to 0x[0-9a-fA-F]{40}/);
    assert.ok(claimText.includes(address), `the claim names the recipient: ${claimText}`);
    await untilShown(page, 'data-claim-status', 'queued');
    await gateway.view.relayer!.flush();
    assert.equal(await balanceOf(address), reward, 'the member received the cumulative reward');
    await untilShown(page, 'data-token-balance', reward.toString());
    await untilShown(page, 'data-claimable', '0');
    await untilShown(page, 'data-claim-status', 'confirmed');

    // A signal proposal from the page's form, pinned to epoch 1, relayed.
    const governor = contracts.governor as Contract;
    await page.getByLabel('Description').fill('Buy a GPU for the pool');
    await page.getByRole('button', { name: 'Sign and propose' }).click();
    await answerConfirm(page, /Sign a proposal "Buy a GPU for the pool": a signal \(text only\), as 0x[0-9a-fA-F]{40}/);
    await page.locator('[data-proposal-sent]').waitFor({ timeout: 10_000 });
    await gateway.view.relayer!.flush();
    assert.equal(await governor.getFunction('proposalCount')(), 1n);
    const proposal = page.locator('[data-proposal-id="1"]');
    await proposal.waitFor({ timeout: 10_000 });
    assert.match((await proposal.locator('h3').textContent()) ?? '', /Buy a GPU for the pool/);
    assert.equal(await proposal.getAttribute('data-state'), 'active');

    // The member votes For; the relayer submits the ballot with the member's leaf.
    await proposal.locator('[data-vote="For"]').click();
    await answerConfirm(page, new RegExp(`Sign a vote FOR proposal #1 "Buy a GPU for the pool" \\(signal\\) as ${address}`));
    await untilShown(page, 'data-vote-status', 'queued');
    await gateway.view.relayer!.flush();
    const onChain = (await governor.getFunction('getProposal')(1n)) as { forWork: bigint; againstWork: bigint };
    assert.equal(onChain.forWork, expectedWork, "the vote weighs the member's committed work");
    assert.equal(onChain.againstWork, 0n);
    await untilShown(page, 'data-vote-status', 'confirmed');
    assert.equal(await proposal.locator('[data-tally="for"]').getAttribute('data-work'), expectedWork.toString());
    assert.equal(await proposal.locator('[data-vote]').count(), 0, 'no second vote offered');

    // A parameter change from the form: the second signature of this proposer uses nonce 1.
    await page.getByLabel('Kind').selectOption({ label: 'Change the reinvested share' });
    await page.getByLabel('Description').fill('Reinvest a fifth in hardware');
    await page.getByLabel(/New reinvested share/).fill('20');
    await page.getByRole('button', { name: 'Sign and propose' }).click();
    await answerConfirm(page, /Sign a proposal "Reinvest a fifth in hardware": set the reinvested share to 20%/);
    await page.locator('[data-proposal-sent]').waitFor({ timeout: 10_000 });
    await gateway.view.relayer!.flush();
    const change = (await governor.getFunction('getProposal')(2n)) as { kind: bigint; parameter: string; value: bigint; epoch: bigint };
    assert.deepEqual([change.kind, change.parameter, change.value, change.epoch], [1n, REINVESTMENT_BPS_PARAMETER, 2000n, 1n]);
    await page.locator('[data-proposal-id="2"]').getByText('set the reinvested share to 20%').waitFor({ timeout: 10_000 });

    // The treasury: epoch 1's reinvested share came in; the member proposes spending part of it.
    const held = (await contracts.treasury.getFunction('balance')()) as bigint;
    assert.ok(held >= 10n ** 18n, `the treasury holds epoch 1's reinvested share (${held})`);
    await untilShown(page, 'data-treasury-balance', held.toString());
    await untilShown(page, 'data-treasury-history', '1');
    assert.match((await page.locator('[data-treasury-entry="inflow"]').textContent()) ?? '', /reinvested share of epoch 1/);
    const recipient = Wallet.createRandom().address;
    await page.getByLabel('Kind').selectOption({ label: 'Spend from the treasury' });
    await page.getByLabel('Description').fill('Rent a rack for a month');
    await page.getByLabel('Recipient address').fill(recipient);
    await page.getByLabel(/^Amount/).fill('1');
    await page.getByLabel('For', { exact: true }).selectOption('hosting');
    await page.getByRole('button', { name: 'Sign and propose' }).click();
    await answerConfirm(page, new RegExp(`Sign a proposal "Rent a rack for a month": pay 1 \\S+ to ${recipient} for hosting from the treasury`));
    // The previous proposal's "sent" line may still show: wait for the request itself.
    await waitFor('the spending at the relayer', async () => (await getJson(`${url}api/proposals/requests/${address}`)).body.requests.length === 3, 10_000);
    await gateway.view.relayer!.flush();
    const spending = (await governor.getFunction('getProposal')(3n)) as { kind: bigint; parameter: string; value: bigint };
    assert.deepEqual([spending.kind, spending.parameter, spending.value], [BigInt(ProposalKind.Spending), spendingParameter(recipient, 'hosting'), 10n ** 18n]);
    const spendingItem = page.locator('[data-proposal-id="3"]');
    await spendingItem.getByText(`pay 1`).waitFor({ timeout: 10_000 });
    await spendingItem.locator('[data-vote="For"]').click();
    await answerConfirm(page, new RegExp(`Sign a vote FOR proposal #3 "Rent a rack for a month" \\(pay 1 \\S+ to ${recipient} for hosting\\)`));
    await spendingItem.locator('[data-vote-status="queued"]').waitFor({ timeout: 10_000 });
    await gateway.view.relayer!.flush();
    assert.equal(((await governor.getFunction('getProposal')(3n)) as { forWork: bigint }).forWork, expectedWork, 'a spending is voted on like any proposal');
    await spendingItem.locator('[data-vote-status="confirmed"]').waitFor({ timeout: 10_000 });

    // What the device kept: the verified proof and the vote with its outcome.
    const proofs = (await page.evaluate(READ_STORE('proofs'))) as { id: string; verified: boolean; cumulativeWork: string; root: string }[];
    const root = ((await contracts.distributor.getFunction('epochs')(1)) as { root: string }).root;
    assert.deepEqual(
      proofs.map((p) => [p.id, p.verified, p.cumulativeWork, p.root]),
      [[`1:${address}`, true, expectedWork.toString(), root]],
    );
    const votes = (await page.evaluate(READ_STORE('votes'))) as { id: string; support: number; relayStatus: string; onChain: boolean }[];
    assert.deepEqual(
      votes.map((v) => [v.id, v.support, v.relayStatus, v.onChain]),
      [[`1:${address}`, 1, 'confirmed', true], [`3:${address}`, 1, 'confirmed', true]],
    );

    // A gateway that serves a doctored leaf is caught: the page checks against the chain's root.
    await page.route('**/api/epochs/*/proof/*', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { cumulativeWork: string };
      body.cumulativeWork = (BigInt(body.cumulativeWork) * 2n).toString();
      await route.fulfill({ response, json: body });
    });
    await page.reload();
    await untilShown(page, 'data-proof-verified', 'false');
    assert.equal(await attr(page, 'data-work-onchain'), '', 'no committed work is shown for a leaf that does not verify');
    assert.equal(await page.getByTestId('claim').isDisabled(), true);
    await page.unroute('**/api/epochs/*/proof/*');
    assert.equal(page.workers().length, 0, 'a reload starts nothing by itself');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('with an injected wallet as the identity: it signs, and claims from the wallet itself', async () => {
    // The wallet stand-in forwards EIP-1193 requests to anvil, whose dev accounts are unlocked:
    // eth_signTypedData_v4 and eth_sendTransaction are answered by the node, as a wallet would.
    const wallet = chain.wallets[3]!;
    const context = await browser.newContext();
    try {
      await context.addInitScript(`window.ethereum = {
        async request({ method, params }) {
          const res = await fetch(${JSON.stringify(chain.anvil.rpcUrl)}, { method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: params ?? [] }) });
          const body = await res.json();
          if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code, data: body.error.data });
          return body.result;
        },
      };`);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      await page.goto(url);
      await untilShown(page, 'data-chain', 'enabled');
      await page.evaluate(`new Promise((resolve, reject) => {
        const open = indexedDB.open('dao-member');
        open.onsuccess = () => {
          const tx = open.result.transaction('identity', 'readwrite');
          tx.objectStore('identity').put({ address: ${JSON.stringify(wallet.address)}, source: 'injected', createdAtMs: Date.now() }, 'member');
          tx.oncomplete = () => { open.result.close(); resolve(); };
          tx.onerror = () => reject(tx.error);
        };
        open.onerror = () => reject(open.error);
      })`);
      await page.reload();
      await untilShown(page, 'data-address', wallet.address);
      await page.getByTestId('claim-wallet').waitFor();

      await page.getByLabel('Threads').fill('1');
      await page.getByLabel('Threads').dispatchEvent('change');
      await page.getByRole('button', { name: 'Start contributing' }).click();
      await waitFor('shares of the wallet address', async () => (await gateway.view.ledger.member(wallet.address)).shares >= 3, 30_000);
      await page.getByRole('button', { name: 'Stop' }).click();
      await page.getByRole('button', { name: 'Start contributing' }).waitFor();
      await ledgerSettled(gateway);
      // The gateway leaves one of the member's shares out of epoch 2 (its first, surely answered).
      const ledgerFile = new Database(join(gateway.dataDir, 'ledger.sqlite'));
      try {
        const dropped = ledgerFile.prepare('DELETE FROM shares WHERE id = (SELECT min(id) FROM shares WHERE member = ? AND id > (SELECT last_share_id FROM epochs WHERE epoch = 1))').run(wallet.address);
        assert.equal(dropped.changes, 1, 'one share row deleted before the close');
      } finally {
        ledgerFile.close();
      }
      assert.equal((await gateway.view.settlement!.closeEpoch())?.epoch, 2);
      await waitFor('epoch 2 on-chain', async () => (await contracts.distributor.getFunction('latestEpoch')()) === 2n);
      const leaf = (await getJson(`${url}api/epochs/2/proof/${wallet.address}`)).body as { cumulativeWork: string; cumulativeReward: string };
      await untilShown(page, 'data-proof-epoch', '2');
      await untilShown(page, 'data-proof-verified', 'true');
      await untilShown(page, 'data-claimable', leaf.cumulativeReward);

      // The member's check finds the share the gateway left out.
      await page.getByTestId('check-shares').click();
      await untilShown(page, 'data-share-audit', 'missing');
      assert.equal(await attr(page, 'data-share-audit-missing'), '1', 'exactly the one share left out');
      assert.equal(await page.locator('[data-missing-share]').count(), 1);

      // The wallet sends the claim and pays its gas: the distributor records it as the submitter.
      await page.getByTestId('claim-wallet').click();
      await answerConfirm(page, new RegExp(`Claim .+ for epoch 2 to ${wallet.address}.*Your wallet sends the transaction`));
      await waitFor('the wallet claim mined', async () => (await contracts.token.getFunction('balanceOf')(wallet.address)) === BigInt(leaf.cumulativeReward));
      const [claimed] = await contracts.distributor.queryFilter(contracts.distributor.filters['Claimed']!(wallet.address));
      assert.equal((claimed as unknown as { args: { submitter: string } }).args.submitter, wallet.address, 'claimed by the wallet, not the relayer');
      await untilShown(page, 'data-token-balance', leaf.cumulativeReward);

      // A vote signed by the wallet on proposal 1, pinned to epoch 1 when this address had no work:
      // the relayer checks the signature first, so its refusal names the missing weight, in plain words.
      await page.locator('[data-proposal-id="1"] [data-vote="Against"]').click();
      await answerConfirm(page, new RegExp(`Sign a vote AGAINST proposal #1 .* as ${wallet.address}`));
      const refusal = await page.locator('[data-vote-error]').textContent({ timeout: 10_000 });
      assert.match(refusal ?? '', /has no work in epoch 1, the epoch this proposal weighs/, 'the refusal in plain words');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test('proposals past their vote: Executed, Superseded, Expired; and an ended vote with no new block is not Active', async () => {
    // A DAO of its own on the same chain, shown to the page in place of the gateway's: its proposals
    // need members with ether and a short execution window, and the gateway's own stay as they are.
    const windowSeconds = 2 * 3600;
    const { deployment, contracts: dao } = await chain.deploy({ executionWindowSeconds: windowSeconds });
    const [member, other] = [chain.wallets[4]!, chain.wallets[5]!];
    const tree = workTree([[member.address, 700n, 7n], [other.address, 300n, 3n]]);
    await mined(dao.distributor.publishRoot(1, tree.root, tree.totalWork, 10n, 0n, ZeroHash));
    const governor = dao.governor.connect(member) as Contract;
    const proposeAndPass = async (kind: ProposalKind, description: string, value = 0n): Promise<bigint> => {
      const parameter = kind === ProposalKind.ParameterChange ? REINVESTMENT_BPS_PARAMETER : `0x${'00'.repeat(32)}`;
      await mined(governor.getFunction('propose')({ kind, epoch: 1, parameter, value, description }, tree.leaf(member.address)));
      const id = (await governor.getFunction('proposalCount')()) as bigint;
      await mined(governor.getFunction('castVote')(id, VoteSupport.For, tree.leaf(member.address)));
      return id;
    };
    const older = await proposeAndPass(ProposalKind.ParameterChange, 'reinvest everything', 10_000n);
    const newer = await proposeAndPass(ProposalKind.ParameterChange, 'reinvest 5 %', 500n);
    const unexecuted = await proposeAndPass(ProposalKind.Signal, 'nobody executes this');
    await chain.increaseTime(TEST_VOTING_PERIOD_SECONDS + 60);
    await mined(governor.getFunction('execute')(newer));
    await chain.increaseTime(windowSeconds + 60);
    // The last one ends 2 s after the chain's latest block, and no block follows.
    const between = await proposeAndPass(ProposalKind.Signal, 'ends between blocks');
    const voteEnd = ((await governor.getFunction('getProposal')(between)) as { voteEnd: bigint }).voteEnd;
    await chain.provider.send('evm_setNextBlockTimestamp', [Number(voteEnd) - 2]);
    await chain.provider.send('evm_mine', []);
    const head = await chain.provider.getBlockNumber();

    const page = await browser.newPage();
    try {
      await page.route('**/api/chain', async (route) => {
        const response = await route.fetch();
        const info = (await response.json()) as Record<string, unknown>;
        await route.fulfill({ response, json: { ...info, distributor: deployment.distributor, governor: deployment.governor, deployBlock: deployment.deployBlock } });
      });
      await page.goto(url);
      await untilShown(page, 'data-proposals', '4');
      const stateOf = (id: bigint) => page.locator(`[data-proposal-id="${id}"] [data-proposal-state]`);
      assert.equal(await stateOf(older).getAttribute('data-proposal-state'), 'superseded');
      assert.match((await stateOf(older).textContent()) ?? '', /Superseded/);
      assert.equal(await stateOf(newer).getAttribute('data-proposal-state'), 'executed');
      assert.match((await stateOf(newer).textContent()) ?? '', /Executed/);
      assert.equal(await stateOf(unexecuted).getAttribute('data-proposal-state'), 'expired');
      assert.match((await stateOf(unexecuted).textContent()) ?? '', /Expired/);
      assert.match((await page.locator(`[data-proposal-id="${older}"] .meta`).textContent()) ?? '', /a newer decision on the same parameter was applied first/);
      // The contract says Active at the latest block; chain time (that block plus the wall time
      // since the page saw it) passes the end within a poll or two.
      await waitFor('the ended vote shown as ended', async () => (await stateOf(between).getAttribute('data-proposal-state')) === 'succeeded', 12_000);
      assert.equal(await dao.governor.getFunction('state')(between), 0n, 'the contract, at the latest block, still says Active');
      assert.equal(await chain.provider.getBlockNumber(), head, 'no block was mined meanwhile');
    } finally {
      await page.close();
    }
  });

  test('the challenge window: "claimable from <time>" while a guardian may veto the root, "vetoed: <reason>" after', async () => {
    // A DAO of its own, with a challenge period and a guardian, behind a gateway of its own (another
    // origin, so the page starts with a fresh member identity).
    const guardian = chain.wallets[4]!;
    const challengeSeconds = 3600n;
    const dao = await chain.deploy({ guardian: guardian.address, challengePeriodSeconds: Number(challengeSeconds) });
    const deploymentFile = join(mkdtempSync(join(tmpdir(), 'chain-browser-challenge-')), 'deployment.json');
    writeDeployment(deploymentFile, dao.deployment);
    const challenged = await settlingGateway(deploymentFile);
    try {
      const { page, errors } = await openWatched(browser, challenged.httpUrl);
      await untilShown(page, 'data-chain', 'enabled');
      await mineInPage(page, challenged, 3);
      await ledgerSettled(challenged);
      assert.equal((await challenged.view.settlement!.closeEpoch())?.epoch, 1);
      const distributor = dao.contracts.distributor;
      await waitFor('epoch 1 on-chain', async () => (await distributor.getFunction('latestEpoch')()) === 1n);
      const publishedAt = ((await distributor.getFunction('epochs')(1)) as { publishedAt: bigint }).publishedAt;

      await untilShown(page, 'data-proof-verified', 'true');
      await untilShown(page, 'data-claimable-from', (publishedAt + challengeSeconds).toString());
      assert.match((await page.locator('[data-claimable-from]').textContent()) ?? '', /Epoch 1 claimable from .+ \(its challenge period/);
      assert.equal(await page.getByTestId('claim').isDisabled(), true, 'no claim while the root can be vetoed');

      await mined(distributor.connect(guardian).getFunction('vetoRoot')(1, 'the audit rebuilt another root') as never);
      await untilShown(page, 'data-root-vetoed', '1');
      assert.match((await page.locator('[data-root-vetoed]').textContent()) ?? '', /Epoch 1's root was vetoed: the audit rebuilt another root\./);
      assert.equal(await attr(page, 'data-claimable-from'), null);
      assert.equal(await page.getByTestId('claim').isDisabled(), true, 'never a claim against a vetoed root');
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await challenged.close();
    }
  });

  test('a gateway without a chain: one line, and no chain code loaded', async () => {
    const plain = await startTestGateway();
    try {
      const { page, errors, requests } = await openWatched(browser, plain.httpUrl);
      await untilShown(page, 'data-chain', 'disabled');
      assert.match((await page.locator('[data-chain="disabled"]').textContent()) ?? '', /settles on no chain/);
      assert.equal(await page.locator('dao-chain-panel, dao-proposals-panel').count(), 0);
      assert.ok(requests.some((u) => u.includes('/assets/main-')), 'requests are recorded from the start');
      assert.deepEqual(requests.filter((u) => /chain-session|proposals-panel|dao-chain-panel/.test(u)), [], 'the chain chunks are not fetched');
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await plain.close();
    }
  });

  test('a version 1 database is upgraded in place: records kept, proofs and votes indexed', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // A page of the app's origin that does not run the app, to write the old database first.
      await page.goto(`${url}healthz`);
      await page.evaluate(`new Promise((resolve, reject) => {
        const open = indexedDB.open('dao-member', 1);
        open.onupgradeneeded = () => {
          const db = open.result;
          db.createObjectStore('settings');
          db.createObjectStore('identity');
          const shares = db.createObjectStore('shares', { keyPath: 'id', autoIncrement: true });
          shares.createIndex('by-status', 'status');
          shares.createIndex('by-submittedAtMs', 'submittedAtMs');
          db.createObjectStore('accrual', { keyPath: 'atMs' });
          db.createObjectStore('proofs', { keyPath: 'id' }).put({ id: 'placeholder' });
          db.createObjectStore('votes', { keyPath: 'id' });
          open.transaction.objectStore('settings').put({ granted: true, grantedAtMs: 1000, mobileOptIn: false }, 'consent');
          open.transaction.objectStore('shares').add({ poolUrl: 'ws://x/stratum', jobId: '1', extranonce2: '00', nonce: '00000001', ntime: '00000002', difficulty: 0.001, submittedAtMs: 1, status: 'accepted', answeredAtMs: 2 });
        };
        open.onsuccess = () => { open.result.close(); resolve(); };
        open.onerror = () => reject(open.error);
      })`);
      await page.goto(url);
      await untilShown(page, 'data-consent', 'granted');
      await untilShown(page, 'data-local-accepted', '1');
      const shape = await page.evaluate(`new Promise((resolve, reject) => {
        const open = indexedDB.open('dao-member');
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['proofs', 'votes']);
          const count = tx.objectStore('proofs').count();
          count.onsuccess = () => {
            resolve({
              version: db.version,
              proofIndexes: [...tx.objectStore('proofs').indexNames],
              voteIndexes: [...tx.objectStore('votes').indexNames],
              proofs: count.result,
            });
            db.close();
          };
        };
        open.onerror = () => reject(open.error);
      })`);
      assert.deepEqual(shape, { version: MEMBER_DB_VERSION, proofIndexes: ['by-account'], voteIndexes: ['by-voter'], proofs: 0 });
      assert.equal(page.workers().length, 0, 'the kept consent starts nothing by itself');
    } finally {
      await context.close();
    }
  });
});

describe('proofs and votes in the member store (IndexedDB, schema version 2)', () => {
  let server: DevServer;
  let browser: Browser;
  let page: Page;
  const VOTER = '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf';
  const HASH = `0x${'ab'.repeat(32)}`;
  const SIGNATURE = `0x${'11'.repeat(64)}1b`;

  before(async () => {
    server = await startDevServer();
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(`${server.url}test/browser/store.html`);
    await page.waitForFunction(() => 'storeTest' in window, undefined, { timeout: 20_000 });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  function call<T>(method: StoreMethod, ...args: unknown[]): Promise<T> {
    return page.evaluate(([m, a]) => (window as unknown as { storeTest: StoreTestApi }).storeTest.call('chain-records', m, a), [method, args] as const) as Promise<T>;
  }

  const proof = (epoch: number, overrides: Partial<NewProof> = {}): NewProof => ({
    epoch,
    account: VOTER,
    cumulativeWork: 1000n * BigInt(epoch),
    cumulativeReward: 10n ** 18n * BigInt(epoch),
    epochWork: 1000n,
    epochReward: 10n ** 18n,
    proof: [HASH],
    root: HASH,
    verified: true,
    checkedAtMs: 5_000,
    ...overrides,
  });

  test('proofs: stored with amounts as decimal strings, the latest epoch found, malformed ones refused', async () => {
    assert.equal(await call('latestProof', VOTER), undefined);
    const second = await call<ProofRow>('saveProof', proof(2));
    assert.deepEqual(second, {
      id: `2:${VOTER}`,
      epoch: 2,
      account: VOTER,
      cumulativeWork: '2000',
      cumulativeReward: '2000000000000000000',
      epochWork: '1000',
      epochReward: '1000000000000000000',
      proof: [HASH],
      root: HASH,
      verified: true,
      checkedAtMs: 5_000,
    });
    await call('saveProof', proof(1));
    assert.equal((await call<ProofRow>('latestProof', VOTER)).epoch, 2, 'by epoch, not by insertion');
    await call('saveProof', proof(2, { verified: false, reason: 'the proof does not lead to the on-chain root of epoch 2' }));
    assert.equal((await call<ProofRow>('latestProof', VOTER)).verified, false, 'a re-check replaces the row');
    await assert.rejects(call('saveProof', proof(3, { proof: ['0x12'] })), /list of 32-byte hex hashes/);
    await assert.rejects(call('saveProof', proof(3, { cumulativeWork: -1n })), /cumulativeWork must be a non-negative bigint/);
    await assert.rejects(call('saveProof', proof(0)), /epoch must be an integer >= 1/);
    await assert.rejects(call('saveProof', proof(3, { account: 'me' })), /account must be an address/);
    assert.equal((await call<ProofRow>('latestProof', VOTER)).epoch, 2, 'refusals store nothing');
  });

  test('votes: one per proposal unless it failed; progress recorded; the chain has the last word', async () => {
    const vote: NewVote = { proposalId: 7n, voter: VOTER, support: 1, signature: SIGNATURE, signedAtMs: 1_000, relayId: '3', relayStatus: 'queued' };
    const row = await call<VoteRow>('saveVote', vote, 1_000);
    assert.deepEqual(row, { id: `7:${VOTER}`, proposalId: '7', voter: VOTER, support: 1, signature: SIGNATURE, signedAtMs: 1_000, relayId: '3', relayStatus: 'queued', onChain: false, updatedAtMs: 1_000 });
    await assert.rejects(call('saveVote', { ...vote, support: 0 }), /already voted on proposal 7 \(queued\)/);
    const unchanged = await call<VoteRow>('updateVote', 7n, VOTER, { relayStatus: 'queued' }, 2_000);
    assert.equal(unchanged.updatedAtMs, 1_000, 'no change, no write');
    const failed = await call<VoteRow>('updateVote', 7n, VOTER, { relayStatus: 'failed', relayError: 'NotAMember' }, 3_000);
    assert.deepEqual([failed.relayStatus, failed.relayError, failed.updatedAtMs], ['failed', 'NotAMember', 3_000]);
    const again = await call<VoteRow>('saveVote', { ...vote, support: 2, relayStatus: 'queued' }, 4_000);
    assert.equal(again.support, 2, 'a failed vote may be cast again');
    await call('updateVote', 7n, VOTER, { relayStatus: 'confirmed', txHash: HASH, onChain: true }, 5_000);
    const kept = await call<VoteRow>('updateVote', 7n, VOTER, { onChain: false }, 6_000);
    assert.deepEqual([kept.onChain, kept.relayStatus, kept.txHash], [true, 'confirmed', HASH]);
    assert.equal(await call('updateVote', 8n, VOTER, { onChain: true }), undefined, 'no row, nothing created');
    assert.deepEqual((await call<VoteRow[]>('votesOf', VOTER)).map((v) => v.id), [`7:${VOTER}`]);
    await assert.rejects(call('saveVote', { ...vote, proposalId: 9n, support: 3 }), /support must be 0, 1 or 2/);
    await assert.rejects(call('saveVote', { ...vote, proposalId: 9n, signature: '0x1234' }), /signature must be 65 bytes/);
    await assert.rejects(call('updateVote', 7n, VOTER, { relayStatus: 'lost' }), /relayStatus must be one of/);
  });
});
