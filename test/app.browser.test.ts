// The contributor's page, built, served by a real gateway: nothing runs before "Start contributing";
// then shares flow to the pool and into IndexedDB, survive a reload, and Stop ends every worker.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SigningKey, computeAddress } from 'ethers';
import { devices, type Browser, type Page } from 'playwright-core';
import type { Gateway } from '../server/gateway.js';
import { launchChromium, openPage } from './helpers/browser.js';
import { answerConfirm } from './helpers/confirm.js';
import { FAKE_PRESSURE, setPressure } from './helpers/fake-pressure.js';
import { startTestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

/** An attribute of the figure that carries it (CSS locators pierce the app's open shadow roots). */
async function figure(page: Page, attribute: string): Promise<string | null> {
  return page.locator(`[${attribute}]`).first().getAttribute(attribute, { timeout: 5000 });
}

// A string, not a function: tsx's transform would wrap a function's inner helpers in __name(),
// which does not exist in the page.
const READ_STORED_SHARES = `new Promise((resolve, reject) => {
  const open = indexedDB.open('dao-member');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const all = open.result.transaction('shares').objectStore('shares').getAll();
    all.onsuccess = () => { resolve(all.result); open.result.close(); };
    all.onerror = () => reject(all.error);
  };
})`;

/** Threads to 1: one worker, so that the tests do not compete with each other for the cores. */
async function oneThread(page: Page): Promise<void> {
  await page.getByLabel('Threads').fill('1');
  await page.getByLabel('Threads').dispatchEvent('change');
}

async function untilWorkersGone(page: Page, clicked = Date.now()): Promise<number> {
  while (page.workers().length > 0 && Date.now() - clicked < 2000) await new Promise((r) => setTimeout(r, 10));
  return Date.now() - clicked;
}

describe('contributor app (built, through the gateway)', () => {
  let gateway: Gateway;
  let browser: Browser;
  let url: string;

  before(async () => {
    // Difficulty 1e-4 (not the helper's 1e-5): a share every few tenths of a second on one worker,
    // not dozens a second, so the gateway in this process does not slow Playwright's own timing.
    gateway = await startTestGateway({ startDifficulty: 1e-4 });
    url = gateway.httpUrl.endsWith('/') ? gateway.httpUrl : `${gateway.httpUrl}/`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gateway?.close();
  });

  test('starts nothing before the click; shares flow, are kept, shown once and per identity, and Stop ends every worker', async (t) => {
    const sockets: string[] = [];
    const { page, errors } = await openPage(browser, url);
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.getByRole('button', { name: 'Start contributing' }).waitFor();
    assert.match((await figure(page, 'data-work-source')) ?? '', /^(practice|unknown)$/);
    await page.getByLabel('Threads').fill('1');
    await page.getByLabel('Threads').dispatchEvent('change');
    await page.waitForTimeout(500);
    assert.equal(page.workers().length, 0, 'no worker before the click');
    assert.equal(sockets.length, 0, `no pool connection before the click: ${sockets.join(', ')}`);
    assert.equal((await gateway.view.ledger.totals()).shares, 0, 'no share before the click');

    await page.getByRole('button', { name: 'Start contributing' }).click();
    await waitFor('accepted shares in the gateway', async () => (await gateway.view.ledger.totals()).shares > 0, 30_000);
    assert.equal(page.workers().length, 1, 'one worker for one thread');
    assert.ok(sockets.some((u) => u.endsWith('/stratum')), `a Stratum WebSocket opened: ${sockets.join(', ')}`);
    await waitFor('a share settled in IndexedDB', async () => Number(await figure(page, 'data-local-accepted')) > 0, 10_000);
    const stored = await page.evaluate<{ status: string; nonce: string }[]>(READ_STORED_SHARES);
    assert.ok(stored.some((s) => s.status === 'accepted' && /^[0-9a-f]{8}$/.test(s.nonce)), `accepted shares in IndexedDB: ${stored.length}`);

    const clicked = Date.now();
    await page.getByRole('button', { name: 'Stop' }).click();
    const elapsedMs = await untilWorkersGone(page, clicked);
    assert.equal(page.workers().length, 0, 'every worker is gone');
    t.diagnostic(`workers ended ${elapsedMs} ms after Stop`);
    assert.ok(elapsedMs < 250, `workers ended ${elapsedMs} ms after Stop`);
    await page.getByRole('button', { name: 'Start contributing' }).waitFor();

    const localAccepted = Number(await figure(page, 'data-local-accepted'));
    assert.ok(localAccepted > 0);
    await page.reload();
    await page.getByRole('button', { name: 'Start contributing' }).waitFor();
    await waitFor('the history after a reload', async () => Number(await figure(page, 'data-local-accepted')) >= localAccepted, 5000);
    await page.waitForTimeout(300);
    assert.equal(page.workers().length, 0, 'a reload starts nothing by itself');
    await waitFor('the pool credit', async () => Number(await figure(page, 'data-pool-shares')) > 0, 8000);

    // Each figure once, in one unit system; the device and the pool agree, or the page says why not.
    const figures = page.locator('dao-app section[aria-labelledby="figures"]');
    assert.equal(await page.locator('[data-local-accepted]').count(), 1, 'the device count appears once');
    assert.equal(await page.locator('[data-pool-shares]').count(), 1, 'the pool count appears once');
    const text = (await figures.textContent()) ?? '';
    assert.match(text, /Hash rate \(last 10 s\)/, 'the rate says its window');
    assert.doesNotMatch(text, /Mhashes|\b1 shares\b|Counted on this device|Credited by the pool/);
    await waitFor('the device and the pool agree, or the page says why', async () => {
      const local = Number(await figure(page, 'data-local-accepted'));
      const pool = Number(await figure(page, 'data-pool-shares'));
      return local === pool || (await page.locator('[data-shares-why]').count()) === 1;
    }, 8000);
    t.diagnostic(`shares: device ${await figure(page, 'data-local-accepted')}, pool ${await figure(page, 'data-pool-shares')}`);

    // Another identity: every local figure is its own, and its key is labelled imported.
    await page.getByLabel('Import a key').fill('0x' + '22'.repeat(32));
    await page.getByRole('button', { name: 'Import key' }).click();
    await answerConfirm(page, /Replace the key of/);
    const imported = computeAddress(new SigningKey('0x' + '22'.repeat(32)));
    await waitFor('the imported address', async () => (await figure(page, 'data-address')) === imported, 5000);
    await waitFor('the device count of the new identity', async () => (await figure(page, 'data-local-accepted')) === '0', 5000);
    await waitFor('the pool count of the new identity', async () => ['', '0'].includes((await figure(page, 'data-pool-shares')) ?? '-'), 8000);
    assert.equal(await figure(page, 'data-key-origin'), 'imported', 'an imported key is not "created in this browser"');
    assert.equal(await figure(page, 'data-session-accepted'), '0', 'the session count belongs to the previous identity');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('at 50% CPU use each worker is busy 40-60% of the time', async (t) => {
    const { page, errors } = await openPage(browser, url);
    await page.getByLabel('Threads').fill('1');
    await page.getByLabel('Threads').dispatchEvent('change');
    await page.getByLabel('CPU use').fill('50');
    await page.getByRole('button', { name: 'Start contributing' }).click();
    await waitFor('hashing', async () => Number(await figure(page, 'data-hashes-per-second')) > 0, 15_000);
    await page.waitForTimeout(5500);
    const share = Number(await figure(page, 'data-measured-cpu'));
    t.diagnostic(`measured CPU share at 50%: ${share}`);
    assert.ok(share >= 0.4 && share <= 0.6, `measured CPU share ${share} at 50%`);
    // The control acts on a running miner: at 100% the worker is hardly ever idle.
    await page.getByLabel('CPU use').fill('100');
    await page.waitForTimeout(5500);
    const full = Number(await figure(page, 'data-measured-cpu'));
    t.diagnostic(`measured CPU share at 100%: ${full}`);
    assert.ok(full >= 0.8, `measured CPU share ${full} at 100%`);

    // pauseWhenHidden (on by default): a hidden tab stops the workers, showing it again resumes.
    const setHidden = (hidden: boolean) =>
      page.evaluate(`Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} }); document.dispatchEvent(new Event('visibilitychange'))`);
    await setHidden(true);
    await untilWorkersGone(page);
    assert.equal(page.workers().length, 0, 'no worker while the tab is hidden');
    await setHidden(false);
    await waitFor('mining to resume when the tab is shown again', async () => page.workers().length === 1, 5000);
    await page.getByRole('button', { name: 'Stop' }).click();
    await untilWorkersGone(page);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('with "Use GPU" on, the WebGPU engine (SwiftShader here) finds shares the gateway accepts', async (t) => {
    // Its own gateway with the difficulty pinned: the CPU worker's many shares would otherwise
    // make vardiff raise it until the slow software GPU rarely finds one.
    const pinned = await startTestGateway({ startDifficulty: 1e-4, maxDifficulty: 1e-4 });
    t.after(() => pinned.close());
    const { page, errors } = await openPage(browser, pinned.httpUrl);
    await oneThread(page);
    await page.getByLabel('Use GPU').check();
    // SwiftShader hashes on the CPU, slowly: a full duty cycle finds the first share sooner.
    await page.getByLabel('CPU use').fill('100');
    await page.getByRole('button', { name: 'Start contributing' }).click();
    await waitFor('shares found by the webgpu engine accepted', async () => {
      const found = page.locator('[data-engine-accepted="webgpu"]');
      return (await found.count()) > 0 && Number(await found.getAttribute('data-accepted')) > 0;
    }, 45_000).catch(async (err: Error) => {
      const paused = await page.locator('[data-paused]').count() ? await figure(page, 'data-paused') : 'no';
      throw new Error(`${err.message}; paused: ${paused}; engines: ${await page.locator('dao-app section[aria-labelledby="figures"]').textContent()}`);
    });
    const adapter = (await figure(page, 'data-gpu')) ?? '';
    t.diagnostic(`GPU adapter shown: ${adapter}`);
    assert.ok(adapter.length > 0, 'the adapter is shown');
    assert.equal(page.workers().length, 1, 'the GPU engine runs on the page, beside the one CPU worker');
    await page.getByRole('button', { name: 'Stop' }).click();
    await untilWorkersGone(page);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('pauses on a low battery not charging and under Save-Data, with the reason, and resumes', async () => {
    // Headless Chromium reports a full, charging battery and no Save-Data; these stand-ins, set
    // before the app loads, are what a phone on 15% or with Data Saver on would report.
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    await page.addInitScript(`(() => {
      const battery = new EventTarget();
      battery.level = 0.15;
      battery.charging = false;
      const connection = new EventTarget();
      connection.saveData = false;
      Object.defineProperty(navigator, 'getBattery', { configurable: true, value: () => Promise.resolve(battery) });
      Object.defineProperty(navigator, 'connection', { configurable: true, get: () => connection });
      window.fakeBattery = battery;
      window.fakeConnection = connection;
    })()`);
    await page.goto(url);
    await oneThread(page);
    await page.getByRole('button', { name: 'Start contributing' }).click();
    await waitFor('the battery pause', async () => /battery is low \(15%\)/.test((await figure(page, 'data-paused')) ?? ''), 5000);
    await page.waitForTimeout(300);
    assert.equal(page.workers().length, 0, 'no worker on a low battery');
    await page.evaluate(`fakeBattery.charging = true; fakeBattery.dispatchEvent(new Event('chargingchange'))`);
    await waitFor('mining once the battery charges', async () => page.workers().length === 1, 5000);
    await page.evaluate(`fakeConnection.saveData = true; fakeConnection.dispatchEvent(new Event('change'))`);
    await waitFor('the Save-Data pause', async () => (await figure(page, 'data-paused')) === 'Data Saver is on', 5000);
    await untilWorkersGone(page);
    assert.equal(page.workers().length, 0, 'no worker under Save-Data');
    await page.evaluate(`fakeConnection.saveData = false; fakeConnection.dispatchEvent(new Event('change'))`);
    await waitFor('mining once Save-Data is off', async () => page.workers().length === 1, 5000);
    await page.getByRole('button', { name: 'Stop' }).click();
    await untilWorkersGone(page);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('under compute pressure the page says so: serious halves the CPU use, critical pauses, nominal restores', async () => {
    // A stand-in PressureObserver, set before the app loads; the test sends its records by hand.
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    await page.addInitScript(FAKE_PRESSURE);
    await page.goto(url);
    await oneThread(page);
    await page.getByLabel('CPU use').fill('60');
    await page.getByRole('button', { name: 'Start contributing' }).click();
    await waitFor('one worker', async () => page.workers().length === 1, 10_000);
    await setPressure(page, 'serious');
    await waitFor('the halved CPU use shown', async () => (await figure(page, 'data-running-percent')) === '30', 5000);
    assert.equal(await figure(page, 'data-pressure'), 'serious');
    await setPressure(page, 'critical');
    await waitFor('the pressure pause', async () => /critical load/.test((await figure(page, 'data-paused')) ?? ''), 5000);
    await untilWorkersGone(page);
    assert.equal(page.workers().length, 0, 'no worker under critical pressure');
    await setPressure(page, 'nominal');
    await waitFor('mining again at the full setting', async () => page.workers().length === 1 && (await page.locator('[data-running-percent]').count()) === 0, 10_000);
    await page.getByRole('button', { name: 'Stop' }).click();
    await untilWorkersGone(page);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('on a phone, Start waits for its own opt-in', async () => {
    const context = await browser.newContext({ ...devices['Pixel 7'] });
    const page = await context.newPage();
    await page.goto(url);
    const start = page.getByRole('button', { name: 'Start contributing' });
    await start.waitFor();
    assert.equal(await start.isDisabled(), true, 'Start is disabled before the phone opt-in');
    await page.getByLabel('I understand this runs on my phone').check();
    assert.equal(await start.isEnabled(), true, 'Start is enabled once it is ticked');
    await context.close();
  });

  test('shows the address, exports its key after a warning, and refuses a garbage import', async () => {
    const { page, errors } = await openPage(browser, url);
    await oneThread(page);
    await page.getByRole('button', { name: 'Start contributing' }).click();
    await waitFor('the member address', async () => /^0x[0-9a-fA-F]{40}$/.test((await figure(page, 'data-address')) ?? ''), 5000);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByRole('button', { name: 'Start contributing' }).waitFor();
    const address = (await figure(page, 'data-address')) ?? '';

    await page.getByRole('button', { name: 'Export key' }).click();
    await page.getByText('Anyone who sees this key').waitFor();
    await page.getByRole('button', { name: 'Show my key' }).click();
    const key = (await figure(page, 'data-exported-key')) ?? '';
    assert.match(key, /^0x[0-9a-f]{64}$/);
    assert.equal(computeAddress(new SigningKey(key)), address, 'the exported key is the address shown');
    await page.getByRole('button', { name: 'Close' }).click();

    await page.getByLabel('Import a key').fill('not a key at all');
    await page.getByRole('button', { name: 'Import key' }).click();
    const error = await page.locator('[data-identity-error]').textContent({ timeout: 5000 });
    assert.match(error ?? '', /not a private key/);
    assert.equal(await page.getByRole('dialog').count(), 0, 'garbage is refused before any question');
    assert.equal(await figure(page, 'data-address'), address, 'the address is kept');

    // A real key: the question names both addresses; Cancel keeps the old key, Confirm replaces it.
    const other = '0x' + '11'.repeat(32);
    const otherAddress = computeAddress(new SigningKey(other));
    const expected = new RegExp(`Replace the key of ${address} \\(its unclaimed rewards stay with that key\\) with ${otherAddress}`);
    await page.getByLabel('Import a key').fill(other);
    await page.getByRole('button', { name: 'Import key' }).click();
    await answerConfirm(page, expected, 'Cancel');
    await page.waitForTimeout(300);
    assert.equal(await figure(page, 'data-address'), address, 'Cancel keeps the key');
    await page.getByRole('button', { name: 'Import key' }).click();
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    await page.waitForTimeout(300);
    assert.equal(await figure(page, 'data-address'), address, 'Escape keeps the key');
    await page.getByRole('button', { name: 'Import key' }).click();
    await answerConfirm(page, expected);
    await waitFor('the imported address', async () => (await figure(page, 'data-address')) === otherAddress, 5000);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
