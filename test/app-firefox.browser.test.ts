// The contributor's main flow in the second engine: the built app served by a real gateway, opened
// in Firefox ESR (puppeteer-core over WebDriver BiDi): nothing runs before the click, the click is
// the consent, the WASM workers find shares the gateway accepts, and Stop stops.
// CPU only: WebGPU stays a Chromium-only test (webgpu.browser.test.ts, app.browser.test.ts),
// because Firefox on Linux has no WebGPU adapter (navigator.gpu is absent or requestAdapter()
// answers null), so "Use GPU" has nothing to run on here.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';
import type { Gateway } from '../server/gateway.js';
import { launchFirefox, openFirefoxPage } from './helpers/firefox.js';
import { startTestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

/** An attribute of the first element carrying it; `pierce/` reaches into the app's open shadow roots. */
async function figure(page: Page, attribute: string): Promise<string | null> {
  const element = await page.$(`pierce/[${attribute}]`);
  return element ? element.evaluate((e, name) => e.getAttribute(name), attribute) : null;
}

/**
 * The miner's Start or Stop button, polled for: waitForSelector misses a button that Lit renders
 * into a shadow root later (seen over BiDi), and a text selector would also match the consent
 * note's "Start contributing".
 */
async function button(page: Page, which: 'start' | 'stop'): Promise<ElementHandle<Element>> {
  let found: ElementHandle<Element> | null = null;
  await waitFor(`the ${which} button`, async () => (found = await page.$(`pierce/button.${which}`)) !== null, 15_000).catch(async (err: Error) => {
    const buttons = await page.$$eval('pierce/button', (all) => all.map((b) => b.textContent?.trim()));
    throw new Error(`${err.message}; the buttons: ${buttons.join(', ')}`);
  });
  return found!;
}

describe('contributor app in Firefox (built, through the gateway)', () => {
  let gateway: Gateway;
  let browser: Browser;

  before(async () => {
    // As app.browser.test.ts: a share every few tenths of a second on one worker.
    gateway = await startTestGateway({ startDifficulty: 1e-4 });
    browser = await launchFirefox();
  });
  after(async () => {
    await browser?.close();
    await gateway?.close();
  });

  test('nothing before the click; the click is the consent; shares are accepted; Stop stops', { timeout: 120_000 }, async () => {
    const { page, errors } = await openFirefoxPage(browser, gateway.httpUrl);
    await button(page, 'start');
    assert.equal(await figure(page, 'data-consent'), 'none');
    // One worker, so that the test does not compete with the gateway for the cores.
    const threads = await page.$('pierce/#threads');
    assert.ok(threads, 'the Threads field');
    await threads.evaluate((input) => {
      (input as HTMLInputElement).value = '1';
      input.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await gateway.view.ledger.totals()).shares, 0, 'no share before the click');

    await (await button(page, 'start')).click();
    await waitFor('the consent recorded', async () => (await figure(page, 'data-consent')) === 'granted', 10_000);
    await waitFor('accepted shares in the gateway', async () => (await gateway.view.ledger.totals()).shares > 0, 60_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; page errors: ${errors.join('; ')}`);
    });
    await waitFor('a share settled in IndexedDB', async () => Number(await figure(page, 'data-local-accepted')) > 0, 15_000);
    const address = (await figure(page, 'data-address')) ?? '';
    assert.match(address, /^0x[0-9a-fA-F]{40}$/);
    assert.ok((await gateway.view.ledger.member(address)).shares > 0, 'credited to the address the page shows');

    await (await button(page, 'stop')).click();
    await button(page, 'start');
    // Stopped means no more shares: the count settles and stays.
    await new Promise((r) => setTimeout(r, 500));
    const stopped = (await gateway.view.ledger.totals()).shares;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await gateway.view.ledger.totals()).shares, stopped, 'no share after Stop');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
