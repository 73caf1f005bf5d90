// The one ContributorSession (web/contributor/) in real Chromium against a real gateway: the duty
// cycle holds its setting and a caller can lower it but never raise it; a hidden tab, Save-Data
// and any caller's pause(reason) stop the hashing until every reason is gone; and each share is
// counted once: the session's tally, the IndexedDB records and the pool's credit agree.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Gateway } from '../server/gateway.js';
import type { ContributorTestApi } from './browser/contributor-page.js';
import { launchChromium, startDevServer, type DevServer } from './helpers/browser.js';
import { MEMBER, MEMBER_2, startTestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';
import { FAKE_PRESSURE, setPressure } from './helpers/fake-pressure.js';

type Api = ContributorTestApi;

/** Calls `method` of the page's contributorTest with `args`. */
function call<K extends keyof Api>(page: Page, method: K, ...args: Parameters<Api[K]>): Promise<Awaited<ReturnType<Api[K]>>> {
  return page.evaluate(
    ([m, a]) => (window as unknown as { contributorTest: Record<string, (...x: unknown[]) => unknown> }).contributorTest[m]!(...a),
    [method, args] as const,
  ) as Promise<Awaited<ReturnType<Api[K]>>>;
}

// Headless Chromium reports no Save-Data: this stand-in, set before the page loads, is what Data Saver reports.
const FAKE_CONNECTION = `(() => {
  const connection = new EventTarget();
  connection.saveData = false;
  Object.defineProperty(navigator, 'connection', { configurable: true, get: () => connection });
  window.fakeConnection = connection;
})()`;

const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate(`Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} }); document.dispatchEvent(new Event('visibilitychange'))`);
const setSaveData = (page: Page, on: boolean) => page.evaluate(`fakeConnection.saveData = ${on}; fakeConnection.dispatchEvent(new Event('change'))`);

async function hashesGrow(page: Page, ms = 700): Promise<boolean> {
  const before = (await call(page, 'stats')).hashes;
  await page.waitForTimeout(ms);
  return (await call(page, 'stats')).hashes > before;
}

describe('contributor session (Chromium, real gateway)', () => {
  let gateway: Gateway;
  let server: DevServer;
  let browser: Browser;
  let poolUrl: string;

  before(async () => {
    gateway = await startTestGateway({ startDifficulty: 1e-4 });
    poolUrl = `ws://127.0.0.1:${gateway.httpPort}/stratum`;
    server = await startDevServer();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await gateway?.close();
  });

  async function openTestPage(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    await page.addInitScript(FAKE_CONNECTION);
    await page.addInitScript(FAKE_PRESSURE);
    await page.goto(`${server.url}test/browser/contributor.html`);
    await page.waitForFunction(() => 'contributorTest' in window, undefined, { timeout: 30_000 });
    return { page, errors };
  }

  test('store mode: the duty cycle holds, a caller lowers it but cannot raise it, and tally = records = pool credit', async (t) => {
    const { page, errors } = await openTestPage();
    await call(page, 'create', { address: MEMBER, storage: 'indexeddb', dbName: 'contributor-test-a', poolUrl, threads: 1, cpuCeiling: 50 });
    await call(page, 'start');
    await waitFor('hashing', async () => (await call(page, 'stats')).hashes > 0, 15_000);
    assert.equal(page.workers().length, 1, 'one worker for one thread');
    await page.waitForTimeout(5500);
    const at50 = (await call(page, 'stats')).measuredCpuShare ?? -1;
    t.diagnostic(`measured CPU share at 50%: ${at50}`);
    assert.ok(at50 >= 0.4 && at50 <= 0.6, `measured CPU share ${at50} at 50%`);

    await call(page, 'limitCpu', 100);
    assert.equal((await call(page, 'stats')).cpuPercent, 50, 'a caller cannot raise the duty cycle above the user ceiling');
    await call(page, 'limitCpu', 20);
    assert.equal((await call(page, 'stats')).cpuPercent, 20);
    await page.waitForTimeout(5500);
    const at20 = (await call(page, 'stats')).measuredCpuShare ?? -1;
    t.diagnostic(`measured CPU share limited to 20%: ${at20}`);
    assert.ok(at20 >= 0.1 && at20 <= 0.3, `measured CPU share ${at20} at 20%`);
    await call(page, 'limitCpu', undefined);

    await waitFor('three accepted shares', async () => (await call(page, 'stats')).shares.accepted >= 3, 30_000);
    await call(page, 'stop');
    // The workers are terminated at once; Playwright hears of each a moment later (as app.browser polls).
    await waitFor('stop ends every worker', () => page.workers().length === 0, 1000);
    const { shares, recorded, state } = await call(page, 'stats');
    assert.equal(state, 'idle');
    assert.equal(shares.pending, 0, 'every share has its answer after stop');
    const stored = await call(page, 'storedByStatus', 'contributor-test-a');
    assert.deepEqual(stored, { pending: 0, accepted: shares.accepted, rejected: shares.rejected }, 'the records are the tally');
    assert.deepEqual(recorded, stored, 'the session shows the stored counts');
    await waitFor('the pool credit', async () => (await gateway.view.ledger.member(MEMBER)).shares === shares.accepted, 5000).catch(() => undefined);
    assert.equal((await gateway.view.ledger.member(MEMBER)).shares, shares.accepted, 'the pool credited exactly the accepted shares');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('address-only mode: pause(reason) holds while any reason holds; a hidden tab and Save-Data pause; nothing stored', async () => {
    const { page, errors } = await openTestPage();
    await call(page, 'create', { address: MEMBER_2, storage: 'none', poolUrl, threads: 1, cpuCeiling: 100 });
    await call(page, 'start');
    await waitFor('hashing', async () => (await call(page, 'stats')).hashes > 0, 15_000);

    await call(page, 'pause', 'out-of-view');
    await call(page, 'pause', 'partner-rule');
    // Playwright hears of a terminated worker a moment after the page ends it.
    await waitFor('no worker while paused', async () => page.workers().length === 0, 2000);
    assert.equal((await call(page, 'stats')).state, 'paused');
    assert.equal(await hashesGrow(page), false, 'no hashing while paused');
    await call(page, 'resume', 'out-of-view');
    assert.equal(page.workers().length, 0, 'still paused while another reason holds');
    await call(page, 'resume', 'partner-rule');
    await waitFor('hashing again', () => hashesGrow(page, 300), 10_000);
    assert.equal(page.workers().length, 1);

    await setHidden(page, true);
    await waitFor('the hidden-tab pause', async () => (await call(page, 'stats')).state === 'paused' && page.workers().length === 0, 5000);
    assert.deepEqual((await call(page, 'stats')).paused.map((p) => p.reason), ['hidden']);
    await setHidden(page, false);
    await waitFor('mining once the tab shows', async () => page.workers().length === 1 && (await call(page, 'stats')).state === 'mining', 5000);

    await setSaveData(page, true);
    await waitFor('the Save-Data pause', async () => (await call(page, 'stats')).state === 'paused' && page.workers().length === 0, 5000);
    assert.equal((await call(page, 'stats')).paused[0]?.detail, 'Data Saver is on');
    await setSaveData(page, false);
    await waitFor('mining once Save-Data is off', async () => page.workers().length === 1, 5000);

    await waitFor('an accepted share', async () => (await call(page, 'stats')).shares.accepted >= 1, 30_000);
    await call(page, 'stop');
    const { shares, recorded } = await call(page, 'stats');
    assert.equal(recorded, undefined, 'address-only mode stores nothing');
    assert.equal(shares.pending, 0);
    await waitFor('the pool credit', async () => (await gateway.view.ledger.member(MEMBER_2)).shares === shares.accepted, 5000).catch(() => undefined);
    assert.equal((await gateway.view.ledger.member(MEMBER_2)).shares, shares.accepted, 'the pool credited exactly the accepted shares');
    assert.deepEqual(await call(page, 'events'), [
      'paused:out-of-view', 'paused:partner-rule', 'resumed:out-of-view', 'resumed:partner-rule',
      'paused:hidden', 'resumed:hidden', 'paused:save-data', 'resumed:save-data',
    ]);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('compute pressure: serious halves the duty cycle, critical pauses, nominal restores both', async () => {
    const { page, errors } = await openTestPage();
    await call(page, 'create', { address: MEMBER_2, storage: 'none', poolUrl, threads: 1, cpuCeiling: 60 });
    await call(page, 'start');
    await waitFor('hashing', async () => (await call(page, 'stats')).hashes > 0, 15_000);
    assert.equal((await call(page, 'stats')).cpuPercent, 60);

    assert.equal(await setPressure(page, 'serious'), 1, 'the session observes the CPU pressure while it runs');
    await waitFor('the halved duty cycle', async () => (await call(page, 'stats')).cpuPercent === 30, 2000);
    const serious = await call(page, 'stats');
    assert.equal(serious.pressure, 'serious');
    assert.equal(serious.state, 'mining', 'serious pressure lowers the duty cycle, it does not pause');

    await setPressure(page, 'critical');
    await waitFor('the critical pause', async () => (await call(page, 'stats')).state === 'paused' && page.workers().length === 0, 5000);
    const critical = await call(page, 'stats');
    assert.deepEqual(critical.paused.map((p) => p.reason), ['pressure']);
    assert.match(critical.paused[0]!.detail, /critical load/);
    assert.equal(await hashesGrow(page), false, 'no hashing under critical pressure');

    await setPressure(page, 'nominal');
    await waitFor('mining again at the member setting', async () => {
      const s = await call(page, 'stats');
      return s.state === 'mining' && s.cpuPercent === 60 && s.paused.length === 0;
    }, 10_000);
    await waitFor('hashing again', () => hashesGrow(page, 300), 10_000);

    await call(page, 'stop');
    assert.equal(await setPressure(page, 'critical'), 0, 'a stopped session observes nothing');
    assert.equal((await call(page, 'stats')).pressure, undefined);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
