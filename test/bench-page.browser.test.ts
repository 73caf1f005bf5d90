// The page `npm start` serves: the built app in headless Chromium, through `vite preview`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { launchChromium, openPage, REPO_ROOT } from './helpers/browser.js';

describe('engine benchmark page (built app)', () => {
  let server: PreviewServer;
  let browser: Browser;
  let url: string;

  before(async () => {
    server = await preview({ configFile: `${REPO_ROOT}vite.config.ts`, logLevel: 'warn', preview: { port: 0, host: '127.0.0.1' } });
    url = server.resolvedUrls!.local[0]!;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server?.httpServer.close(() => resolve()));
  });

  test('starts nothing before the click, then checks and times every engine', async () => {
    const { page, errors } = await openPage(browser, `${url}bench.html?seconds=0.5`);
    await page.waitForSelector('dao-engine-bench');
    await page.waitForTimeout(300);
    assert.equal(page.workers().length, 0, 'no worker may start before the click');

    await page.getByRole('button', { name: 'Run benchmark' }).click();
    await page.locator('tr[data-engine="webgpu"]:not([data-status="waiting"]):not([data-status="running"])').waitFor({ timeout: 90_000 });
    const rows = await page.$$eval('tr[data-engine]', (trs) =>
      trs.map((tr) => ({
        engine: tr.getAttribute('data-engine'),
        workers: Number(tr.getAttribute('data-workers')),
        status: tr.getAttribute('data-status'),
        check: tr.children[2]!.textContent,
        rate: Number(tr.querySelector('[data-hashes-per-second]')!.getAttribute('data-hashes-per-second')),
        text: tr.textContent,
      })),
    );
    const engines = rows.map((r) => `${r.engine}x${r.workers}`);
    for (const name of ['wasmx1', 'wasm-simdx1', 'webgpux1']) assert.ok(engines.includes(name), `${name} in ${engines.join(', ')}`);
    for (const row of rows) {
      assert.equal(row.status, 'done', `${row.engine}: ${row.text} ${errors.join('; ')}`);
      assert.equal(row.check, 'finds the genesis nonce');
      assert.ok(row.rate > 1000, `${row.engine} x${row.workers} measured ${row.rate} H/s`);
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('Stop ends every worker at once', async () => {
    const { page } = await openPage(browser, `${url}bench.html?seconds=30`);
    await page.getByRole('button', { name: 'Run benchmark' }).click();
    await page.locator('tr[data-status="running"]').waitFor();
    await page.waitForFunction(() => document.querySelector('dao-engine-bench')!.shadowRoot!.querySelector('td[data-hashes-per-second]') !== null);
    await page.waitForTimeout(500);
    assert.ok(page.workers().length > 0, 'workers run while benchmarking');
    const clicked = Date.now();
    await page.getByRole('button', { name: 'Stop' }).click();
    while (page.workers().length > 0 && Date.now() - clicked < 2000) await new Promise((r) => setTimeout(r, 10));
    const elapsedMs = Date.now() - clicked;
    assert.equal(page.workers().length, 0, 'every worker is gone');
    assert.ok(elapsedMs < 250, `workers ended ${elapsedMs} ms after Stop`);
    await page.close();
  });
});
