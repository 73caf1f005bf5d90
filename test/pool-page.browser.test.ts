// The public pool page, built, served by a real gateway that settles on a real chain (anvil): after
// a short mining run and a closed epoch it draws its charts (uPlot canvases) from the ledger's
// history and the member's leaves, and says when the open epoch closes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from './helpers/browser.js';
import { startTestChain, type TestChain } from './helpers/chain.js';
import { startSettlingGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';

let chain: TestChain;
let gateway: Awaited<ReturnType<typeof startSettlingGateway>>;
let browser: Browser;
let member: string;

/** Real shares for `member`, each acknowledged (committed to the ledger) before the next. */
async function mine(count: number, from: number): Promise<void> {
  const miner = await TestMiner.tcp(gateway.stratumPort);
  try {
    await miner.login(`${member}.rig`);
    for (let i = from; i < from + count; i++) {
      const share = await miner.findShare({ worker: `${member}.rig`, extranonce2: i.toString(16).padStart(miner.extranonce2Size * 2, '0') });
      assert.equal((await miner.submit(share.params)).result, true, `share ${i} accepted`);
    }
  } finally {
    miner.close();
  }
}

before(async () => {
  chain = await startTestChain();
  member = chain.wallets[0]!.address;
  gateway = await startSettlingGateway(chain);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await gateway?.close();
  await chain?.stop();
});

/** A chart's data attributes once drawn, and whether uPlot put a canvas in it. */
async function chart(page: Page, name: string): Promise<{ points: number; nonzero: number; canvases: number }> {
  const host = page.locator(`[data-chart="${name}"][data-points]`);
  await host.waitFor({ timeout: 10_000 });
  return {
    points: Number(await host.getAttribute('data-points')),
    nonzero: Number(await host.getAttribute('data-nonzero')),
    canvases: await host.locator('canvas').count(),
  };
}

test('the pool page draws the last 24 h and the member history from real shares and a closed epoch', async () => {
  await mine(4, 0);
  const closed = await gateway.view.settlement!.closeEpoch();
  assert.equal(closed?.epoch, 1, 'epoch 1 closed over the shares');
  await mine(2, 4); // pending work in the open epoch 2

  const { page, errors } = await openPage(browser, `${gateway.httpUrl}pool.html?member=${member}`);
  const rate = await chart(page, 'pool-rate');
  assert.equal(rate.points, 288, '24 h of 5-minute buckets');
  assert.ok(rate.nonzero >= 1 && rate.nonzero <= 2, `the shares of the last seconds fill one or two buckets, got ${rate.nonzero}`);
  assert.ok(rate.canvases >= 1, `uPlot drew a canvas (errors: ${errors.join('; ')})`);
  const shares = await chart(page, 'pool-shares');
  assert.ok(shares.nonzero >= 1 && shares.canvases >= 1, JSON.stringify(shares));
  for (const name of ['member-work', 'member-reward']) {
    const history = await chart(page, name);
    assert.deepEqual([history.points, history.nonzero, history.canvases >= 1], [1, 1, true], `${name}: one closed epoch with the member's work`);
  }
  assert.equal(await page.getByText('Loading the pool').count(), 0, 'the loading line is gone');

  assert.equal(await page.locator('[data-current-epoch]').getAttribute('data-current-epoch'), '2');
  const open = (await page.locator('[data-current-epoch]').textContent()) ?? '';
  assert.match(open, /Epoch 2 is open: closes /);
  assert.doesNotMatch(open, /if any share comes in/, 'work is pending: it closes at the boundary');
  assert.equal(await page.locator('[data-epochs] tbody tr').count(), 1);
  assert.match((await page.locator('[data-epochs] tbody tr').textContent()) ?? '', new RegExp(closed!.root));
  assert.equal(await page.locator('[data-blocks]').getAttribute('data-blocks'), '0');
  assert.match((await page.locator('[data-blocks]').textContent()) ?? '', /none found/);
  assert.ok(Number(await page.locator('[data-pool-rate-5m]').getAttribute('data-pool-rate-5m')) > 0);
  assert.deepEqual(errors, [], 'no page errors');
});
