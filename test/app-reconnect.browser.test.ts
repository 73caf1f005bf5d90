// The contributor's page when the gateway restarts mid-run: the miner reconnects and goes on,
// and the pool keeps every share it had acknowledged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchChromium, openPage } from './helpers/browser.js';
import { startTestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

test('the gateway restarts mid-run: the page reconnects and mining goes on', async () => {
  let gateway = await startTestGateway({ startDifficulty: 1e-4 });
  const { httpPort, stratumPort, dataDir } = gateway;
  const browser = await launchChromium();
  try {
    const { page } = await openPage(browser, gateway.httpUrl);
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.getByLabel('Threads').fill('1');
    await page.getByLabel('Threads').dispatchEvent('change');
    await page.getByRole('button', { name: 'Start contributing' }).click();
    await waitFor('shares before the restart', async () => (await gateway.view.ledger.totals()).shares >= 2, 30_000);

    await gateway.close();
    gateway = await startTestGateway({ startDifficulty: 1e-4, httpPort, stratumPort, dataDir });
    const kept = (await gateway.view.ledger.totals()).shares;
    assert.ok(kept >= 2, `the acknowledged shares are still in the ledger (${kept})`);
    await waitFor('shares after the restart', async () => (await gateway.view.ledger.totals()).shares >= kept + 2, 30_000);
    assert.ok(sockets.length >= 2, `the page opened a new pool connection (${sockets.length})`);
    assert.ok(page.workers().length >= 1, 'still mining');
    await page.getByRole('button', { name: 'Stop' }).click();
  } finally {
    await browser.close();
    await gateway.close();
  }
});
