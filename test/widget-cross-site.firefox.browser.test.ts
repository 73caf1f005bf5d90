// The partner widget across sites in Firefox ESR (WebDriver BiDi): Firefox partitions the
// third-party frame's storage and has no IntersectionObserver v2, so consent takes a second click
// at another place, and the member's key comes from the first-party connect window.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Frame, Page } from 'puppeteer-core';
import { launchFirefox } from './helpers/firefox.js';
import { waitFor } from './helpers/wait-for.js';
import { DECOY_OPACITY, READ_IDENTITY, startWidgetRig, type WidgetRig } from './helpers/widget-rig.js';

async function widgetFrame(page: Page): Promise<Frame> {
  const handle = await page.waitForSelector('iframe', { timeout: 15_000 });
  const frame = await handle!.contentFrame();
  assert.ok(frame);
  await frame.waitForSelector('#start', { timeout: 15_000 });
  return frame;
}

async function state(frame: Frame): Promise<string | null> {
  return frame.$eval('main', (m) => m.getAttribute('data-state'));
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Where `selector` inside the frame is on the page. Computed from the two documents' rects:
 * puppeteer's ElementHandle.boundingBox needs BiDi's locateNodes by context, which this ESR lacks.
 */
async function boxOf(page: Page, frame: Frame, selector: string): Promise<Box> {
  await frame.waitForSelector(selector);
  const outer = (await page.evaluate(`(() => { const r = document.querySelector('iframe').getBoundingClientRect(); return { x: r.x, y: r.y }; })()`)) as { x: number; y: number };
  const inner = (await frame.evaluate(`(() => { const r = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; })()`)) as Box;
  return { x: outer.x + inner.x, y: outer.y + inner.y, width: inner.width, height: inner.height };
}

/** A real mouse click at the middle of `selector` inside the frame. */
async function clickIn(page: Page, frame: Frame, selector: string): Promise<void> {
  const box = await boxOf(page, frame, selector);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}

function members(rig: WidgetRig): string[] {
  return [...rig.gateway.view.hub.sessions.values()].flatMap((s) => s.identities.map((i) => i.member));
}

describe('partner widget across sites, Firefox', () => {
  let rig: WidgetRig;
  let browser: Browser;
  before(async () => {
    rig = await startWidgetRig();
    browser = await launchFirefox();
  });
  after(async () => {
    await browser?.close();
    await rig?.close();
  });

  test('one click on a transparent frame over a decoy only brings up the second confirmation elsewhere', async () => {
    const page = await browser.newPage();
    await page.goto(`${rig.partnerOrigin}/`);
    const frame = await widgetFrame(page);
    await page.evaluate(DECOY_OPACITY);
    await new Promise((r) => setTimeout(r, 800));
    const startBox = await boxOf(page, frame, '#start');
    await clickIn(page, frame, '#start');
    await waitFor('the confirmation', async () => (await state(frame)) === 'confirming', 3000);
    const confirmBox = await boxOf(page, frame, '#confirm');
    const overlaps = confirmBox.x < startBox.x + startBox.width && startBox.x < confirmBox.x + confirmBox.width && confirmBox.y < startBox.y + startBox.height && startBox.y < confirmBox.y + confirmBox.height;
    assert.ok(!overlaps, `"Yes, start" must be elsewhere than Start: ${JSON.stringify({ startBox, confirmBox })}`);
    // The decoy's second click, at the same place, lands on Cancel.
    await new Promise((r) => setTimeout(r, 400));
    await page.mouse.click(startBox.x + startBox.width / 2, startBox.y + startBox.height / 2);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(await state(frame), 'idle');
    assert.equal((await browser.pages()).length >= 1, true);
    assert.ok(!(await page.evaluate('window.__events.map((e) => e.type)') as string[]).includes('started'));
    await page.close();
  });

  test('two real clicks on the partner site: the first-party key mines, and the DAO page holds it', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    await page.goto(`${rig.partnerOrigin}/`);
    const frame = await widgetFrame(page);
    const known = members(rig);
    await new Promise((r) => setTimeout(r, 800));
    await clickIn(page, frame, '#start');
    await waitFor('the confirmation', async () => (await state(frame)) === 'confirming', 3000);
    await new Promise((r) => setTimeout(r, 400));
    await clickIn(page, frame, '#confirm');
    await waitFor('the frame to run', async () => (await state(frame)) === 'running', 30_000).catch(async (error: Error) => {
      throw new Error(`${error.message}; the frame says "${await frame.$eval('#status', (s) => s.textContent)}"`);
    });
    const address = await waitFor('a new member connected', () => members(rig).find((m) => !known.includes(m)), 20_000);
    await waitFor('credited work for that member', async () => {
      const res = await fetch(`${rig.daoOrigin}/api/members/${address}`);
      return ((await res.json()) as { work: number }).work > 0;
    }, 30_000);
    const app = await browser.newPage();
    await app.goto(`${rig.daoOrigin}/`);
    assert.equal(await app.evaluate(READ_IDENTITY), address, "the DAO's own page holds the key of the address that mined");
    await app.close();
    await page.close();
  });
});
