// The partner widget on a genuinely different site, in Chromium: a partner page on 127.0.0.2
// embedding the widget from the gateway on 127.0.0.1. The member's key stays first-party (the
// connect window), consent cannot be clickjacked, and work pauses when the frame is not shown.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { launchChromium } from './helpers/browser.js';
import { waitFor } from './helpers/wait-for.js';
import { DECOY_COVER, DECOY_OPACITY, MOVE_BACK, MOVE_OFF_SCREEN, READ_IDENTITY, SHRINK, startWidgetRig, type WidgetRig } from './helpers/widget-rig.js';

interface Event {
  type: string;
  reason?: string;
  atMs: number;
}

async function events(page: Page): Promise<Event[]> {
  return page.evaluate('window.__events');
}

async function widgetFrame(page: Page): Promise<Frame> {
  const handle = await page.waitForSelector('iframe', { timeout: 15_000 });
  const frame = await handle.contentFrame();
  assert.ok(frame);
  await frame.waitForSelector('#start', { state: 'attached', timeout: 15_000 });
  return frame;
}

/**
 * A real mouse click at the middle of `selector` inside the frame (no actionability checks: a
 * covered or nearly transparent frame is clicked all the same). It waits for the element to have a
 * box: on a busy machine the frame may not be laid out yet when its script has run.
 */
async function clickIn(page: Page, frame: Frame, selector: string): Promise<void> {
  const box = await (await frame.waitForSelector(selector, { state: 'visible', timeout: 10_000 })).boundingBox();
  assert.ok(box, `${selector} has no box`);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}

async function state(frame: Frame): Promise<string | null> {
  return frame.$eval('main', (m) => m.getAttribute('data-state'));
}

async function memberWork(rig: WidgetRig, address: string): Promise<{ work: number; shares: number }> {
  const res = await fetch(`${rig.daoOrigin}/api/members/${address}`);
  assert.equal(res.status, 200);
  return (await res.json()) as { work: number; shares: number };
}

/**
 * Start on the partner page: the click opens the connect window on the DAO's origin, which answers
 * with the first-party member's address; shares follow for that address. Returns the address.
 */
async function consentAcrossSites(rig: WidgetRig, context: BrowserContext, page: Page): Promise<string> {
  const frame = await widgetFrame(page);
  const known = members(rig);
  await page.waitForTimeout(800);
  const popup = context.waitForEvent('page', { timeout: 10_000 });
  await clickIn(page, frame, '#start');
  const connect = await popup;
  assert.equal(new URL(connect.url()).origin, rig.daoOrigin);
  assert.equal(new URL(connect.url()).pathname, '/connect/connect.html');
  await waitFor('the frame to run', async () => (await state(frame)) === 'running', 20_000).catch(async (error: Error) => {
    throw new Error(`${error.message}; the frame says "${await frame.textContent('#status')}"`);
  });
  await waitFor('the connect window to close itself', () => connect.isClosed(), 5000);
  const address = await waitFor('a new member connected', () => members(rig).find((m) => !known.includes(m)), 20_000);
  await waitFor('shares credited to that member', async () => (await memberWork(rig, address)).shares > 0, 30_000);
  return address;
}

/** The members with a live connection to the gateway now. */
function members(rig: WidgetRig): string[] {
  return [...rig.gateway.view.hub.sessions.values()].flatMap((s) => s.identities.map((i) => i.member));
}

/** The member the DAO's own page (first-party, same browser context) holds. */
async function appIdentity(rig: WidgetRig, context: BrowserContext): Promise<string | null> {
  const app = await context.newPage();
  await app.goto(`${rig.daoOrigin}/`);
  const address = (await app.evaluate(READ_IDENTITY)) as string | null;
  await app.close();
  return address;
}

for (const variant of [
  // Playwright's Chromium disables storage partitioning: a third-party frame's IndexedDB is blocked.
  { name: 'third-party storage blocked (Playwright default)', args: [] as string[] },
  // A later --disable-features replaces Playwright's list, so partitioning is back on, as in Chrome.
  { name: 'storage partitioned (Chrome default)', args: ['--disable-features=MediaRouter'] },
]) {
  describe(`partner widget across sites, Chromium, ${variant.name}`, () => {
    let rig: WidgetRig;
    let browser: Browser;
    before(async () => {
      rig = await startWidgetRig();
      browser = await launchChromium(variant.args);
    });
    after(async () => {
      await browser?.close();
      await rig?.close();
    });

    test('the frame cannot keep a first-party key itself: its storage is blocked or partitioned', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${rig.partnerOrigin}/`);
      const frame = await widgetFrame(page);
      // The frame's own view of its storage: blocked (open fails) or a per-partner partition.
      const opened = await frame.evaluate(`new Promise((r) => { const o = indexedDB.open('probe'); o.onsuccess = () => r('opened'); o.onerror = () => r('blocked'); })`);
      const app = await context.newPage();
      await app.goto(`${rig.daoOrigin}/connect/connect.html`);
      const probeFirstParty = await app.evaluate(`indexedDB.databases().then((d) => d.some((x) => x.name === 'probe'))`);
      assert.equal(probeFirstParty, false, `the frame's storage (${String(opened)}) is not the DAO's first-party storage`);
      console.log(`${variant.name}: the frame's IndexedDB ${String(opened)}`);
      await context.close();
    });

    // The duty cycle does not depend on the storage policy: measured once, in the first variant.
    if (variant.args.length === 0) test('the widget holds the partner\'s CPU ceiling and pauses for Save-Data, telling the host page', { timeout: 120_000 }, async () => {
      const context = await browser.newContext();
      // Headless Chromium reports no Save-Data: a stand-in in every frame, as Data Saver would report it.
      await context.addInitScript(`(() => {
        const connection = new EventTarget();
        connection.saveData = false;
        Object.defineProperty(navigator, 'connection', { configurable: true, get: () => connection });
        window.fakeConnection = connection;
      })()`);
      const page = await context.newPage();
      await page.goto(`${rig.partnerOrigin}/?attrs=${encodeURIComponent(`data-dao-origin="${rig.daoOrigin}" data-max-cpu="30"`)}`);
      const address = await consentAcrossSites(rig, context, page);
      const frame = await widgetFrame(page);
      // The worker's busy share over its last 5 s, once a full window has passed at the ceiling.
      await page.waitForTimeout(6000);
      const share = Number(await frame.$eval('main', (m) => m.getAttribute('data-cpu-share')));
      assert.ok(share >= 0.2 && share <= 0.4, `measured CPU share ${share} at a ceiling of 30% (tolerance 0.1, as the app's)`);
      await frame.evaluate(`fakeConnection.saveData = true; fakeConnection.dispatchEvent(new Event('change'))`);
      await waitFor('the Save-Data pause reaches the host page', async () => (await events(page)).some((e) => e.type === 'paused' && e.reason === 'save-data'), 5000);
      assert.equal(await state(frame), 'paused');
      // Shares in flight get their answers (the session drains up to 2 s); after that nothing more.
      await page.waitForTimeout(2500);
      const sharesPaused = (await memberWork(rig, address)).shares;
      await page.waitForTimeout(2000);
      assert.equal((await memberWork(rig, address)).shares, sharesPaused, 'no share while Save-Data holds');
      await frame.evaluate(`fakeConnection.saveData = false; fakeConnection.dispatchEvent(new Event('change'))`);
      await waitFor('resumed once Save-Data is off', async () => (await events(page)).some((e) => e.type === 'resumed' && e.reason === 'save-data'), 5000);
      assert.equal(await state(frame), 'running');
      await context.close();
    });

    test('consent from the partner site uses the first-party key: the DAO page shows the same member and work', { timeout: 120_000 }, async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${rig.partnerOrigin}/`);
      const address = await consentAcrossSites(rig, context, page);
      await waitFor('credited work for the member', async () => (await memberWork(rig, address)).work > 0, 20_000);
      assert.equal(await appIdentity(rig, context), address, "the DAO's own page holds the key of the address that mined");
      const types = (await events(page)).map((e) => e.type);
      assert.ok(types.includes('started'), types.join(','));
      // The frame's storage never got a key of its own.
      const frame = await widgetFrame(page);
      const frameIdentity = await frame.evaluate(READ_IDENTITY).catch(() => null);
      assert.equal(frameIdentity, null, 'no key in the partitioned or blocked frame storage');
      await context.close();
    });

    if (variant.args.length > 0) return;

    test('IntersectionObserver v2 reports a clean frame visible, so one real click starts', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${rig.partnerOrigin}/`);
      const frame = await widgetFrame(page);
      const visible = await frame.evaluate(`new Promise((r) => { const o = new IntersectionObserver((es) => { r({ isVisible: es[0].isVisible, ratio: es[0].intersectionRatio }); o.disconnect(); }, { trackVisibility: true, delay: 100, threshold: [1] }); o.observe(document.querySelector('main')); })`);
      assert.deepEqual(visible, { isVisible: true, ratio: 1 });
      await context.close();
    });

    for (const [name, script] of [['nearly transparent over a decoy (opacity 0.01)', DECOY_OPACITY], ['covered by another element', DECOY_COVER]] as const) {
      test(`a click on a frame ${name} does not start anything`, async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(`${rig.partnerOrigin}/`);
        const frame = await widgetFrame(page);
        await page.evaluate(script);
        await page.waitForTimeout(1000);
        let popups = 0;
        context.on('page', () => popups++);
        await clickIn(page, frame, '#start');
        await page.waitForTimeout(1500);
        assert.equal(await state(frame), 'idle');
        assert.match((await frame.textContent('#status')) ?? '', /Not started: the widget is covered, transparent or distorted/);
        assert.equal(popups, 0, 'no connect window');
        assert.equal(page.workers().length, 0, 'no hashing worker');
        assert.ok(!(await events(page)).some((e) => e.type === 'started'));
        await context.close();
      });
    }

    test('a click right after the frame appears does not start (shown for less than 500 ms)', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${rig.partnerOrigin}/`);
      const frame = await widgetFrame(page);
      await page.evaluate(MOVE_OFF_SCREEN);
      await page.waitForTimeout(600);
      await page.evaluate(MOVE_BACK);
      await page.waitForTimeout(120);
      await clickIn(page, frame, '#start');
      await page.waitForTimeout(500);
      assert.equal(await state(frame), 'idle');
      assert.match((await frame.textContent('#status')) ?? '', /Not started/);
      await context.close();
    });

    test('the host page cannot start it with focus and keys', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${rig.partnerOrigin}/`);
      const frame = await widgetFrame(page);
      await page.waitForTimeout(800);
      await page.evaluate(`document.querySelector('iframe').focus()`);
      for (const key of ['Tab', 'Enter', 'Space', 'Tab', 'Enter', 'Space']) await page.keyboard.press(key);
      // Even with the Start button itself focused, a key press is not consent.
      await frame.focus('#start');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Space');
      await page.waitForTimeout(800);
      assert.equal(await state(frame), 'idle');
      assert.equal(page.workers().length, 0);
      assert.equal(context.pages().length, 1, 'no connect window');
      await context.close();
    });

    test('mining pauses within 1 s off-screen or at 1x1, hashing stops, and resumes when shown again', { timeout: 120_000 }, async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${rig.partnerOrigin}/`);
      await consentAcrossSites(rig, context, page);
      const frame = await widgetFrame(page);
      for (const [move, reason] of [[MOVE_OFF_SCREEN, 'off-screen'], [SHRINK, 'too-small']] as const) {
        const movedAtMs = (await page.evaluate(`(${move}, performance.now())`)) as number;
        await waitFor(`a paused event (${reason})`, async () => (await events(page)).some((e) => e.type === 'paused' && e.atMs > movedAtMs), 3000);
        const paused = (await events(page)).find((e) => e.type === 'paused' && e.atMs > movedAtMs)!;
        assert.equal(paused.reason, reason);
        assert.ok(paused.atMs - movedAtMs < 1000, `paused ${Math.round(paused.atMs - movedAtMs)} ms after the move`);
        assert.equal(await state(frame), 'paused');
        await page.waitForTimeout(400);
        const sharesPaused = (await rig.gateway.view.ledger.totals()).shares;
        await page.waitForTimeout(2000);
        assert.equal((await rig.gateway.view.ledger.totals()).shares, sharesPaused, `no share while paused (${reason})`);
        await page.evaluate(`(() => { ${MOVE_BACK}; const f = document.querySelector('iframe'); f.width = '320'; f.height = '140'; })()`);
        await waitFor('a resumed event', async () => (await events(page)).some((e) => e.type === 'resumed' && e.atMs > paused.atMs), 5000);
        const sharesResumed = (await rig.gateway.view.ledger.totals()).shares;
        await waitFor('shares again after resuming', async () => (await rig.gateway.view.ledger.totals()).shares > sharesResumed, 20_000);
      }
      await context.close();
    });

    test('a blocked connect window: the widget says so and nothing runs', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      // A partner that dropped allow-popups from the sandbox: window.open returns null, as a popup blocker makes it.
      await page.goto(`${rig.partnerOrigin}/?sandbox=${encodeURIComponent('allow-scripts allow-same-origin')}`);
      const frame = await widgetFrame(page);
      await page.waitForTimeout(800);
      await clickIn(page, frame, '#start');
      await waitFor('the error state', async () => (await state(frame)) === 'error', 10_000);
      assert.match((await frame.textContent('#status')) ?? '', /blocked the small 127\.0\.0\.1:\d+ window.*Allow pop-ups/);
      await page.waitForTimeout(500);
      assert.equal(page.workers().length, 0);
      await context.close();
    });

    test('bad loader attributes: one console error, no frame', async () => {
      const context = await browser.newContext();
      for (const attrs of [
        'data-size="compact"',
        `data-dao-origin="${rig.daoOrigin}/path"`,
        `data-dao-origin="${rig.daoOrigin}" data-max-cpu="101"`,
        `data-dao-origin="${rig.daoOrigin}" data-max-cpu="9"`,
        `data-dao-origin="${rig.daoOrigin}" data-max-cpu="fifty"`,
        `data-dao-origin="${rig.daoOrigin}" data-theme="blue"`,
        `data-dao-origin="${rig.daoOrigin}" data-size="huge" data-theme="blue"`,
        `data-dao-origin="${rig.daoOrigin}" data-referral="<x>"`,
      ]) {
        const page = await context.newPage();
        const messages: string[] = [];
        page.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
        await page.goto(`${rig.partnerOrigin}/?attrs=${encodeURIComponent(attrs)}`);
        await page.waitForTimeout(500);
        const errors = messages.filter((m) => m.startsWith('error: dao-widget'));
        assert.equal(errors.length, 1, `${attrs}: ${messages.join(' | ')}`);
        assert.match(errors[0]!, /not shown: data-/);
        assert.equal(await page.locator('iframe').count(), 0, attrs);
        await page.close();
      }
      const page = await context.newPage();
      await page.goto(`${rig.partnerOrigin}/?attrs=${encodeURIComponent(`data-dao-origin="${rig.daoOrigin}" data-max-cpu="25" data-size="full" data-theme="dark"`)}`);
      const src = new URL((await (await page.waitForSelector('iframe')).getAttribute('src'))!);
      assert.equal(src.searchParams.get('cpu'), '25');
      assert.equal(await page.locator('iframe').getAttribute('sandbox'), 'allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox allow-storage-access-by-user-activation');
      await context.close();
    });
  });
}
